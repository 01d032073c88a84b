//! The member-account operations against moto's server (`LANDFALL_TEST_MOTO_URL`, set
//! by `scripts/test`): networks and keys created through the backend in a member
//! account it reaches by assuming the access role, read back by `refresh_member` and
//! by plain SDK calls (the testkit), changed, and deleted in dependency order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_organizations::config::Credentials;
use landfall_aws::testkit::Console;
use landfall_aws::{AwsBackend, AwsOptions};
use landfall_core::address::ADDRESS_TAG;
use landfall_core::live::{KeyState, LiveMember};
use landfall_core::model::{EndpointKind, Tags};
use landfall_engine::TypedCalls;
use landfall_engine::provider::{
    ApiLimits, CreateAccountRequest, CreateAccountStatus, EndpointModification, EndpointRequest,
    ErrorKind, MemberScope, Provider,
};
use serde_json::{Value, json};

/// moto's server holds one world: these tests run one at a time, each on a reset server.
static MOTO: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const REGION: &str = "eu-west-1";

fn moto_url() -> String {
    std::env::var("LANDFALL_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "the AWS-backend tests need moto's server and LANDFALL_TEST_MOTO_URL is not set: run scripts/test, which starts it (or start `moto_server -H 127.0.0.1 -p 5066` and set LANDFALL_TEST_MOTO_URL=http://127.0.0.1:5066)"
        )
    })
}

fn reset_moto(url: &str) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("cannot reach moto's server at {url}: {e}"));
    write!(
        stream,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "moto reset failed: {reply}"
    );
}

fn fast_limits() -> ApiLimits {
    ApiLimits {
        create_account_in_flight: 5,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        max_retries: 5,
        poll_interval: Duration::from_millis(10),
        max_polls: 100,
        operation_poll_interval: Duration::from_millis(10),
        ..ApiLimits::default()
    }
}

async fn backend(url: &str) -> AwsBackend {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "landfall-tests",
        ))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let options = AwsOptions::default();
    AwsBackend::from_sdk_config(config, &options).with_limits(fast_limits())
}

/// A new organization with one member account; returns the member's id.
async fn organization_with_member(aws: &AwsBackend) -> String {
    aws.create_organization().await.unwrap();
    aws.identity().await.unwrap();
    let request = aws
        .create_account(&CreateAccountRequest {
            name: "ml-dev".into(),
            email: "aws+ml-dev@example.com".into(),
            tags: Tags::new(),
            role_name: "OrganizationAccountAccessRole".into(),
        })
        .await
        .unwrap();
    for _ in 0..100 {
        match aws.create_account_status(&request).await.unwrap() {
            CreateAccountStatus::Succeeded { account_id } => return account_id,
            CreateAccountStatus::Failed { reason } => panic!("account creation failed: {reason}"),
            CreateAccountStatus::InProgress => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    panic!("the account creation did not finish");
}

fn tags(address: &str) -> Tags {
    Tags::from([
        (ADDRESS_TAG.to_string(), address.to_string()),
        ("team".to_string(), "ml".to_string()),
    ])
}

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn endpoint_policy(action: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*"}]
    })
    .to_string()
}

fn key_policy(account: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "Account",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
    .to_string()
}

async fn refresh(aws: &AwsBackend, scope: &MemberScope) -> LiveMember {
    aws.refresh_member(scope).await.unwrap()
}

