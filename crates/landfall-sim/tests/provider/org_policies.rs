//! Organizations policy types through the `Provider` trait: enabling and disabling
//! them on the root, `CreatePolicy`/`AttachPolicy` refused for a type not enabled,
//! `RCPFullAWSAccess` everywhere (new OUs and accounts included, never detachable,
//! counted in the RCP quota), each type's size and attachment quotas, `ListPolicies`
//! by type, the engine's organization read, out-of-band changes, and the AWS model's
//! `PENDING_ENABLE`.

use std::time::Duration;

use landfall_core::PolicyType;
use landfall_engine::provider::{Page, ProviderError, ProviderResult};
use landfall_sim::policy_types::RCP_FULL_AWS_ACCESS_ID;

use super::*;

const TAG_POLICY: &str = r#"{"tags":{"cost-center":{"tag_key":{"@@assign":"cost-center"}}}}"#;
const AI_OPT_OUT: &str = r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}"#;
const RCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

async fn org(p: &SimBackend, call: OrganizationsCall<'_>) -> ProviderResult<Option<String>> {
    p.execute(&Call::Organizations(call)).await.map(|r| r.id)
}

async fn enable(p: &SimBackend, policy_type: PolicyType) -> ProviderResult<Option<String>> {
    let root_id = root(p).await;
    org(
        p,
        OrganizationsCall::EnablePolicyType {
            root_id: &root_id,
            policy_type,
        },
    )
    .await
}

async fn disable(p: &SimBackend, policy_type: PolicyType) -> ProviderResult<Option<String>> {
    let root_id = root(p).await;
    org(
        p,
        OrganizationsCall::DisablePolicyType {
            root_id: &root_id,
            policy_type,
        },
    )
    .await
}

async fn create(
    p: &SimBackend,
    policy_type: PolicyType,
    name: &str,
    content: &str,
) -> ProviderResult<String> {
    org(
        p,
        OrganizationsCall::CreatePolicy {
            policy_type,
            name,
            description: "",
            content,
            tags: &Tags::new(),
        },
    )
    .await
    .map(|id| id.unwrap())
}

fn code(e: ProviderError) -> String {
    e.kind.code()
}

#[tokio::test]
async fn a_type_must_be_enabled_before_its_policies_are_created_or_attached() {
    let p = sim();
    let root_id = root(&p).await;
    let types = p.organization_root().await.unwrap().enabled_policy_types;
    assert_eq!(types, [PolicyType::ServiceControlPolicy].into());
    let err = create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap_err();
    assert_eq!(code(err), "PolicyTypeNotEnabledException");

    enable(&p, PolicyType::TagPolicy).await.unwrap();
    let again = enable(&p, PolicyType::TagPolicy).await.unwrap_err();
    assert_eq!(code(again), "PolicyTypeAlreadyEnabledException");
    let id = create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap();
    p.attach_policy(&id, &root_id).await.unwrap();
    let root_now = p.organization_root().await.unwrap();
    assert!(
        root_now
            .enabled_policy_types
            .contains(&PolicyType::TagPolicy)
    );

    // A name is unique within its type only.
    let dup = create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap_err();
    assert_eq!(dup.kind, ErrorKind::DuplicatePolicy);
    enable(&p, PolicyType::AiservicesOptOutPolicy)
        .await
        .unwrap();
    create(&p, PolicyType::AiservicesOptOutPolicy, "cost", AI_OPT_OUT)
        .await
        .unwrap();

    // Disabling detaches every policy of the type; attaching is refused again.
    disable(&p, PolicyType::TagPolicy).await.unwrap();
    let live = p.snapshot();
    assert!(!live.enabled_policy_types.contains(&PolicyType::TagPolicy));
    assert!(live.org_policy_attachments.is_empty());
    assert!(
        live.org_policies.contains_key(&id),
        "the policy itself stays"
    );
    let refused = p.attach_policy(&id, &root_id).await.unwrap_err();
    assert_eq!(code(refused), "PolicyTypeNotEnabledException");
    let not_enabled = disable(&p, PolicyType::TagPolicy).await.unwrap_err();
    assert_eq!(code(not_enabled), "PolicyTypeNotEnabledException");
}

