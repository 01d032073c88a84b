//! Member accounts through the `Provider` trait: the EC2 and KMS rules the sim
//! enforces, access to accounts, fault injection and persistence of member state.

// The helpers below are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Instant;

use landfall_core::address::ADDRESS_TAG;
use landfall_core::live::{KeyState, LiveMember, member_key};
use landfall_core::model::{EndpointKind, Quotas, SimSettings, Tags};
use landfall_engine::TypedCalls;
use landfall_engine::provider::{
    CreateAccountRequest, CreateAccountStatus, EndpointModification, EndpointRequest, ErrorKind,
    MemberScope, Provider, ProviderError,
};
use landfall_sim::member::DEFAULT_ENDPOINT_POLICY;
use landfall_sim::{SimBackend, SimError};

const REGION: &str = "us-east-1";
const S3: &str = "com.amazonaws.us-east-1.s3";
const SSM: &str = "com.amazonaws.us-east-1.ssm";
const KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
const ENDPOINT_POLICY: &str =
    r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;

fn sim() -> SimBackend {
    SimBackend::in_memory(SimSettings::default(), Quotas::default())
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn no_tags() -> Tags {
    Tags::new()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn kind<T: std::fmt::Debug>(r: Result<T, ProviderError>) -> ErrorKind {
    r.unwrap_err().kind
}

fn other(code: &str) -> ErrorKind {
    ErrorKind::Other(code.into())
}

async fn new_account(p: &SimBackend, name: &str) -> String {
    let request = CreateAccountRequest {
        name: name.into(),
        email: format!("{name}@example.com"),
        tags: Tags::new(),
        role_name: "OrganizationAccountAccessRole".into(),
    };
    let id = p.create_account(&request).await.unwrap();
    loop {
        match p.create_account_status(&id).await.unwrap() {
            CreateAccountStatus::InProgress => continue,
            CreateAccountStatus::Succeeded { account_id } => return account_id,
            other => panic!("account creation failed: {other:?}"),
        }
    }
}

fn scope_of(account_id: &str, region: &str) -> MemberScope {
    MemberScope {
        account_id: account_id.into(),
        region: region.into(),
    }
}

/// A sim with one member account; returns the scope in `us-east-1`.
async fn member_sim_with(settings: SimSettings, quotas: Quotas) -> (SimBackend, MemberScope) {
    let p = SimBackend::in_memory(settings, quotas);
    let account = new_account(&p, "workload").await;
    (p, scope_of(&account, REGION))
}

async fn member_sim() -> (SimBackend, MemberScope) {
    member_sim_with(SimSettings::default(), Quotas::default()).await
}

async fn live(p: &SimBackend, s: &MemberScope) -> LiveMember {
    p.refresh_member(s).await.unwrap()
}

/// A VPC `10.0.0.0/16` with subnets in zones a and b.
struct Net {
    vpc: String,
    subnet_a: String,
    subnet_b: String,
}

async fn net(p: &SimBackend, s: &MemberScope) -> Net {
    let vpc = p.create_vpc(s, "10.0.0.0/16", &no_tags()).await.unwrap();
    let subnet_a = p
        .create_subnet(s, &vpc, "us-east-1a", "10.0.1.0/24", &no_tags())
        .await
        .unwrap();
    let subnet_b = p
        .create_subnet(s, &vpc, "us-east-1b", "10.0.2.0/24", &no_tags())
        .await
        .unwrap();
    Net {
        vpc,
        subnet_a,
        subnet_b,
    }
}

fn interface(vpc: &str, service: &str, subnets: &[&str], groups: &[&str]) -> EndpointRequest {
    EndpointRequest {
        vpc_id: vpc.into(),
        service_name: service.into(),
        kind: EndpointKind::Interface,
        subnet_ids: strings(subnets),
        security_group_ids: strings(groups),
        route_table_ids: vec![],
        private_dns: true,
        policy: None,
        tags: Tags::new(),
    }
}

fn gateway(vpc: &str, service: &str, tables: &[&str]) -> EndpointRequest {
    EndpointRequest {
        vpc_id: vpc.into(),
        service_name: service.into(),
        kind: EndpointKind::Gateway,
        subnet_ids: vec![],
        security_group_ids: vec![],
        route_table_ids: strings(tables),
        private_dns: false,
        policy: None,
        tags: Tags::new(),
    }
}

// ---- access --------------------------------------------------------------------------

#[tokio::test]
async fn a_new_member_is_empty_and_unknown_or_closed_accounts_cannot_be_entered() {
    let (p, s) = member_sim().await;
    assert_eq!(live(&p, &s).await, LiveMember::default());

    let unknown = scope_of("999999999999", REGION);
    let err = p.refresh_member(&unknown).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(
        err.message,
        "cannot assume OrganizationAccountAccessRole in account 999999999999: the account does not exist or is closed"
    );
    assert_eq!(
        kind(p.create_vpc(&unknown, "10.0.0.0/16", &no_tags()).await),
        ErrorKind::AccessDenied
    );

    // A closed account keeps its resources but cannot be entered.
    p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    p.close_account(&s.account_id).await.unwrap();
    assert_eq!(kind(p.refresh_member(&s).await), ErrorKind::AccessDenied);
    assert_eq!(
        kind(p.create_key(&s, "k", KEY_POLICY, &no_tags()).await),
        ErrorKind::AccessDenied
    );
    assert_eq!(p.member_snapshot(&s).vpcs.len(), 1);

    // The management account is a member like any other.
    let mgmt = p.snapshot().management_account_id;
    assert_eq!(
        live(&p, &scope_of(&mgmt, REGION)).await,
        LiveMember::default()
    );

    // Not a region name.
    let bad = scope_of(&mgmt, "Virginia");
    assert_eq!(kind(p.refresh_member(&bad).await), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn access_denied_names_the_configured_role() {
    let p = SimBackend::in_memory(SimSettings::default(), Quotas::default())
        .with_access_role("LandfallExecution");
    let err = p
        .refresh_member(&scope_of("123456789012", REGION))
        .await
        .unwrap_err();
    assert!(
        err.message
            .starts_with("cannot assume LandfallExecution in account 123456789012"),
        "{}",
        err.message
    );
    assert_eq!(err.api, "DescribeVpcs");
}

#[tokio::test]
async fn members_are_separate_per_account_and_region() {
    let (p, s) = member_sim().await;
    let west = scope_of(&s.account_id, "us-west-2");
    let other = scope_of(&new_account(&p, "other").await, REGION);
    p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    let k = p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
    p.put_alias(&s, "alias/data", &k).await.unwrap();
    assert!(live(&p, &west).await.vpcs.is_empty());
    assert!(live(&p, &other).await.keys.is_empty());
    // Aliases are unique per account and region only.
    let k2 = p
        .create_key(&west, "", KEY_POLICY, &no_tags())
        .await
        .unwrap();
    p.put_alias(&west, "alias/data", &k2).await.unwrap();
    assert_eq!(live(&p, &s).await.keys[&k].aliases, set(&["alias/data"]));
    assert_eq!(
        live(&p, &west).await.keys[&k2].aliases,
        set(&["alias/data"])
    );
    // Ids of one member mean nothing in another.
    let vpc = live(&p, &s).await.vpcs.into_keys().next().unwrap();
    assert_eq!(kind(p.delete_vpc(&west, &vpc).await), ErrorKind::NotFound);
    // Org refresh does not carry member data.
    assert!(p.refresh().await.unwrap().members.is_empty());
    let all = p.members_snapshot();
    assert_eq!(
        all.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            member_key(&s.account_id, REGION),
            member_key(&s.account_id, "us-west-2")
        ])
    );
}

// ---- ids -----------------------------------------------------------------------------

#[tokio::test]
async fn ids_look_like_aws_and_are_deterministic() {
    async fn run() -> Vec<String> {
        let (p, s) = member_sim_with(
            SimSettings {
                seed: 11,
                ..SimSettings::default()
            },
            Quotas::default(),
        )
        .await;
        let n = net(&p, &s).await;
        let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
        let sg = p
            .create_security_group(&s, &n.vpc, "endpoints", "443", "10.0.0.0/16", &no_tags())
            .await
            .unwrap();
        let e = p
            .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[&sg]))
            .await
            .unwrap();
        let k = p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
        vec![n.vpc, n.subnet_a, rt, sg, e, k]
    }
    let ids = run().await;
    assert_eq!(ids, run().await);
    for (id, prefix) in ids[..5]
        .iter()
        .zip(["vpc-", "subnet-", "rtb-", "sg-", "vpce-"])
    {
        let hex = id.strip_prefix(prefix).unwrap();
        assert_eq!(hex.len(), 17, "{id}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
    let key = uuid::Uuid::parse_str(&ids[5]).unwrap();
    assert_eq!(key.hyphenated().to_string(), ids[5]);
}

// ---- VPCs and subnets ----------------------------------------------------------------

#[tokio::test]
async fn create_vpc_takes_a_16_to_28_block_and_stores_tags() {
    let (p, s) = member_sim().await;
    let t = tags(&[(ADDRESS_TAG, "vpc.main"), ("team", "ml")]);
    let vpc = p.create_vpc(&s, "10.20.0.0/16", &t).await.unwrap();
    let m = live(&p, &s).await;
    assert_eq!(m.vpcs[&vpc].cidr, "10.20.0.0/16");
    assert_eq!(m.vpcs[&vpc].tags, t);
    p.create_vpc(&s, "192.168.0.0/28", &no_tags())
        .await
        .unwrap();
    for bad in [
        "10.0.0.0/15",
        "10.0.0.0/29",
        "10.0.0.1/16",
        "10.0.0.0",
        "nope",
        "fd00::/16",
    ] {
        let err = p.create_vpc(&s, bad, &no_tags()).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{bad}");
        assert_eq!(err.api, "CreateVpc");
    }
    let err = p
        .create_vpc(&s, "10.0.0.0/12", &no_tags())
        .await
        .unwrap_err();
    assert!(
        err.message.starts_with("InvalidVpc.Range"),
        "{}",
        err.message
    );
    // Tag rules.
    let too_many: Tags = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
    assert_eq!(
        kind(p.create_vpc(&s, "10.1.0.0/16", &too_many).await),
        other("TagLimitExceeded")
    );
    assert_eq!(
        kind(
            p.create_vpc(&s, "10.1.0.0/16", &tags(&[("aws:x", "y")]))
                .await
        ),
        ErrorKind::InvalidInput
    );
    assert_eq!(live(&p, &s).await.vpcs.len(), 2);
}

#[tokio::test]
async fn create_subnet_checks_vpc_range_overlap_and_zone() {
    let (p, s) = member_sim().await;
    let vpc = p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    let t = tags(&[(ADDRESS_TAG, "subnet.main.10.0.1.0/24")]);
    let a = p
        .create_subnet(&s, &vpc, "us-east-1a", "10.0.1.0/24", &t)
        .await
        .unwrap();
    let m = live(&p, &s).await;
    assert_eq!(m.subnets[&a].vpc_id, vpc);
    assert_eq!(m.subnets[&a].az, "us-east-1a");
    assert_eq!(m.subnets[&a].cidr, "10.0.1.0/24");
    assert_eq!(m.subnets[&a].tags, t);

    let err = p
        .create_subnet(
            &s,
            "vpc-00000000000000000",
            "us-east-1a",
            "10.0.2.0/24",
            &no_tags(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.starts_with("InvalidVpcID.NotFound"));

    let err = p
        .create_subnet(&s, &vpc, "us-east-1a", "10.1.0.0/24", &no_tags())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message.starts_with("InvalidSubnet.Range"),
        "{}",
        err.message
    );
    assert_eq!(
        kind(
            p.create_subnet(&s, &vpc, "us-east-1a", "10.0.0.0/29", &no_tags())
                .await
        ),
        ErrorKind::InvalidInput
    );

    for overlapping in ["10.0.1.0/24", "10.0.1.128/25", "10.0.0.0/23", "10.0.0.0/16"] {
        assert_eq!(
            kind(
                p.create_subnet(&s, &vpc, "us-east-1b", overlapping, &no_tags())
                    .await
            ),
            other("InvalidSubnet.Conflict"),
            "{overlapping}"
        );
    }
    for zone in ["us-west-2a", "us-east-1", "eu-west-1a", "a"] {
        assert_eq!(
            kind(
                p.create_subnet(&s, &vpc, zone, "10.0.9.0/24", &no_tags())
                    .await
            ),
            ErrorKind::InvalidInput,
            "{zone}"
        );
    }
    // The same block in another VPC is fine.
    let vpc2 = p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    p.create_subnet(&s, &vpc2, "us-east-1b", "10.0.1.0/24", &no_tags())
        .await
        .unwrap();
    assert_eq!(live(&p, &s).await.subnets.len(), 2);
}

#[tokio::test]
async fn delete_vpc_waits_for_every_dependency() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    let sg = p
        .create_security_group(&s, &n.vpc, "endpoints", "443", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    let e = p
        .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[&sg]))
        .await
        .unwrap();
    async fn dependency_of(p: &SimBackend, s: &MemberScope, vpc: &str) {
        let err = p.delete_vpc(s, vpc).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::DependencyViolation);
        assert!(!err.kind.is_retryable());
    }
    dependency_of(&p, &s, &n.vpc).await;
    p.delete_endpoint(&s, &e).await.unwrap();
    dependency_of(&p, &s, &n.vpc).await;
    p.delete_subnet(&s, &n.subnet_a).await.unwrap();
    p.delete_subnet(&s, &n.subnet_b).await.unwrap();
    dependency_of(&p, &s, &n.vpc).await; // route table and group
    p.delete_route_table(&s, &rt).await.unwrap();
    dependency_of(&p, &s, &n.vpc).await; // group
    p.delete_security_group(&s, &sg).await.unwrap();
    p.delete_vpc(&s, &n.vpc).await.unwrap();
    assert_eq!(live(&p, &s).await, LiveMember::default());
    assert_eq!(kind(p.delete_vpc(&s, &n.vpc).await), ErrorKind::NotFound);
    // Nothing left: the member is gone from the world.
    assert!(p.members_snapshot().is_empty());
}