#[tokio::test]
async fn member_networks_and_keys_live_in_the_member_account() {
    let _moto = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    let member = organization_with_member(&aws).await;
    let management = aws.caller().await.unwrap().account.clone();
    assert_ne!(member, management);
    let scope = MemberScope {
        account_id: member.clone(),
        region: REGION.into(),
    };

    // ---- create ----
    let vpc = aws
        .create_vpc(&scope, "10.20.0.0/16", &tags("network.ml"))
        .await
        .unwrap();
    let subnet_a = aws
        .create_subnet(
            &scope,
            &vpc,
            "eu-west-1a",
            "10.20.1.0/24",
            &tags("network.ml.a"),
        )
        .await
        .unwrap();
    let subnet_b = aws
        .create_subnet(
            &scope,
            &vpc,
            "eu-west-1b",
            "10.20.2.0/24",
            &tags("network.ml.b"),
        )
        .await
        .unwrap();
    let rt = aws
        .create_route_table(&scope, &vpc, &tags("network.ml.rt"))
        .await
        .unwrap();
    aws.associate_route_table(&scope, &rt, &subnet_a)
        .await
        .unwrap();
    // Associating again is a no-op.
    aws.associate_route_table(&scope, &rt, &subnet_a)
        .await
        .unwrap();
    let sg = aws
        .create_security_group(
            &scope,
            &vpc,
            "ml-endpoints",
            "HTTPS from the VPC",
            "10.20.0.0/16",
            &tags("network.ml.sg"),
        )
        .await
        .unwrap();
    let s3 = aws
        .create_endpoint(
            &scope,
            &EndpointRequest {
                vpc_id: vpc.clone(),
                service_name: format!("com.amazonaws.{REGION}.s3"),
                kind: EndpointKind::Gateway,
                subnet_ids: vec![],
                security_group_ids: vec![],
                route_table_ids: vec![rt.clone()],
                private_dns: false,
                policy: None,
                tags: tags("network.ml.endpoint.s3"),
            },
        )
        .await
        .unwrap();
    let sagemaker_service = format!("com.amazonaws.{REGION}.sagemaker.api");
    let api = aws
        .create_endpoint(
            &scope,
            &EndpointRequest {
                vpc_id: vpc.clone(),
                service_name: sagemaker_service.clone(),
                kind: EndpointKind::Interface,
                subnet_ids: vec![subnet_a.clone()],
                security_group_ids: vec![sg.clone()],
                route_table_ids: vec![],
                private_dns: true,
                policy: Some(endpoint_policy("sagemaker:*")),
                tags: tags("network.ml.endpoint.sagemaker-api"),
            },
        )
        .await
        .unwrap();
    let key = aws
        .create_key(
            &scope,
            "ML training data",
            &key_policy(&member),
            &tags("kms.ml-data"),
        )
        .await
        .unwrap();
    aws.set_key_rotation(&scope, &key, true).await.unwrap();
    aws.put_alias(&scope, "alias/ml-data", &key).await.unwrap();

    // ---- refresh_member sees it all ----
    let live = refresh(&aws, &scope).await;
    let v = &live.vpcs[&vpc];
    assert_eq!(v.cidr, "10.20.0.0/16");
    assert_eq!(v.tags, tags("network.ml"));
    assert_eq!(live.subnets[&subnet_a].az, "eu-west-1a");
    assert_eq!(live.subnets[&subnet_a].cidr, "10.20.1.0/24");
    assert_eq!(live.subnets[&subnet_b].vpc_id, vpc);
    assert_eq!(live.subnets[&subnet_b].tags, tags("network.ml.b"));
    assert_eq!(live.route_tables[&rt].subnet_ids, [subnet_a.clone()].into());
    assert_eq!(live.route_tables[&rt].tags, tags("network.ml.rt"));
    // The VPC's main route table is reported, without implicit associations.
    assert!(
        live.route_tables
            .values()
            .any(|t| t.vpc_id == vpc && t.id != rt && t.subnet_ids.is_empty())
    );
    let group = &live.security_groups[&sg];
    assert_eq!(group.name, "ml-endpoints");
    assert_eq!(group.ingress_443, ["10.20.0.0/16".to_string()].into());
    assert_eq!(group.tags, tags("network.ml.sg"));
    // The VPC's default group is reported too.
    assert!(
        live.security_groups
            .values()
            .any(|g| g.vpc_id == vpc && g.name == "default")
    );
    let gw = &live.endpoints[&s3];
    assert_eq!(gw.kind, EndpointKind::Gateway);
    assert_eq!(gw.route_table_ids, [rt.clone()].into());
    assert_eq!(gw.tags, tags("network.ml.endpoint.s3"));
    assert!(!gw.private_dns);
    let ep = &live.endpoints[&api];
    assert_eq!(ep.kind, EndpointKind::Interface);
    assert_eq!(ep.service_name, sagemaker_service);
    assert!(ep.private_dns);
    assert_eq!(ep.subnet_ids, [subnet_a.clone()].into());
    assert_eq!(ep.security_group_ids, [sg.clone()].into());
    assert_eq!(
        json_of(ep.policy.as_deref().unwrap()),
        json_of(&endpoint_policy("sagemaker:*"))
    );
    let k = &live.keys[&key];
    assert_eq!(k.description, "ML training data");
    assert!(k.rotation);
    assert_eq!(k.state, KeyState::Enabled);
    assert_eq!(k.aliases, ["alias/ml-data".to_string()].into());
    assert_eq!(k.tags, tags("kms.ml-data"));
    assert_eq!(json_of(&k.policy), json_of(&key_policy(&member)));
    // Only customer-managed keys.
    assert_eq!(live.keys.len(), 1);
    let calls = aws.call_counts();
    for api in [
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeRouteTables",
        "DescribeSecurityGroups",
        "DescribeVpcEndpoints",
        "ListKeys",
        "ListAliases",
        "DescribeKey",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "ListResourceTags",
        "CreateVpc",
        "CreateVpcEndpoint",
        "CreateKey",
    ] {
        assert!(
            calls.get(api).copied().unwrap_or(0) >= 1,
            "{api}: {calls:?}"
        );
    }

    // ---- the resources are in the member account, not in the management account ----
    let console = Console::connect(&url).await;
    let seen = console.member_view(&member, REGION).await.unwrap();
    assert_eq!(seen.vpc_cidrs, vec!["10.20.0.0/16".to_string()]);
    assert_eq!(seen.subnets["10.20.1.0/24"].az, "eu-west-1a");
    assert_eq!(seen.subnets["10.20.2.0/24"].vpc_cidr, "10.20.0.0/16");
    assert_eq!(
        seen.security_groups["ml-endpoints"],
        ["10.20.0.0/16".to_string()].into()
    );
    let seen_api = &seen.endpoints[&sagemaker_service];
    assert_eq!(seen_api.id, api);
    assert_eq!(seen_api.kind, "Interface");
    assert!(seen_api.private_dns);
    assert_eq!(seen_api.subnets, ["10.20.1.0/24".to_string()].into());
    assert_eq!(seen_api.vpc_cidr, "10.20.0.0/16");
    assert_eq!(
        seen.all_endpoint_services,
        vec![
            format!("com.amazonaws.{REGION}.s3"),
            sagemaker_service.clone()
        ]
    );
    let seen_key = &seen.keys["alias/ml-data"];
    assert_eq!(seen_key.id, key);
    assert!(seen_key.rotation);
    assert_eq!(seen_key.state, "Enabled");
    assert_eq!(seen.live_customer_keys, 1);
    let management_view = console.member_view(&management, REGION).await.unwrap();
    assert!(management_view.vpc_cidrs.is_empty(), "{management_view:?}");
    assert!(management_view.endpoints.is_empty());
    assert!(management_view.keys.is_empty());
    assert_eq!(management_view.live_customer_keys, 0);

    // ---- change ----
    aws.set_security_group_ingress(
        &scope,
        &sg,
        &["10.30.0.0/16".to_string()],
        &["10.20.0.0/16".to_string()],
    )
    .await
    .unwrap();
    aws.modify_endpoint(
        &scope,
        &api,
        &EndpointModification {
            add_subnet_ids: vec![subnet_b.clone()],
            remove_subnet_ids: vec![subnet_a.clone()],
            policy: Some(Some(endpoint_policy("sagemaker:Describe*"))),
            ..EndpointModification::default()
        },
    )
    .await
    .unwrap();
    aws.tag_ec2(
        &scope,
        &vpc,
        &Tags::from([("cost-centre".to_string(), "42".to_string())]),
    )
    .await
    .unwrap();
    aws.untag_ec2(&scope, &vpc, &["team".to_string()])
        .await
        .unwrap();
    aws.set_key_rotation(&scope, &key, false).await.unwrap();
    aws.update_key_description(&scope, &key, "ML data")
        .await
        .unwrap();
    let wider = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{member}:root")}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "Management", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{management}:root")}, "Action": "kms:Describe*", "Resource": "*"}
        ]
    })
    .to_string();
    aws.put_key_policy(&scope, &key, &wider).await.unwrap();
    aws.tag_key(
        &scope,
        &key,
        &Tags::from([("cost-centre".to_string(), "42".to_string())]),
    )
    .await
    .unwrap();
    aws.untag_key(&scope, &key, &["team".to_string()])
        .await
        .unwrap();
    let live = refresh(&aws, &scope).await;
    assert_eq!(
        live.security_groups[&sg].ingress_443,
        ["10.30.0.0/16".to_string()].into()
    );
    let ep = &live.endpoints[&api];
    assert_eq!(ep.subnet_ids, [subnet_b.clone()].into());
    assert_eq!(
        json_of(ep.policy.as_deref().unwrap()),
        json_of(&endpoint_policy("sagemaker:Describe*"))
    );
    assert_eq!(
        live.vpcs[&vpc].tags.get("cost-centre").map(String::as_str),
        Some("42")
    );
    assert!(!live.vpcs[&vpc].tags.contains_key("team"));
    let k = &live.keys[&key];
    assert!(!k.rotation);
    assert_eq!(k.description, "ML data");
    assert_eq!(json_of(&k.policy), json_of(&wider));
    assert_eq!(k.tags.get("cost-centre").map(String::as_str), Some("42"));
    assert!(!k.tags.contains_key("team"));

    // Reset the endpoint policy to AWS's default (full access).
    aws.modify_endpoint(
        &scope,
        &api,
        &EndpointModification {
            policy: Some(None),
            ..EndpointModification::default()
        },
    )
    .await
    .unwrap();
    // moto 5.2 accepts `ResetPolicy` but keeps the old document, so the outcome is not
    // checked here (AWS puts back its full-access default).
    assert!(refresh(&aws, &scope).await.endpoints[&api].policy.is_some());

    // Scheduled deletion and restore.
    aws.schedule_key_deletion(&scope, &key, 7).await.unwrap();
    assert_eq!(
        refresh(&aws, &scope).await.keys[&key].state,
        KeyState::PendingDeletion
    );
    aws.restore_key(&scope, &key).await.unwrap();
    assert_eq!(
        refresh(&aws, &scope).await.keys[&key].state,
        KeyState::Enabled
    );

    // An alias moves to another key (UpdateAlias).
    let other = aws
        .create_key(&scope, "other", &key_policy(&member), &Tags::new())
        .await
        .unwrap();
    aws.put_alias(&scope, "alias/ml-data", &other)
        .await
        .unwrap();
    let live = refresh(&aws, &scope).await;
    assert!(live.keys[&key].aliases.is_empty());
    assert_eq!(
        live.keys[&other].aliases,
        ["alias/ml-data".to_string()].into()
    );
    aws.put_alias(&scope, "alias/ml-data", &key).await.unwrap();

    // ---- out-of-band changes through the testkit show up in the refresh ----
    console
        .set_endpoint_policy(
            &member,
            REGION,
            &sagemaker_service,
            &endpoint_policy("sagemaker:List*"),
        )
        .await
        .unwrap();
    aws.set_key_rotation(&scope, &key, true).await.unwrap();
    console
        .disable_key_rotation(&member, REGION, "alias/ml-data")
        .await
        .unwrap();
    let unmanaged = console
        .create_endpoint(
            &member,
            REGION,
            "10.20.0.0/16",
            &format!("com.amazonaws.{REGION}.ecr.api"),
        )
        .await
        .unwrap();
    let live = refresh(&aws, &scope).await;
    assert_eq!(
        json_of(live.endpoints[&api].policy.as_deref().unwrap()),
        json_of(&endpoint_policy("sagemaker:List*"))
    );
    assert!(!live.keys[&key].rotation);
    assert_eq!(live.endpoints[&unmanaged].vpc_id, vpc);
    assert!(live.endpoints[&unmanaged].tags.is_empty());
    console
        .delete_endpoint_by_service(&member, REGION, &format!("com.amazonaws.{REGION}.ecr.api"))
        .await
        .unwrap();
    assert!(
        !refresh(&aws, &scope)
            .await
            .endpoints
            .contains_key(&unmanaged)
    );

    // ---- errors ----
    let busy = aws.delete_vpc(&scope, &vpc).await.unwrap_err();
    assert_eq!(busy.kind, ErrorKind::DependencyViolation, "{busy}");
    let gone = aws
        .delete_subnet(&scope, "subnet-0123456789abcdef0")
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound, "{gone}");
    let bad = aws
        .create_subnet(&scope, &vpc, "eu-west-1a", "192.168.0.0/24", &Tags::new())
        .await
        .unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidInput, "{bad}");
    let no_key = aws
        .set_key_rotation(&scope, "00000000-0000-0000-0000-000000000000", true)
        .await
        .unwrap_err();
    assert_eq!(no_key.kind, ErrorKind::NotFound, "{no_key}");

    // ---- delete, in dependency order ----
    aws.delete_endpoint(&scope, &api).await.unwrap();
    aws.delete_endpoint(&scope, &s3).await.unwrap();
    aws.delete_alias(&scope, "alias/ml-data").await.unwrap();
    aws.schedule_key_deletion(&scope, &key, 7).await.unwrap();
    aws.schedule_key_deletion(&scope, &other, 30).await.unwrap();
    aws.delete_security_group(&scope, &sg).await.unwrap();
    aws.delete_route_table(&scope, &rt).await.unwrap();
    aws.delete_subnet(&scope, &subnet_a).await.unwrap();
    aws.delete_subnet(&scope, &subnet_b).await.unwrap();
    aws.delete_vpc(&scope, &vpc).await.unwrap();
    let live = refresh(&aws, &scope).await;
    assert!(!live.vpcs.contains_key(&vpc));
    assert!(live.subnets.values().all(|s| s.vpc_id != vpc));
    assert!(live.route_tables.values().all(|t| t.vpc_id != vpc));
    assert!(live.security_groups.values().all(|g| g.vpc_id != vpc));
    assert!(live.endpoints.is_empty(), "{:?}", live.endpoints);
    assert_eq!(live.keys[&key].state, KeyState::PendingDeletion);
    assert!(live.keys[&key].aliases.is_empty());
    let seen = console.member_view(&member, REGION).await.unwrap();
    assert!(seen.vpc_cidrs.is_empty());
    assert!(seen.endpoints.is_empty());
    assert_eq!(seen.live_customer_keys, 0);
}