#[tokio::test]
async fn list_policies_filters_by_type_and_the_engine_reads_every_enabled_type() {
    let p = sim();
    let root_id = root(&p).await;
    let ou = p
        .create_ou(&root_id, "Workloads", &Tags::new())
        .await
        .unwrap();
    enable(&p, PolicyType::TagPolicy).await.unwrap();
    enable(&p, PolicyType::ResourceControlPolicy).await.unwrap();
    let tag = create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap();
    let rcp = create(&p, PolicyType::ResourceControlPolicy, "perimeter", RCP)
        .await
        .unwrap();
    p.attach_policy(&tag, &ou).await.unwrap();
    p.attach_policy(&rcp, &ou).await.unwrap();

    let names = |page: Page<landfall_core::live::LivePolicy>| -> Vec<String> {
        page.items.into_iter().map(|p| p.name).collect()
    };
    let scps = p
        .policies(PolicyType::ServiceControlPolicy, None)
        .await
        .unwrap();
    assert_eq!(names(scps), vec!["FullAWSAccess"]);
    let tags_page = p.policies(PolicyType::TagPolicy, None).await.unwrap();
    assert_eq!(names(tags_page), vec!["cost"]);
    let mut rcps = names(
        p.policies(PolicyType::ResourceControlPolicy, None)
            .await
            .unwrap(),
    );
    rcps.sort();
    assert_eq!(rcps, vec!["RCPFullAWSAccess", "perimeter"]);

    let live = p.refresh().await.unwrap();
    assert_eq!(
        live.enabled_policy_types,
        [
            PolicyType::ServiceControlPolicy,
            PolicyType::ResourceControlPolicy,
            PolicyType::TagPolicy
        ]
        .into()
    );
    assert_eq!(live.org_policies[&tag].content, TAG_POLICY);
    assert!(live.org_policies[RCP_FULL_AWS_ACCESS_ID].aws_managed);
    assert!(!live.policies.contains_key(&tag), "SCPs apart");
    assert_eq!(
        live.org_policy_attachments,
        [(tag.clone(), ou.clone()), (rcp.clone(), ou.clone())].into(),
        "RCPFullAWSAccess's targets are not read"
    );
    assert!(!live.attachments.iter().any(|(p, _)| *p == tag));
}

#[tokio::test]
async fn rcp_full_aws_access_is_everywhere_counts_and_cannot_be_detached() {
    let p = sim();
    let root_id = root(&p).await;
    let before_ou = p.create_ou(&root_id, "Before", &Tags::new()).await.unwrap();
    let before_account = new_account(&p, "before").await;
    enable(&p, PolicyType::ResourceControlPolicy).await.unwrap();
    let after_ou = p.create_ou(&root_id, "After", &Tags::new()).await.unwrap();
    let after_account = new_account(&p, "after").await;
    let targets: Vec<String> = p
        .targets_for_policy(RCP_FULL_AWS_ACCESS_ID, None)
        .await
        .unwrap()
        .items;
    let mgmt = p.snapshot().management_account_id;
    for t in [
        &root_id,
        &before_ou,
        &before_account,
        &after_ou,
        &after_account,
        &mgmt,
    ] {
        assert!(
            targets.contains(t),
            "{t} lacks RCPFullAWSAccess: {targets:?}"
        );
    }
    let detach = p
        .detach_policy(RCP_FULL_AWS_ACCESS_ID, &after_ou)
        .await
        .unwrap_err();
    assert_eq!(
        detach.kind,
        ErrorKind::ConstraintViolation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
    );

    // Five RCPs per target, RCPFullAWSAccess included: four more fit, a fifth not.
    for i in 0..4 {
        let id = create(&p, PolicyType::ResourceControlPolicy, &format!("r{i}"), RCP)
            .await
            .unwrap();
        p.attach_policy(&id, &after_ou).await.unwrap();
    }
    let sixth = create(&p, PolicyType::ResourceControlPolicy, "r4", RCP)
        .await
        .unwrap();
    let err = p.attach_policy(&sixth, &after_ou).await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::ConstraintViolation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into())
    );
    // RCPs do not count against the SCP quota, nor the other way round.
    p.attach_policy(&sixth, &before_ou).await.unwrap();
    let scp = p
        .create_policy("deny", "", DENY_ALL, &Tags::new())
        .await
        .unwrap();
    p.attach_policy(&scp, &after_ou).await.unwrap();
    // Unlike SCPs, an RCP other than RCPFullAWSAccess may go (a target keeps that one).
    p.detach_policy(&sixth, &before_ou).await.unwrap();

    // Disabling RCPs takes RCPFullAWSAccess off every target too.
    disable(&p, PolicyType::ResourceControlPolicy)
        .await
        .unwrap();
    let targets = p
        .targets_for_policy(RCP_FULL_AWS_ACCESS_ID, None)
        .await
        .unwrap();
    assert!(targets.items.is_empty(), "{targets:?}");
    let scp_still = p.targets_for_policy(&scp, None).await.unwrap().items;
    assert_eq!(scp_still, vec![after_ou.clone()]);
}