#[tokio::test]
async fn delete_subnet_waits_for_endpoints_and_drops_its_association() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    p.associate_route_table(&s, &rt, &n.subnet_b).await.unwrap();
    let e = p
        .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[]))
        .await
        .unwrap();
    assert_eq!(
        kind(p.delete_subnet(&s, &n.subnet_a).await),
        ErrorKind::DependencyViolation
    );
    p.delete_subnet(&s, &n.subnet_b).await.unwrap();
    let m = live(&p, &s).await;
    assert!(m.route_tables[&rt].subnet_ids.is_empty());
    assert!(!m.subnets.contains_key(&n.subnet_b));
    p.delete_endpoint(&s, &e).await.unwrap();
    p.delete_subnet(&s, &n.subnet_a).await.unwrap();
    assert_eq!(
        kind(p.delete_subnet(&s, &n.subnet_a).await),
        ErrorKind::NotFound
    );
}

// ---- route tables ----------------------------------------------------------------------

#[tokio::test]
async fn route_tables_associate_move_and_refuse_deletion_while_used() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    assert_eq!(
        kind(
            p.create_route_table(&s, "vpc-00000000000000000", &no_tags())
                .await
        ),
        ErrorKind::NotFound
    );
    let t = tags(&[(ADDRESS_TAG, "route_table.main")]);
    let rt1 = p.create_route_table(&s, &n.vpc, &t).await.unwrap();
    let rt2 = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    p.associate_route_table(&s, &rt1, &n.subnet_a)
        .await
        .unwrap();
    p.associate_route_table(&s, &rt1, &n.subnet_b)
        .await
        .unwrap();
    // Again on the same table: nothing changes.
    p.associate_route_table(&s, &rt1, &n.subnet_b)
        .await
        .unwrap();
    let m = live(&p, &s).await;
    assert_eq!(
        m.route_tables[&rt1].subnet_ids,
        set(&[&n.subnet_a, &n.subnet_b])
    );
    assert_eq!(m.route_tables[&rt1].tags, t);
    assert_eq!(m.route_tables[&rt1].vpc_id, n.vpc);
    // Re-associating moves the subnet.
    p.associate_route_table(&s, &rt2, &n.subnet_b)
        .await
        .unwrap();
    let m = live(&p, &s).await;
    assert_eq!(m.route_tables[&rt1].subnet_ids, set(&[&n.subnet_a]));
    assert_eq!(m.route_tables[&rt2].subnet_ids, set(&[&n.subnet_b]));

    // Another VPC's subnet, unknown ids.
    let other = p.create_vpc(&s, "172.16.0.0/16", &no_tags()).await.unwrap();
    let foreign = p
        .create_subnet(&s, &other, "us-east-1a", "172.16.0.0/24", &no_tags())
        .await
        .unwrap();
    assert_eq!(
        kind(p.associate_route_table(&s, &rt1, &foreign).await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(
            p.associate_route_table(&s, "rtb-00000000000000000", &n.subnet_a)
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.associate_route_table(&s, &rt1, "subnet-00000000000000000")
                .await
        ),
        ErrorKind::NotFound
    );

    // Explicitly associated: DependencyViolation.
    let err = p.delete_route_table(&s, &rt1).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::DependencyViolation);
    assert_eq!(err.api, "DeleteRouteTable");
    // A console user disassociates it; then a gateway endpoint uses it.
    p.disassociate_route_table(&s, &n.subnet_a).await.unwrap();
    assert_eq!(
        kind(p.disassociate_route_table(&s, &n.subnet_a).await),
        ErrorKind::NotFound
    );
    let e = p
        .create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt1]))
        .await
        .unwrap();
    assert_eq!(
        kind(p.delete_route_table(&s, &rt1).await),
        ErrorKind::DependencyViolation
    );
    p.delete_endpoint(&s, &e).await.unwrap();
    p.delete_route_table(&s, &rt1).await.unwrap();
    assert_eq!(
        kind(p.delete_route_table(&s, &rt1).await),
        ErrorKind::NotFound
    );
}