#[tokio::test]
async fn the_management_account_uses_the_base_credentials() {
    let _moto = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    aws.create_organization().await.unwrap();
    aws.identity().await.unwrap();
    let management = aws.caller().await.unwrap().account.clone();
    let scope = MemberScope {
        account_id: management.clone(),
        region: REGION.into(),
    };
    let vpc = aws
        .create_vpc(&scope, "10.99.0.0/16", &tags("network.shared"))
        .await
        .unwrap();
    assert_eq!(refresh(&aws, &scope).await.vpcs[&vpc].cidr, "10.99.0.0/16");
    let seen = Console::connect(&url)
        .await
        .member_view(&management, REGION)
        .await
        .unwrap();
    assert_eq!(seen.vpc_cidrs, vec!["10.99.0.0/16".to_string()]);
    aws.delete_vpc(&scope, &vpc).await.unwrap();
}

/// Service Catalog portfolios and their shares on moto: created through the backend,
/// read back through `refresh_governance` and through plain SDK calls (the testkit),
/// unshared. moto (5.2) has no Control Tower and no provisioning; its Service Catalog
/// keeps OU shares but does not list them (`DescribePortfolioShares` with type
/// ORGANIZATIONAL_UNIT answers nothing), and reports account shares as accepted at
/// once (AWS: not until the recipient accepts).
#[tokio::test]
async fn portfolios_and_their_shares() {
    use landfall_core::live::GovernanceScope;
    use landfall_core::live::ShareTarget;

    let _one_at_a_time = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    let member = organization_with_member(&aws).await;
    let me = aws.caller().await.unwrap().clone();
    let root_id = aws.refresh().await.unwrap().root_id;
    let ou = aws
        .create_ou(&root_id, "Workloads", &Tags::new())
        .await
        .unwrap();

    let portfolio_tags = Tags::from([("team".to_string(), "ml".to_string())]);
    let id = aws
        .create_portfolio(
            "ML products",
            "ML platform team",
            "Products for ML teams",
            &portfolio_tags,
        )
        .await
        .unwrap();
    // The same request again in this run (a retry after a lost response) is the same
    // portfolio: the idempotency token is stable within a run.
    let again = aws
        .create_portfolio(
            "ML products",
            "ML platform team",
            "Products for ML teams",
            &portfolio_tags,
        )
        .await
        .unwrap();
    assert_eq!(again, id);

    let org_token = aws
        .create_portfolio_share(&id, &ShareTarget::Organization, true)
        .await
        .unwrap();
    assert!(org_token.is_some(), "an organization share has a token");
    let ou_token = aws
        .create_portfolio_share(&id, &ShareTarget::OrganizationalUnit(ou.clone()), false)
        .await
        .unwrap();
    assert!(ou_token.is_some(), "an OU share has a token");
    let account_token = aws
        .create_portfolio_share(&id, &ShareTarget::Account(member.clone()), false)
        .await
        .unwrap();
    assert_eq!(account_token, None, "an account share has no token");

    let scope = GovernanceScope {
        portfolios: true,
        ..GovernanceScope::default()
    };
    let before = aws.call_counts();
    let live = aws.refresh_governance(&scope).await.unwrap();
    let after = aws.call_counts();
    let delta =
        |api: &str| after.get(api).copied().unwrap_or(0) - before.get(api).copied().unwrap_or(0);
    assert_eq!(delta("ListPortfolios"), 1);
    assert_eq!(delta("DescribePortfolio"), 1);
    assert_eq!(delta("DescribePortfolioShares"), 3);

    assert!(live.read);
    assert_eq!(live.portfolios.len(), 1);
    let p = &live.portfolios[&id];
    assert_eq!(p.display_name, "ML products");
    assert_eq!(p.provider, "ML platform team");
    assert_eq!(p.description, "Products for ML teams");
    assert_eq!(p.tags, portfolio_tags);
    let shares: Vec<_> = live
        .portfolio_shares
        .iter()
        .map(|s| {
            (
                s.portfolio_id.as_str(),
                s.target.clone(),
                s.share_tag_options,
            )
        })
        .collect();
    // moto does not list the OU share (AWS would, as ORGANIZATIONAL_UNIT).
    assert_eq!(
        shares,
        vec![
            (id.as_str(), ShareTarget::Organization, true),
            (id.as_str(), ShareTarget::Account(member.clone()), false),
        ]
    );
    assert!(
        live.portfolio_shares
            .iter()
            .find(|s| s.target == ShareTarget::Organization)
            .unwrap()
            .accepted
    );

    // The same through plain SDK calls.
    let console = Console::connect(&url).await;
    let view = console.portfolio_view().await.unwrap();
    let seen = &view["ML products"];
    assert_eq!(seen.id, id);
    assert_eq!(seen.provider, "ML platform team");
    assert_eq!(
        seen.tags,
        std::collections::BTreeMap::from([("team".to_string(), "ml".to_string())])
    );
    let principals: Vec<(String, String)> = seen
        .shares
        .iter()
        .map(|(kind, principal, _)| (kind.clone(), principal.clone()))
        .collect();
    assert_eq!(
        principals,
        vec![
            ("ACCOUNT".to_string(), member.clone()),
            ("ORGANIZATION".to_string(), me.organization_id.clone()),
        ]
    );

    // Unshare the account, then the organization: gone from both reads.
    aws.delete_portfolio_share(&id, &ShareTarget::Account(member.clone()))
        .await
        .unwrap();
    let live = aws.refresh_governance(&scope).await.unwrap();
    assert_eq!(
        live.portfolio_shares
            .iter()
            .map(|s| s.target.clone())
            .collect::<Vec<_>>(),
        vec![ShareTarget::Organization]
    );
    aws.delete_portfolio_share(&id, &ShareTarget::Organization)
        .await
        .unwrap();
    let live = aws.refresh_governance(&scope).await.unwrap();
    assert!(
        live.portfolio_shares.is_empty(),
        "{:?}",
        live.portfolio_shares
    );
    let view = console.portfolio_view().await.unwrap();
    assert!(view["ML products"].shares.is_empty());

    aws.delete_portfolio_share(&id, &ShareTarget::OrganizationalUnit(ou))
        .await
        .unwrap();
    aws.delete_portfolio(&id).await.unwrap();
    let live = aws.refresh_governance(&scope).await.unwrap();
    assert!(live.portfolios.is_empty());
    assert_eq!(aws.call_counts().get("CreatePortfolioShare"), Some(&3));
    assert_eq!(aws.call_counts().get("DeletePortfolioShare"), Some(&3));
}