#[tokio::test]
async fn each_type_has_its_size_and_attachment_quotas_and_content_rules() {
    let p = sim();
    let root_id = root(&p).await;
    for t in [
        PolicyType::ResourceControlPolicy,
        PolicyType::TagPolicy,
        PolicyType::AiservicesOptOutPolicy,
    ] {
        enable(&p, t).await.unwrap();
    }
    // A JSON document padded to exactly `len` characters.
    let sized = |len: usize| {
        let base = r#"{"x":""}"#;
        format!(r#"{{"x":"{}"}}"#, "a".repeat(len - base.len()))
    };
    for (t, limit) in [
        (PolicyType::ResourceControlPolicy, 5_120),
        (PolicyType::TagPolicy, 10_000),
        (PolicyType::AiservicesOptOutPolicy, 2_500),
    ] {
        create(&p, t, &format!("fits-{t}"), &sized(limit))
            .await
            .unwrap();
        let err = create(&p, t, &format!("big-{t}"), &sized(limit + 1))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::ConstraintViolation("POLICY_CONTENT_LIMIT_EXCEEDED".into()),
            "{t}"
        );
    }
    for t in [PolicyType::TagPolicy, PolicyType::AiservicesOptOutPolicy] {
        let err = create(&p, t, "array", "[1]").await.unwrap_err();
        assert_eq!(code(err), "MalformedPolicyDocumentException", "{t}");
    }
    let err = create(&p, PolicyType::ResourceControlPolicy, "bad", "{nope")
        .await
        .unwrap_err();
    assert_eq!(code(err), "MalformedPolicyDocumentException");

    // Tag policies: 10 per target; AI services opt-out policies: 5.
    for (t, limit, content) in [
        (PolicyType::TagPolicy, 10, TAG_POLICY),
        (PolicyType::AiservicesOptOutPolicy, 5, AI_OPT_OUT),
    ] {
        for i in 0..limit {
            let id = create(&p, t, &format!("q{i}"), content).await.unwrap();
            p.attach_policy(&id, &root_id).await.unwrap();
        }
        let one_more = create(&p, t, "one-more", content).await.unwrap();
        let err = p.attach_policy(&one_more, &root_id).await.unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::ConstraintViolation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED".into()),
            "{t}"
        );
    }
}

#[tokio::test]
async fn out_of_band_helpers_change_policies_and_types() {
    let p = sim();
    let root_id = root(&p).await;
    enable(&p, PolicyType::TagPolicy).await.unwrap();
    let id = create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap();
    p.attach_policy(&id, &root_id).await.unwrap();

    let edited = r#"{"tags":{"project":{"tag_key":{"@@assign":"project"}}}}"#;
    assert_eq!(
        p.edit_org_policy_content(PolicyType::TagPolicy, "cost", edited)
            .await
            .unwrap(),
        id
    );
    assert_eq!(p.snapshot().org_policies[&id].content, edited);
    let bad = p
        .edit_org_policy_content(PolicyType::TagPolicy, "cost", "[]")
        .await
        .unwrap_err();
    assert_eq!(code(bad), "MalformedPolicyDocumentException");
    let wrong_type = p
        .edit_org_policy_content(PolicyType::ResourceControlPolicy, "cost", RCP)
        .await
        .unwrap_err();
    assert_eq!(wrong_type.kind, ErrorKind::NotFound);

    p.detach_org_policy(PolicyType::TagPolicy, "cost", &root_id)
        .await
        .unwrap();
    assert!(p.snapshot().org_policy_attachments.is_empty());
    p.attach_policy(&id, &root_id).await.unwrap();
    p.disable_policy_type(PolicyType::TagPolicy).await.unwrap();
    let live = p.snapshot();
    assert!(!live.enabled_policy_types.contains(&PolicyType::TagPolicy));
    assert!(live.org_policy_attachments.is_empty());
}

#[tokio::test]
async fn a_world_file_keeps_types_and_old_files_load_with_scps_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("world.json");
    {
        let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("enabled_policy_types"), "default left out");
        enable(&p, PolicyType::ResourceControlPolicy).await.unwrap();
        create(&p, PolicyType::ResourceControlPolicy, "perimeter", RCP)
            .await
            .unwrap();
    }
    let p = SimBackend::open(&path, SimSettings::default(), Quotas::default()).unwrap();
    let live = p.refresh().await.unwrap();
    assert!(
        live.enabled_policy_types
            .contains(&PolicyType::ResourceControlPolicy)
    );
    assert_eq!(
        live.org_policies
            .values()
            .filter(|p| !p.aws_managed)
            .count(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn under_the_aws_model_a_type_is_pending_for_a_while() {
    let p = SimBackend::in_memory_aws(SimSettings::default(), Quotas::default());
    enable(&p, PolicyType::TagPolicy).await.unwrap();
    let root_now = p.organization_root().await.unwrap();
    assert!(
        !root_now
            .enabled_policy_types
            .contains(&PolicyType::TagPolicy)
    );
    let err = create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap_err();
    assert_eq!(code(err), "PolicyTypeNotEnabledException");
    tokio::time::sleep(Duration::from_secs(30)).await;
    let root_later = p.organization_root().await.unwrap();
    assert!(
        root_later
            .enabled_policy_types
            .contains(&PolicyType::TagPolicy)
    );
    create(&p, PolicyType::TagPolicy, "cost", TAG_POLICY)
        .await
        .unwrap();
}