// ---- security groups ---------------------------------------------------------------------

#[tokio::test]
async fn security_groups_have_unique_names_and_443_ingress() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let t = tags(&[(ADDRESS_TAG, "security_group.main")]);
    let sg = p
        .create_security_group(&s, &n.vpc, "endpoints", "VPC endpoints", "10.0.0.0/16", &t)
        .await
        .unwrap();
    let m = live(&p, &s).await;
    let g = &m.security_groups[&sg];
    assert_eq!(g.name, "endpoints");
    assert_eq!(g.vpc_id, n.vpc);
    assert_eq!(g.ingress_443, set(&["10.0.0.0/16"]));
    assert_eq!(g.tags, t);

    assert_eq!(
        kind(
            p.create_security_group(&s, &n.vpc, "endpoints", "again", "10.0.0.0/16", &no_tags())
                .await
        ),
        other("InvalidGroup.Duplicate")
    );
    let other_vpc = p.create_vpc(&s, "10.1.0.0/16", &no_tags()).await.unwrap();
    p.create_security_group(&s, &other_vpc, "endpoints", "x", "10.1.0.0/16", &no_tags())
        .await
        .unwrap();
    for (name, cidr) in [
        ("", "10.0.0.0/16"),
        ("sg-sneaky", "10.0.0.0/16"),
        ("fine", "10.0.0.1/16"),
        ("fine", "not a cidr"),
    ] {
        assert_eq!(
            kind(
                p.create_security_group(&s, &n.vpc, name, "d", cidr, &no_tags())
                    .await
            ),
            ErrorKind::InvalidInput,
            "{name} {cidr}"
        );
    }
    assert_eq!(
        kind(
            p.create_security_group(
                &s,
                "vpc-00000000000000000",
                "x",
                "d",
                "10.0.0.0/16",
                &no_tags()
            )
            .await
        ),
        ErrorKind::NotFound
    );

    // Ingress changes.
    p.set_security_group_ingress(&s, &sg, &strings(&["10.9.0.0/16", "192.168.1.0/24"]), &[])
        .await
        .unwrap();
    p.set_security_group_ingress(
        &s,
        &sg,
        &strings(&["172.16.0.0/12"]),
        &strings(&["10.0.0.0/16"]),
    )
    .await
    .unwrap();
    assert_eq!(
        live(&p, &s).await.security_groups[&sg].ingress_443,
        set(&["10.9.0.0/16", "172.16.0.0/12", "192.168.1.0/24"])
    );
    assert_eq!(
        kind(
            p.set_security_group_ingress(&s, &sg, &strings(&["10.9.0.0/16"]), &[])
                .await
        ),
        other("InvalidPermission.Duplicate")
    );
    assert_eq!(
        kind(
            p.set_security_group_ingress(&s, &sg, &[], &strings(&["10.0.0.0/16"]))
                .await
        ),
        other("InvalidPermission.NotFound")
    );
    assert_eq!(
        kind(
            p.set_security_group_ingress(&s, &sg, &strings(&["bad"]), &[])
                .await
        ),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(
            p.set_security_group_ingress(
                &s,
                "sg-00000000000000000",
                &strings(&["10.0.0.0/8"]),
                &[]
            )
            .await
        ),
        ErrorKind::NotFound
    );
    let many: Vec<String> = (0..60).map(|i| format!("11.{i}.0.0/16")).collect();
    assert_eq!(
        kind(p.set_security_group_ingress(&s, &sg, &many, &[]).await),
        other("RulesPerSecurityGroupLimitExceeded")
    );
    // Refused changes changed nothing.
    assert_eq!(live(&p, &s).await.security_groups[&sg].ingress_443.len(), 3);
}