/// One Identity Center call through the backend.
async fn identity_call(
    aws: &AwsBackend,
    call: landfall_engine::call::IdentityCall<'_>,
) -> landfall_engine::provider::Reply {
    aws.execute(&landfall_engine::call::Call::Identity(call))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// IAM Identity Center on moto (5.2.5): a permission set with a managed and an inline
/// policy, a group, and an assignment of the set to the group in the management
/// account, made through the backend, read back through `refresh_identity` and through
/// plain SDK calls (the testkit); an out-of-band inline policy; the assignment deleted.
/// moto has a default instance; its requests are SUCCEEDED at once (so the calls reply
/// with no request id to poll); it provisions a set only to the caller's account and
/// only on `ProvisionPermissionSet` (AWS: also on `CreateAccountAssignment`), ignores
/// the `ProvisioningStatus` filter (every provisioned account reads as outdated), and
/// has no permissions boundaries or permission set tags (read as none).
#[tokio::test]
async fn identity_center_permission_sets_groups_and_assignments() {
    use landfall_core::live::{IdentityScope, LiveAssignment, PrincipalType};
    use landfall_engine::call::{IdentityCall as I, IdentityRequest};
    use landfall_engine::provider::OperationStatus;
    use std::collections::{BTreeMap, BTreeSet};

    let _one_at_a_time = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    aws.create_organization().await.unwrap();
    aws.identity().await.unwrap();
    let account = aws.caller().await.unwrap().management_account_id.clone();
    let region = "us-east-1";
    let scope = IdentityScope {
        region: region.into(),
        permission_sets: BTreeSet::from(["DataScientist".to_string()]),
        groups: BTreeSet::from(["ml-fraud-data-scientists".to_string()]),
        ..IdentityScope::default()
    };

    let before = aws.refresh_identity(&scope).await.unwrap();
    let instance = before.instance.clone().expect("moto's default instance");
    assert!(instance.arn.starts_with("arn:aws:sso:::instance/ssoins-"));
    assert!(before.permission_sets.is_empty() && before.groups.is_empty());

    let no_tags = Tags::new();
    let arn = identity_call(
        &aws,
        I::CreatePermissionSet {
            name: "DataScientist",
            description: Some("ML data science"),
            session_duration: "PT8H",
            tags: &no_tags,
        },
    )
    .await
    .id
    .expect("the permission set ARN");
    // AWS: `arn:aws:sso:::permissionSet/ssoins-…/ps-…`; moto: `…:instance/ssoins-…/ps-…`.
    assert!(arn.contains("/ps-"), "{arn}");
    let read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    identity_call(
        &aws,
        I::AttachManagedPolicyToPermissionSet {
            permission_set_arn: &arn,
            policy_arn: read_only,
        },
    )
    .await;
    let inline = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::ml-data/*"}]
    })
    .to_string();
    identity_call(
        &aws,
        I::PutInlinePolicyToPermissionSet {
            permission_set_arn: &arn,
            document: &inline,
        },
    )
    .await;
    identity_call(
        &aws,
        I::UpdatePermissionSet {
            permission_set_arn: &arn,
            description: Some("ML data scientists"),
            session_duration: "PT4H",
        },
    )
    .await;
    let data_access = landfall_core::model::CustomerPolicyRef {
        name: "ml-data-access".into(),
        path: "/ml/".into(),
    };
    identity_call(
        &aws,
        I::AttachCustomerManagedPolicyReferenceToPermissionSet {
            permission_set_arn: &arn,
            policy: &data_access,
        },
    )
    .await;
    let group_id = identity_call(
        &aws,
        I::CreateGroup {
            display_name: "ml-fraud-data-scientists",
            description: Some("Fraud team"),
        },
    )
    .await
    .id
    .expect("the group id");
    let created = identity_call(
        &aws,
        I::CreateAccountAssignment {
            permission_set_arn: &arn,
            principal_type: PrincipalType::Group,
            principal_id: &group_id,
            account_id: &account,
        },
    )
    .await;
    // moto answers SUCCEEDED at once: nothing to poll.
    assert_eq!(created.id, None);
    let provisioned = identity_call(
        &aws,
        I::ProvisionPermissionSet {
            permission_set_arn: &arn,
        },
    )
    .await;
    assert_eq!(provisioned.id, None);

    // The status polls, with request ids from plain SDK calls (moto serves the two
    // assignment status reads; DescribePermissionSetProvisioningStatus it lacks).
    let sso = aws_sdk_ssoadmin::Client::new(
        &aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(region))
            .endpoint_url(&url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "t"))
            .load()
            .await,
    );
    let raw = sso
        .create_account_assignment()
        .instance_arn(&instance.arn)
        .target_id(&account)
        .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
        .permission_set_arn(&arn)
        .principal_type(aws_sdk_ssoadmin::types::PrincipalType::User)
        .principal_id("user-1")
        .send()
        .await
        .unwrap();
    let request_id = raw
        .account_assignment_creation_status()
        .and_then(|s| s.request_id())
        .unwrap()
        .to_string();
    assert_eq!(
        aws.identity_request(IdentityRequest::AssignmentCreation, &request_id)
            .await
            .unwrap(),
        OperationStatus::Succeeded { account_id: None }
    );
    let raw = sso
        .delete_account_assignment()
        .instance_arn(&instance.arn)
        .target_id(&account)
        .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
        .permission_set_arn(&arn)
        .principal_type(aws_sdk_ssoadmin::types::PrincipalType::User)
        .principal_id("user-1")
        .send()
        .await
        .unwrap();
    let request_id = raw
        .account_assignment_deletion_status()
        .and_then(|s| s.request_id())
        .unwrap()
        .to_string();
    assert_eq!(
        aws.identity_request(IdentityRequest::AssignmentDeletion, &request_id)
            .await
            .unwrap(),
        OperationStatus::Succeeded { account_id: None }
    );

    let live = aws.refresh_identity(&scope).await.unwrap();
    assert_eq!(live.instance.as_ref(), Some(&instance));
    let set = &live.permission_sets[&arn];
    assert_eq!(set.name, "DataScientist");
    assert_eq!(set.description.as_deref(), Some("ML data scientists"));
    assert_eq!(set.session_duration, "PT4H");
    assert_eq!(
        set.customer_managed_policies,
        BTreeSet::from([data_access.clone()])
    );
    assert!(set.detailed);
    assert_eq!(
        set.managed_policies,
        BTreeSet::from([read_only.to_string()])
    );
    assert_eq!(
        json_of(set.inline_policy.as_deref().unwrap()),
        json_of(&inline)
    );
    assert_eq!(set.permissions_boundary, None);
    assert!(set.tags.is_empty());
    assert_eq!(set.provisioned_to, BTreeSet::from([account.clone()]));
    let group = &live.groups["ml-fraud-data-scientists"];
    assert_eq!(group.id, group_id);
    assert_eq!(group.description.as_deref(), Some("Fraud team"));
    let assignment = LiveAssignment {
        permission_set_arn: arn.clone(),
        principal_type: PrincipalType::Group,
        principal_id: group_id.clone(),
        account_id: account.clone(),
    };
    assert_eq!(live.assignments, BTreeSet::from([assignment.clone()]));
    // The group is known by name: no other group name to look up.
    assert!(live.group_names.is_empty());

    // A set not in scope is listed, not detailed.
    let other = identity_call(
        &aws,
        I::CreatePermissionSet {
            name: "Auditor",
            description: None,
            session_duration: "PT1H",
            tags: &no_tags,
        },
    )
    .await
    .id
    .unwrap();
    // Read by plain SDK calls: the same set, and an inline policy changed out of band.
    let console = Console::connect(&url).await;
    let seen = console
        .permission_set_view(region, "DataScientist")
        .await
        .unwrap()
        .expect("the set through the SDK");
    assert_eq!(seen.arn, arn);
    assert_eq!(
        seen.assignments[&account],
        BTreeSet::from([("GROUP".to_string(), group_id.clone())])
    );
    let drifted = endpoint_policy("s3:*");
    console
        .put_inline_policy(region, "DataScientist", &drifted)
        .await
        .unwrap();

    // The group as an assignment principal only (not asked for by name): its display
    // name comes with the assignments.
    let by_id = IdentityScope {
        groups: BTreeSet::new(),
        ..scope.clone()
    };
    let live = aws.refresh_identity(&by_id).await.unwrap();
    assert!(!live.permission_sets[&other].detailed);
    assert!(live.permission_sets[&other].managed_policies.is_empty());
    assert_eq!(
        json_of(live.permission_sets[&arn].inline_policy.as_deref().unwrap()),
        json_of(&drifted)
    );
    assert_eq!(
        live.group_names,
        BTreeMap::from([(group_id.clone(), "ml-fraud-data-scientists".to_string())])
    );

    console
        .delete_account_assignment(
            region,
            "DataScientist",
            "ml-fraud-data-scientists",
            &account,
        )
        .await
        .unwrap();
    let live = aws.refresh_identity(&scope).await.unwrap();
    assert!(live.assignments.is_empty(), "{:?}", live.assignments);

    // Deleting it again through the backend: it is gone, which the executor takes as
    // done (`Call::already_done`).
    let gone = aws
        .execute(&landfall_engine::call::Call::Identity(
            I::DeleteAccountAssignment {
                permission_set_arn: &arn,
                principal_type: PrincipalType::Group,
                principal_id: &group_id,
                account_id: &account,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound, "{gone}");
    identity_call(
        &aws,
        I::DeleteGroup {
            group_id: &group_id,
        },
    )
    .await;
    identity_call(
        &aws,
        I::DeleteInlinePolicyFromPermissionSet {
            permission_set_arn: &arn,
        },
    )
    .await;
    identity_call(
        &aws,
        I::DetachCustomerManagedPolicyReferenceFromPermissionSet {
            permission_set_arn: &arn,
            policy: &data_access,
        },
    )
    .await;
    identity_call(
        &aws,
        I::DetachManagedPolicyFromPermissionSet {
            permission_set_arn: &arn,
            policy_arn: read_only,
        },
    )
    .await;
    identity_call(
        &aws,
        I::DeletePermissionSet {
            permission_set_arn: &arn,
        },
    )
    .await;
    let live = aws.refresh_identity(&scope).await.unwrap();
    assert!(!live.permission_sets.contains_key(&arn));
    assert!(live.groups.is_empty());

    let calls = aws.call_counts();
    // The instance is read once for the run.
    assert_eq!(calls.get("ListInstances"), Some(&1));
    assert_eq!(calls.get("CreateAccountAssignment"), Some(&1));
}

/// IAM on moto: a policy's default version document through `GetPolicy` and
/// `GetPolicyVersion`, URL-decoded into the JSON it was created with; an unknown policy
/// is `None`. moto has the AWS-managed policies only when its server starts with
/// `MOTO_IAM_LOAD_MANAGED_POLICIES=true`, which loads about 1,300 policies into every
/// new account's IAM (with it, an e2e apply that vends accounts timed out resolving
/// assumed-role credentials); so the path runs with a customer-managed policy, through
/// the same two calls. moto returns the document unencoded (IAM percent-encodes it:
/// the decoding is tested with the mocks); a stray `%` survives decoding.
#[tokio::test]
async fn managed_policy_documents_come_from_iam() {
    let _one_at_a_time = MOTO.lock().await;
    let url = moto_url();
    reset_moto(&url);
    let aws = backend(&url).await;
    let iam = aws_sdk_iam::Client::new(
        &aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "t"))
            .load()
            .await,
    );
    // Characters IAM percent-encodes: spaces, quotes, `+`, `%`, `/`, `*`.
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadData",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": "arn:aws:s3:::ml-data/*",
            "Condition": {"StringLike": {"s3:prefix": ["100% data+more/ x"]}}
        }]
    });
    let created = iam
        .create_policy()
        .policy_name("ml-data-read")
        .policy_document(document.to_string())
        .send()
        .await
        .unwrap();
    let arn = created.policy().and_then(|p| p.arn()).unwrap().to_string();
    let read = aws
        .aws_managed_policy_document(&arn)
        .await
        .unwrap()
        .expect("the policy's document");
    assert_eq!(json_of(&read), document);
    assert_eq!(
        aws.aws_managed_policy_document("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
            .await
            .unwrap(),
        None
    );
    let calls = aws.call_counts();
    assert_eq!(calls.get("GetPolicy"), Some(&2));
    assert_eq!(calls.get("GetPolicyVersion"), Some(&1));
}

/// Issue 17: policy types, trusted access, delegated administrators, the log bucket,
/// the organization trail, the Config aggregator and GuardDuty's admin on moto.
#[path = "moto/security.rs"]
mod security;