#[tokio::test]
async fn delete_security_group_waits_for_endpoints() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let sg = p
        .create_security_group(&s, &n.vpc, "endpoints", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    let e = p
        .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[&sg]))
        .await
        .unwrap();
    let err = p.delete_security_group(&s, &sg).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::DependencyViolation);
    assert!(err.message.contains(&e), "{}", err.message);
    p.delete_endpoint(&s, &e).await.unwrap();
    p.delete_security_group(&s, &sg).await.unwrap();
    assert_eq!(
        kind(p.delete_security_group(&s, &sg).await),
        ErrorKind::NotFound
    );
}

// ---- endpoints -----------------------------------------------------------------------------

#[tokio::test]
async fn interface_endpoints_need_subnets_one_per_zone_in_their_vpc() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let sg = p
        .create_security_group(&s, &n.vpc, "endpoints", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    let a2 = p
        .create_subnet(&s, &n.vpc, "us-east-1a", "10.0.3.0/24", &no_tags())
        .await
        .unwrap();
    let other_vpc = p.create_vpc(&s, "10.1.0.0/16", &no_tags()).await.unwrap();
    let foreign_subnet = p
        .create_subnet(&s, &other_vpc, "us-east-1c", "10.1.0.0/24", &no_tags())
        .await
        .unwrap();
    let foreign_sg = p
        .create_security_group(&s, &other_vpc, "x", "d", "10.1.0.0/16", &no_tags())
        .await
        .unwrap();
    let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();

    let err = p
        .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a, &a2], &[&sg]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message.starts_with("DuplicateSubnetsInSameZone"),
        "{}",
        err.message
    );
    assert_eq!(err.api, "CreateVpcEndpoint");
    for (subnets, groups) in [
        (vec![], vec![sg.as_str()]),
        (vec![foreign_subnet.as_str()], vec![sg.as_str()]),
        (vec![n.subnet_a.as_str()], vec![foreign_sg.as_str()]),
    ] {
        assert_eq!(
            kind(
                p.create_endpoint(&s, &interface(&n.vpc, SSM, &subnets, &groups))
                    .await
            ),
            ErrorKind::InvalidInput,
            "{subnets:?} {groups:?}"
        );
    }
    let mut with_tables = interface(&n.vpc, SSM, &[&n.subnet_a], &[&sg]);
    with_tables.route_table_ids = strings(&[&rt]);
    assert_eq!(
        kind(p.create_endpoint(&s, &with_tables).await),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(
            p.create_endpoint(
                &s,
                &interface(&n.vpc, SSM, &["subnet-00000000000000000"], &[&sg])
            )
            .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.create_endpoint(
                &s,
                &interface(&n.vpc, SSM, &[&n.subnet_a], &["sg-00000000000000000"])
            )
            .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.create_endpoint(
                &s,
                &interface("vpc-00000000000000000", SSM, &[&n.subnet_a], &[])
            )
            .await
        ),
        ErrorKind::NotFound
    );
    // A service of another region, or no service at all.
    for service in ["com.amazonaws.eu-west-1.ssm", "ssm", ""] {
        assert_eq!(
            kind(
                p.create_endpoint(&s, &interface(&n.vpc, service, &[&n.subnet_a], &[]))
                    .await
            ),
            other("InvalidServiceName"),
            "{service}"
        );
    }
    assert!(live(&p, &s).await.endpoints.is_empty());

    let mut request = interface(&n.vpc, SSM, &[&n.subnet_a, &n.subnet_b], &[&sg]);
    request.tags = tags(&[(ADDRESS_TAG, "endpoint.main.ssm")]);
    let e = p.create_endpoint(&s, &request).await.unwrap();
    let m = live(&p, &s).await;
    let ep = &m.endpoints[&e];
    assert_eq!(ep.vpc_id, n.vpc);
    assert_eq!(ep.service_name, SSM);
    assert_eq!(ep.kind, EndpointKind::Interface);
    assert!(ep.private_dns);
    assert_eq!(ep.subnet_ids, set(&[&n.subnet_a, &n.subnet_b]));
    assert_eq!(ep.security_group_ids, set(&[&sg]));
    assert!(ep.route_table_ids.is_empty());
    assert_eq!(ep.policy.as_deref(), Some(DEFAULT_ENDPOINT_POLICY));
    assert_eq!(ep.tags, request.tags);

    // One interface endpoint per service and VPC.
    assert_eq!(
        kind(
            p.create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[]))
                .await
        ),
        ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn endpoint_policies_are_kept_as_given_and_checked() {
    let (p, s) = member_sim_with(
        SimSettings::default(),
        Quotas {
            endpoint_policy_max_chars: 200,
            ..Quotas::default()
        },
    )
    .await;
    let n = net(&p, &s).await;
    assert_eq!(
        DEFAULT_ENDPOINT_POLICY,
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#
    );
    let mut request = gateway(&n.vpc, S3, &[]);
    // Kept byte for byte (whitespace included), as AWS returns what it was given.
    let spaced = "{ \"Statement\": [] }";
    request.policy = Some(spaced.into());
    let e = p.create_endpoint(&s, &request).await.unwrap();
    assert_eq!(
        live(&p, &s).await.endpoints[&e].policy.as_deref(),
        Some(spaced)
    );
    for bad in [
        "{not json",
        "[]",
        &format!("{{\"x\":\"{}\"}}", "a".repeat(200)),
    ] {
        let mut r = interface(&n.vpc, SSM, &[&n.subnet_a], &[]);
        r.policy = Some(bad.to_string());
        let err = p.create_endpoint(&s, &r).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.message.starts_with("InvalidPolicyDocument"),
            "{}",
            err.message
        );
    }
}

#[tokio::test]
async fn gateway_endpoints_take_route_tables_only() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    let other_vpc = p.create_vpc(&s, "10.1.0.0/16", &no_tags()).await.unwrap();
    let foreign_rt = p
        .create_route_table(&s, &other_vpc, &no_tags())
        .await
        .unwrap();
    let sg = p
        .create_security_group(&s, &n.vpc, "x", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();

    let mut with_subnets = gateway(&n.vpc, S3, &[&rt]);
    with_subnets.subnet_ids = strings(&[&n.subnet_a]);
    let mut with_groups = gateway(&n.vpc, S3, &[&rt]);
    with_groups.security_group_ids = strings(&[&sg]);
    let mut with_dns = gateway(&n.vpc, S3, &[&rt]);
    with_dns.private_dns = true;
    for request in [
        with_subnets,
        with_groups,
        with_dns,
        gateway(&n.vpc, S3, &[&foreign_rt]),
        gateway(&n.vpc, "com.amazonaws.us-east-1.sts", &[&rt]),
    ] {
        assert_eq!(
            kind(p.create_endpoint(&s, &request).await),
            ErrorKind::InvalidInput,
            "{request:?}"
        );
    }
    assert_eq!(
        kind(
            p.create_endpoint(&s, &gateway(&n.vpc, S3, &["rtb-00000000000000000"]))
                .await
        ),
        ErrorKind::NotFound
    );
    let e = p
        .create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt]))
        .await
        .unwrap();
    let ep = &live(&p, &s).await.endpoints[&e];
    assert_eq!(ep.kind, EndpointKind::Gateway);
    assert_eq!(ep.route_table_ids, set(&[&rt]));
    assert!(!ep.private_dns);
    assert_eq!(ep.policy.as_deref(), Some(DEFAULT_ENDPOINT_POLICY));
    let err = p
        .create_endpoint(&s, &gateway(&n.vpc, S3, &[]))
        .await
        .unwrap_err();
    assert_eq!(err.kind, other("RouteAlreadyExists"));
    // DynamoDB is a gateway service too; S3 also has an interface flavour.
    p.create_endpoint(
        &s,
        &gateway(&n.vpc, "com.amazonaws.us-east-1.dynamodb", &[&rt]),
    )
    .await
    .unwrap();
    let mut s3_interface = interface(&n.vpc, S3, &[&n.subnet_a], &[]);
    s3_interface.private_dns = false;
    p.create_endpoint(&s, &s3_interface).await.unwrap();
}

#[tokio::test]
async fn interface_endpoints_per_vpc_are_capped_by_the_quota() {
    let (p, s) = member_sim_with(
        SimSettings::default(),
        Quotas {
            interface_endpoints_per_vpc: 2,
            ..Quotas::default()
        },
    )
    .await;
    let n = net(&p, &s).await;
    for service in ["ssm", "ec2messages"] {
        p.create_endpoint(
            &s,
            &interface(
                &n.vpc,
                &format!("com.amazonaws.us-east-1.{service}"),
                &[&n.subnet_a],
                &[],
            ),
        )
        .await
        .unwrap();
    }
    let err = p
        .create_endpoint(
            &s,
            &interface(&n.vpc, "com.amazonaws.us-east-1.kms", &[&n.subnet_a], &[]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("VpcEndpointLimitExceeded".into())
    );
    // Gateway endpoints do not count; other VPCs have their own quota.
    p.create_endpoint(&s, &gateway(&n.vpc, S3, &[]))
        .await
        .unwrap();
    let vpc2 = p.create_vpc(&s, "10.1.0.0/16", &no_tags()).await.unwrap();
    let sub2 = p
        .create_subnet(&s, &vpc2, "us-east-1a", "10.1.0.0/24", &no_tags())
        .await
        .unwrap();
    p.create_endpoint(
        &s,
        &interface(&vpc2, "com.amazonaws.us-east-1.kms", &[&sub2], &[]),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn modify_endpoint_applies_changes_with_the_same_checks() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let sg1 = p
        .create_security_group(&s, &n.vpc, "one", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    let sg2 = p
        .create_security_group(&s, &n.vpc, "two", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    let a2 = p
        .create_subnet(&s, &n.vpc, "us-east-1a", "10.0.3.0/24", &no_tags())
        .await
        .unwrap();
    let e = p
        .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[&sg1]))
        .await
        .unwrap();

    let change = EndpointModification {
        add_subnet_ids: strings(&[&n.subnet_b]),
        add_security_group_ids: strings(&[&sg2]),
        remove_security_group_ids: strings(&[&sg1]),
        policy: Some(Some(ENDPOINT_POLICY.into())),
        private_dns: Some(false),
        ..EndpointModification::default()
    };
    p.modify_endpoint(&s, &e, &change).await.unwrap();
    let ep = live(&p, &s).await.endpoints[&e].clone();
    assert_eq!(ep.subnet_ids, set(&[&n.subnet_a, &n.subnet_b]));
    assert_eq!(ep.security_group_ids, set(&[&sg2]));
    assert_eq!(ep.policy.as_deref(), Some(ENDPOINT_POLICY));
    assert!(!ep.private_dns);
    // sg1 is free again.
    p.delete_security_group(&s, &sg1).await.unwrap();

    // Reset the policy to AWS's default.
    let reset = EndpointModification {
        policy: Some(None),
        ..EndpointModification::default()
    };
    p.modify_endpoint(&s, &e, &reset).await.unwrap();
    assert_eq!(
        live(&p, &s).await.endpoints[&e].policy.as_deref(),
        Some(DEFAULT_ENDPOINT_POLICY)
    );

    let before = live(&p, &s).await;
    let refused = [
        // Second subnet in zone a.
        EndpointModification {
            add_subnet_ids: strings(&[&a2]),
            ..EndpointModification::default()
        },
        // No subnet left.
        EndpointModification {
            remove_subnet_ids: strings(&[&n.subnet_a, &n.subnet_b]),
            ..EndpointModification::default()
        },
        // Not part of the endpoint.
        EndpointModification {
            remove_security_group_ids: strings(&[&sg1]),
            ..EndpointModification::default()
        },
        // Route tables on an interface endpoint.
        EndpointModification {
            add_route_table_ids: strings(&["rtb-00000000000000000"]),
            ..EndpointModification::default()
        },
        EndpointModification {
            policy: Some(Some("{oops".into())),
            ..EndpointModification::default()
        },
    ];
    for change in refused {
        assert_eq!(
            kind(p.modify_endpoint(&s, &e, &change).await),
            ErrorKind::InvalidInput,
            "{change:?}"
        );
    }
    assert_eq!(
        kind(
            p.modify_endpoint(
                &s,
                &e,
                &EndpointModification {
                    add_subnet_ids: strings(&["subnet-00000000000000000"]),
                    ..EndpointModification::default()
                }
            )
            .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(
            p.modify_endpoint(&s, "vpce-00000000000000000", &reset)
                .await
        ),
        ErrorKind::NotFound
    );
    assert_eq!(live(&p, &s).await, before);

    // Gateway: route tables in and out; no private DNS.
    let rt1 = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    let rt2 = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    let g = p
        .create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt1]))
        .await
        .unwrap();
    p.modify_endpoint(
        &s,
        &g,
        &EndpointModification {
            add_route_table_ids: strings(&[&rt2]),
            remove_route_table_ids: strings(&[&rt1]),
            ..EndpointModification::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        live(&p, &s).await.endpoints[&g].route_table_ids,
        set(&[&rt2])
    );
    p.delete_route_table(&s, &rt1).await.unwrap();
    for change in [
        EndpointModification {
            private_dns: Some(true),
            ..EndpointModification::default()
        },
        EndpointModification {
            add_subnet_ids: strings(&[&n.subnet_a]),
            ..EndpointModification::default()
        },
    ] {
        assert_eq!(
            kind(p.modify_endpoint(&s, &g, &change).await),
            ErrorKind::InvalidInput
        );
    }
}

#[tokio::test]
async fn delete_endpoint_removes_it_once() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let e = p
        .create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[]))
        .await
        .unwrap();
    p.delete_endpoint(&s, &e).await.unwrap();
    assert!(live(&p, &s).await.endpoints.is_empty());
    let err = p.delete_endpoint(&s, &e).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.api, "DeleteVpcEndpoints");
    // The service can be endpointed again.
    p.create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[]))
        .await
        .unwrap();
}

// ---- EC2 tags ------------------------------------------------------------------------------

#[tokio::test]
async fn tag_and_untag_every_ec2_resource() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    let sg = p
        .create_security_group(&s, &n.vpc, "x", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    let e = p
        .create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt]))
        .await
        .unwrap();
    let t = tags(&[("a", "1"), ("b", "2")]);
    for id in [&n.vpc, &n.subnet_a, &rt, &sg, &e] {
        p.tag_ec2(&s, id, &t).await.unwrap();
        p.tag_ec2(&s, id, &tags(&[("a", "3")])).await.unwrap();
        p.untag_ec2(&s, id, &strings(&["b", "absent"]))
            .await
            .unwrap();
    }
    let m = live(&p, &s).await;
    let want = tags(&[("a", "3")]);
    assert_eq!(m.vpcs[&n.vpc].tags, want);
    assert_eq!(m.subnets[&n.subnet_a].tags, want);
    assert_eq!(m.route_tables[&rt].tags, want);
    assert_eq!(m.security_groups[&sg].tags, want);
    assert_eq!(m.endpoints[&e].tags, want);
    for id in [
        "vpc-00000000000000000",
        "sg-00000000000000000",
        "i-123",
        "whatever",
    ] {
        assert_eq!(
            kind(p.tag_ec2(&s, id, &t).await),
            ErrorKind::NotFound,
            "{id}"
        );
        assert_eq!(
            kind(p.untag_ec2(&s, id, &strings(&["a"])).await),
            ErrorKind::NotFound
        );
    }
    let fifty: Tags = (0..49).map(|i| (format!("k{i}"), "v".into())).collect();
    p.tag_ec2(&s, &n.vpc, &fifty).await.unwrap();
    // 50 now; overwriting is fine, one more is not.
    p.tag_ec2(&s, &n.vpc, &tags(&[("k0", "w")])).await.unwrap();
    assert_eq!(
        kind(p.tag_ec2(&s, &n.vpc, &tags(&[("one-more", "x")])).await),
        other("TagLimitExceeded")
    );
    assert_eq!(
        kind(
            p.tag_ec2(&s, &n.vpc, &tags(&[("aws:cloudformation", "x")]))
                .await
        ),
        ErrorKind::InvalidInput
    );
    assert_eq!(live(&p, &s).await.vpcs[&n.vpc].tags.len(), 50);
}

// ---- KMS keys -----------------------------------------------------------------------------

#[tokio::test]
async fn create_key_checks_the_policy_and_starts_enabled_without_rotation() {
    let (p, s) = member_sim_with(
        SimSettings::default(),
        Quotas {
            key_policy_max_bytes: 300,
            ..Quotas::default()
        },
    )
    .await;
    let t = tags(&[(ADDRESS_TAG, "kms_key.data")]);
    let k = p.create_key(&s, "data key", KEY_POLICY, &t).await.unwrap();
    let key = &live(&p, &s).await.keys[&k];
    assert_eq!(key.id, k);
    assert_eq!(key.description, "data key");
    assert_eq!(key.policy, KEY_POLICY);
    assert!(!key.rotation);
    assert_eq!(key.state, KeyState::Enabled);
    assert!(key.aliases.is_empty());
    assert_eq!(key.tags, t);

    let big = format!("{{\"Sid\":\"{}\"}}", "é".repeat(150)); // 300 chars, > 300 bytes
    for bad in ["{not json", "\"a string\"", big.as_str()] {
        let err = p.create_key(&s, "", bad, &no_tags()).await.unwrap_err();
        assert_eq!(err.kind, other("MalformedPolicyDocumentException"), "{bad}");
        assert_eq!(err.api, "CreateKey");
    }
    assert_eq!(
        kind(
            p.create_key(&s, "", KEY_POLICY, &tags(&[("aws:x", "y")]))
                .await
        ),
        other("TagException")
    );
    assert_eq!(live(&p, &s).await.keys.len(), 1);
}

#[tokio::test]
async fn key_rotation_policy_and_description_change() {
    let (p, s) = member_sim().await;
    let k = p
        .create_key(&s, "old", KEY_POLICY, &no_tags())
        .await
        .unwrap();
    p.set_key_rotation(&s, &k, true).await.unwrap();
    assert!(live(&p, &s).await.keys[&k].rotation);
    // A console user turns rotation off.
    p.set_key_rotation(&s, &k, false).await.unwrap();
    assert!(!live(&p, &s).await.keys[&k].rotation);
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    p.put_key_policy(&s, &k, policy).await.unwrap();
    p.update_key_description(&s, &k, "new").await.unwrap();
    let key = &live(&p, &s).await.keys[&k];
    assert_eq!(key.policy, policy);
    assert_eq!(key.description, "new");
    assert_eq!(
        kind(p.put_key_policy(&s, &k, "nope").await),
        other("MalformedPolicyDocumentException")
    );
    assert_eq!(
        kind(p.update_key_description(&s, &k, &"x".repeat(8193)).await),
        ErrorKind::InvalidInput
    );
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert_eq!(
        kind(p.set_key_rotation(&s, unknown, true).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(p.put_key_policy(&s, unknown, KEY_POLICY).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(p.update_key_description(&s, unknown, "x").await),
        ErrorKind::NotFound
    );
    // A disabled key keeps its rotation setting but cannot change it.
    p.set_key_enabled(&s, &k, false).await.unwrap();
    assert_eq!(live(&p, &s).await.keys[&k].state, KeyState::Disabled);
    assert_eq!(
        kind(p.set_key_rotation(&s, &k, true).await),
        other("KMSInvalidStateException")
    );
    p.set_key_enabled(&s, &k, true).await.unwrap();
    p.set_key_rotation(&s, &k, true).await.unwrap();
}

#[tokio::test]
async fn scheduled_deletion_blocks_most_operations_until_restored() {
    let (p, s) = member_sim().await;
    let k = p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
    p.put_alias(&s, "alias/data", &k).await.unwrap();
    for window in [0, 6, 31] {
        assert_eq!(
            kind(p.schedule_key_deletion(&s, &k, window).await),
            ErrorKind::InvalidInput,
            "{window}"
        );
    }
    p.schedule_key_deletion(&s, &k, 7).await.unwrap();
    // Still listed, with its alias.
    let key = &live(&p, &s).await.keys[&k];
    assert_eq!(key.state, KeyState::PendingDeletion);
    assert_eq!(key.aliases, set(&["alias/data"]));
    let invalid_state = other("KMSInvalidStateException");
    assert_eq!(kind(p.set_key_rotation(&s, &k, true).await), invalid_state);
    assert_eq!(
        kind(p.update_key_description(&s, &k, "x").await),
        invalid_state
    );
    assert_eq!(
        kind(p.schedule_key_deletion(&s, &k, 30).await),
        invalid_state
    );
    assert_eq!(
        kind(p.put_alias(&s, "alias/other", &k).await),
        invalid_state
    );
    assert_eq!(
        kind(p.tag_key(&s, &k, &tags(&[("a", "b")])).await),
        invalid_state
    );
    assert_eq!(
        kind(p.untag_key(&s, &k, &strings(&["a"])).await),
        invalid_state
    );
    assert_eq!(kind(p.set_key_enabled(&s, &k, true).await), invalid_state);
    // The policy can still be changed, as on AWS.
    p.put_key_policy(&s, &k, KEY_POLICY).await.unwrap();

    p.restore_key(&s, &k).await.unwrap();
    assert_eq!(live(&p, &s).await.keys[&k].state, KeyState::Enabled);
    assert_eq!(kind(p.restore_key(&s, &k).await), invalid_state);
    assert_eq!(
        kind(
            p.restore_key(&s, "00000000-0000-4000-8000-000000000000")
                .await
        ),
        ErrorKind::NotFound
    );
    p.schedule_key_deletion(&s, &k, 30).await.unwrap();
}

#[tokio::test]
async fn aliases_are_created_retargeted_and_deleted() {
    let (p, s) = member_sim().await;
    let k1 = p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
    let k2 = p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
    for bad in [
        "data",
        "alias/",
        "alias/aws/s3",
        "alias/has space",
        "Alias/x",
    ] {
        assert_eq!(
            kind(p.put_alias(&s, bad, &k1).await),
            ErrorKind::InvalidInput,
            "{bad}"
        );
    }
    p.put_alias(&s, "alias/data", &k1).await.unwrap();
    p.put_alias(&s, "alias/team/data-2", &k1).await.unwrap();
    assert_eq!(
        live(&p, &s).await.keys[&k1].aliases,
        set(&["alias/data", "alias/team/data-2"])
    );
    // Retarget: the alias moves.
    p.put_alias(&s, "alias/data", &k2).await.unwrap();
    let m = live(&p, &s).await;
    assert_eq!(m.keys[&k1].aliases, set(&["alias/team/data-2"]));
    assert_eq!(m.keys[&k2].aliases, set(&["alias/data"]));
    assert_eq!(
        kind(
            p.put_alias(&s, "alias/x", "00000000-0000-4000-8000-000000000000")
                .await
        ),
        ErrorKind::NotFound
    );
    p.delete_alias(&s, "alias/data").await.unwrap();
    assert!(live(&p, &s).await.keys[&k2].aliases.is_empty());
    let err = p.delete_alias(&s, "alias/data").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.api, "DeleteAlias");
}

#[tokio::test]
async fn tag_and_untag_keys() {
    let (p, s) = member_sim().await;
    let k = p
        .create_key(&s, "", KEY_POLICY, &tags(&[("a", "1")]))
        .await
        .unwrap();
    p.tag_key(&s, &k, &tags(&[("b", "2"), ("a", "9")]))
        .await
        .unwrap();
    p.untag_key(&s, &k, &strings(&["b", "absent"]))
        .await
        .unwrap();
    assert_eq!(live(&p, &s).await.keys[&k].tags, tags(&[("a", "9")]));
    let many: Tags = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    assert_eq!(
        kind(p.tag_key(&s, &k, &many).await),
        other("LimitExceededException")
    );
    assert_eq!(
        kind(
            p.tag_key(&s, "00000000-0000-4000-8000-000000000000", &many)
                .await
        ),
        ErrorKind::NotFound
    );
}

// ---- a console user ------------------------------------------------------------------------

#[tokio::test]
async fn a_console_user_can_change_anything_directly() {
    let (p, s) = member_sim().await;
    let n = net(&p, &s).await;
    let rt = p
        .create_route_table(&s, &n.vpc, &tags(&[(ADDRESS_TAG, "route_table.main")]))
        .await
        .unwrap();
    let managed = p
        .create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt]))
        .await
        .unwrap();
    // An unmanaged endpoint (no address tag) in the managed VPC.
    let mut extra = interface(&n.vpc, "com.amazonaws.us-east-1.logs", &[&n.subnet_a], &[]);
    extra.private_dns = false;
    let unmanaged = p.create_endpoint(&s, &extra).await.unwrap();
    assert!(live(&p, &s).await.endpoints[&unmanaged].tags.is_empty());
    // Change the managed endpoint's policy, then delete it.
    p.modify_endpoint(
        &s,
        &managed,
        &EndpointModification {
            policy: Some(Some(ENDPOINT_POLICY.into())),
            ..EndpointModification::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        live(&p, &s).await.endpoints[&managed].policy.as_deref(),
        Some(ENDPOINT_POLICY)
    );
    p.delete_endpoint(&s, &managed).await.unwrap();
    // Remove the address tag from the VPC.
    p.untag_ec2(&s, &n.vpc, &strings(&[ADDRESS_TAG]))
        .await
        .unwrap();
    let m = live(&p, &s).await;
    assert_eq!(m.endpoints.len(), 1);
    assert!(m.endpoints.contains_key(&unmanaged));
}

// ---- faults ----------------------------------------------------------------------------------

#[tokio::test]
async fn fail_at_counts_member_mutations_and_reads_do_not_count() {
    let p = SimBackend::in_memory(
        SimSettings {
            fail_at: Some(4),
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    // 1: CreateAccount.
    let account = new_account(&p, "m").await;
    let s = scope_of(&account, REGION);
    // 2, 3: member mutations; refresh_member is a read.
    let vpc = p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    p.refresh_member(&s).await.unwrap();
    // A refused member call counts too.
    p.create_vpc(&s, "bad", &no_tags()).await.unwrap_err();
    let err = p
        .create_subnet(&s, &vpc, "us-east-1a", "10.0.1.0/24", &no_tags())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InjectedFault);
    assert_eq!(err.api, "CreateSubnet");
    assert_eq!(err.message, "injected failure on mutating call 4");
    assert!(live(&p, &s).await.subnets.is_empty());
    p.create_subnet(&s, &vpc, "us-east-1a", "10.0.1.0/24", &no_tags())
        .await
        .unwrap();
}

#[tokio::test]
async fn fail_after_effect_applies_member_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    let p = SimBackend::open(
        &path,
        SimSettings {
            fail_at: Some(2),
            fail_after_effect: true,
            ..SimSettings::default()
        },
        Quotas::default(),
    )
    .unwrap();
    let s = scope_of(&new_account(&p, "m").await, REGION);
    let err = p
        .create_key(&s, "lost", KEY_POLICY, &no_tags())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InjectedFault);
    assert_eq!(live(&p, &s).await.keys.len(), 1);
    let reopened = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    assert_eq!(reopened.member_snapshot(&s).keys.len(), 1);
}

#[tokio::test]
async fn throttling_hits_member_calls_without_effect() {
    let p = SimBackend::in_memory(
        SimSettings {
            throttle_rate: 1.0,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let mgmt = p.snapshot().management_account_id;
    let s = scope_of(&mgmt, REGION);
    let err = p.refresh_member(&s).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooManyRequests);
    assert_eq!(err.api, "DescribeVpcs");
    assert_eq!(
        kind(p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await),
        ErrorKind::TooManyRequests
    );
    assert_eq!(
        kind(p.create_key(&s, "", KEY_POLICY, &no_tags()).await),
        ErrorKind::TooManyRequests
    );
    assert_eq!(p.member_snapshot(&s), LiveMember::default());
}

#[tokio::test(start_paused = true)]
async fn latency_delays_member_calls() {
    let p = SimBackend::in_memory(
        SimSettings {
            latency_ms: 40,
            ..SimSettings::default()
        },
        Quotas::default(),
    );
    let s = scope_of(&p.snapshot().management_account_id, REGION);
    let start = tokio::time::Instant::now();
    p.refresh_member(&s).await.unwrap();
    p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
    assert!(start.elapsed() >= std::time::Duration::from_millis(120));
}

// ---- persistence -------------------------------------------------------------------------------

#[tokio::test]
async fn member_state_round_trips_through_the_world_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    let s = scope_of(&new_account(&p, "m").await, REGION);
    let n = net(&p, &s).await;
    let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
    p.associate_route_table(&s, &rt, &n.subnet_a).await.unwrap();
    let sg = p
        .create_security_group(&s, &n.vpc, "x", "d", "10.0.0.0/16", &no_tags())
        .await
        .unwrap();
    p.create_endpoint(&s, &interface(&n.vpc, SSM, &[&n.subnet_a], &[&sg]))
        .await
        .unwrap();
    p.create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt]))
        .await
        .unwrap();
    let k = p.create_key(&s, "d", KEY_POLICY, &no_tags()).await.unwrap();
    p.put_alias(&s, "alias/d", &k).await.unwrap();
    p.set_key_rotation(&s, &k, true).await.unwrap();
    let k2 = p
        .create_key(&s, "gone", KEY_POLICY, &no_tags())
        .await
        .unwrap();
    p.schedule_key_deletion(&s, &k2, 10).await.unwrap();
    let before = live(&p, &s).await;
    let org_before = p.snapshot();
    drop(p);

    let q = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    assert_eq!(live(&q, &s).await, before);
    assert_eq!(q.snapshot(), org_before);
    // Ids keep advancing: no reuse after a reopen.
    let vpc2 = q.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    assert!(!before.vpcs.contains_key(&vpc2));
    q.restore_key(&s, &k2).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"members\""));
    assert!(text.contains(&member_key(&s.account_id, REGION)));
}

#[tokio::test]
async fn refused_member_calls_leave_no_trace_in_the_world_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    let s = scope_of(&new_account(&p, "m").await, REGION);
    p.create_vpc(&s, "nope", &no_tags()).await.unwrap_err();
    p.delete_alias(&s, "alias/none").await.unwrap_err();
    // Another successful org call saves the world.
    let r = p.snapshot().root_id;
    p.create_ou(&r, "A", &no_tags()).await.unwrap();
    assert!(p.members_snapshot().is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("\"members\""), "{text}");
}

/// A world file as written before member accounts existed (no `members`, no
/// member quotas).
const OLD_WORLD: &str = r#"{
  "format_version": 1,
  "id": "sim-0123456789ab",
  "ids": { "seed": 1, "counter": 2 },
  "quotas": { "scp_max_chars": 10240, "scps_per_target": 10, "ou_max_depth": 5, "max_accounts": 10000 },
  "root_id": "r-abcd",
  "management_account_id": "111111111111",
  "ous": {},
  "accounts": {
    "111111111111": {
      "id": "111111111111", "name": "management", "email": "management@sim.landfall.invalid",
      "parent_id": "r-abcd", "tags": {}, "status": "ACTIVE"
    }
  },
  "policies": {
    "p-FullAWSAccess": {
      "id": "p-FullAWSAccess", "name": "FullAWSAccess", "description": "Allows access to every operation",
      "content": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
      "tags": {}, "aws_managed": true
    }
  },
  "attachments": { "r-abcd": ["p-FullAWSAccess"], "111111111111": ["p-FullAWSAccess"] },
  "requests": {}
}"#;

#[tokio::test]
async fn an_old_world_file_without_member_fields_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    std::fs::write(&path, OLD_WORLD).unwrap();
    let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    assert_eq!(p.world_id(), "sim-0123456789ab");
    let s = scope_of("111111111111", REGION);
    assert_eq!(live(&p, &s).await, LiveMember::default());
    let vpc = p.create_vpc(&s, "10.0.0.0/16", &no_tags()).await.unwrap();
    drop(p);
    let q = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    assert!(live(&q, &s).await.vpcs.contains_key(&vpc));
}

#[test]
fn a_world_file_with_broken_member_references_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let mut world: serde_json::Value = serde_json::from_str(OLD_WORLD).unwrap();
    world["members"] = serde_json::json!({
        "111111111111/us-east-1": {
            "subnets": {
                "subnet-1": { "id": "subnet-1", "vpc_id": "vpc-missing", "az": "us-east-1a", "cidr": "10.0.0.0/24", "tags": {} }
            }
        }
    });
    let path = dir.path().join("broken.json");
    std::fs::write(&path, serde_json::to_vec(&world).unwrap()).unwrap();
    let err = match SimBackend::open(&path, SimSettings::default(), Quotas::default()) {
        Err(e) => e,
        Ok(_) => panic!("a broken world opened"),
    };
    assert!(matches!(err, SimError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("vpc-missing"), "{err}");

    world["members"] = serde_json::json!({ "222222222222/us-east-1": {} });
    std::fs::write(&path, serde_json::to_vec(&world).unwrap()).unwrap();
    assert!(SimBackend::open(&path, SimSettings::default(), Quotas::default()).is_err());
}

// ---- scale ---------------------------------------------------------------------------------------

#[tokio::test]
async fn member_data_does_not_slow_the_org_refresh() {
    let p = sim();
    let mut scopes = Vec::new();
    for i in 0..1000 {
        let s = scope_of(&new_account(&p, &format!("acct{i}")).await, REGION);
        let n = net(&p, &s).await;
        let rt = p.create_route_table(&s, &n.vpc, &no_tags()).await.unwrap();
        p.create_endpoint(&s, &gateway(&n.vpc, S3, &[&rt]))
            .await
            .unwrap();
        p.create_key(&s, "", KEY_POLICY, &no_tags()).await.unwrap();
        scopes.push(s);
    }
    let start = Instant::now();
    let live_org = p.refresh().await.unwrap();
    let took = start.elapsed();
    assert_eq!(live_org.accounts.len(), 1001);
    assert!(live_org.members.is_empty());
    let budget = if cfg!(debug_assertions) { 200 } else { 50 };
    assert!(took.as_millis() < budget, "org refresh took {took:?}");
    // And one member's refresh does not walk the others.
    let start = Instant::now();
    let m = p.refresh_member(&scopes[500]).await.unwrap();
    assert!(start.elapsed().as_millis() < 50);
    assert_eq!(m.vpcs.len(), 1);
    assert_eq!(m.subnets.len(), 2);
}
