//! The conformance suite: the same scenario on the sim and on moto's server (create the
//! example, change it out of band, detect the drift, revert it, edit the desired state),
//! and the AWS backend without credentials.

use serde_json::Value;

use crate::support::{
    Lz, On, Oob, assert_example_is_live, assert_valid_order, calls_made, changes, moto_session,
    position, stderr, stdout,
};

fn conformance(on: On) {
    let lz = Lz::example_on(on);
    // Create the example.
    let out = lz.run(&["-v", "apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    lz.assert_converged();
    // FullAWSAccess attachments of what the apply created are AWS's own: recorded
    // with their ids, no AttachPolicy sent for them.
    let state = lz.state();
    let faa: Vec<(&String, &Value)> = state["resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(a, _)| a.starts_with("attachment.FullAWSAccess:"))
        .collect();
    // The root's (there already) and the 21 of the 9 OUs and 12 accounts created.
    assert_eq!(faa.len(), 22, "{faa:?}");
    for (address, r) in &faa {
        let target = address.trim_start_matches("attachment.FullAWSAccess:");
        let target_id = state["resources"][target]["id"].as_str().unwrap();
        let (policy_id, attached_to) = r["id"].as_str().unwrap().split_once('|').unwrap();
        assert_eq!(attached_to, target_id, "{address}");
        assert!(policy_id.starts_with("p-"), "{address}: {policy_id}");
    }
    if on == On::Moto {
        // The documented call count of the example's create (docs/aws-backend.md).
        let log = stderr(&out);
        let (total, made) = calls_made(&log, "apply");
        let count = |api: &str| made.get(api).copied().unwrap_or(0);
        // One AttachPolicy per declared SCP attachment (13; none for FullAWSAccess)
        // and per attachment of the tag, RCP and AI opt-out policies (3).
        assert_eq!(count("AttachPolicy"), 16, "{made:?}");
        // Each of the three other policy types enabled once, and the root read until
        // it lists the type ENABLED (moto: at once).
        assert_eq!(count("EnablePolicyType"), 3, "{made:?}");
        assert_eq!(count("ListRoots"), 3, "{made:?}");
        // The organization trail: created, then started (a new trail does not log).
        assert_eq!(count("CreateTrail"), 1, "{made:?}");
        assert_eq!(count("StartLogging"), 1, "{made:?}");
        // moto's CreateAccount answers SUCCEEDED: no status poll follows.
        assert_eq!(count("CreateAccount"), 12, "{made:?}");
        assert_eq!(count("DescribeCreateAccountStatus"), 0, "{made:?}");
        // Identity Center: 6 permission sets, their 4 managed and 5 inline policies,
        // 4 groups, 30 assignments; moto answers each assignment SUCCEEDED, so no
        // status poll follows.
        assert_eq!(count("CreateAccountAssignment"), 30, "{made:?}");
        assert_eq!(
            count("DescribeAccountAssignmentCreationStatus"),
            0,
            "{made:?}"
        );
        // GuardDuty delegated in each governed region (us-east-1, us-west-2).
        assert_eq!(count("EnableOrganizationAdminAccount"), 2, "{made:?}");
        assert_eq!(total, 184, "{made:?}");
        assert!(!log.contains("DuplicatePolicyAttachment"), "{log}");
    }
    let v = lz.view();
    assert_example_is_live(&v);
    let leave_org = v.policies["deny-leave-org"].1.clone();
    if on == On::Moto {
        // The documented call count of a refresh of the example (docs/aws-backend.md).
        let calls = &lz.plan_json()["refresh_calls"];
        let total: u64 = calls
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        // 86 for the organization (74, and the other three policy types: one
        // ListPolicies each, and DescribePolicy, ListTargetsForPolicy and
        // ListTagsForResource for each of the three policies), 11 for each of the
        // three member accounts' regions (the two networks', and the organization
        // trail's key in log-archive), 62 for Identity Center (the instance, the 6
        // sets each described with its policies, tags and provisioned accounts, the
        // 4 groups by name — found, so not read again by the ids the state records
        // —, each group's assignments), 2 IAM reads of the AWS-managed policies the
        // people's expectations use, and 14 for the security family (trusted access,
        // delegated administrators, GuardDuty's admin list in each of the two governed
        // regions; the trail, its status and
        // tags; the bucket's 7 configuration reads), and Control Tower's
        // `ListLandingZones` — whether a landing zone owns the trail (moto has no
        // Control Tower: none).
        assert_eq!(total, 198, "{calls}");
        assert_eq!(calls["ListLandingZones"], 1);
        assert_eq!(calls["DescribeGroup"], 4, "{calls}");
        assert_eq!(calls["ListTagsForResource"], 40);
        assert_eq!(calls["ListPolicies"], 4);
        assert_eq!(calls["DescribeTrails"], 1);
        assert_eq!(calls["GetTrailStatus"], 1);
        assert_eq!(calls["ListAccountAssignmentsForPrincipal"], 4);
        assert_eq!(calls["DescribeVpcEndpoints"], 3);
    }

    // Out-of-band changes: each is drift, apply reverts it.
    assert_eq!(lz.run(&["drift"]).status.code(), Some(0));
    lz.oob(Oob::Detach(
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ));
    lz.oob(Oob::Move("ml-fraud-dev", "ou:Sandbox"));
    lz.oob(Oob::RenameOu("Deployments", "Deploys"));
    lz.oob(Oob::UpdatePolicy("deny-leave-org", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#));
    lz.oob(Oob::CreateOu("Workloads/Shadow_IT"));
    lz.oob(Oob::Attach(
        "restrict-instance-types",
        "ou:Workloads/Workloads_Prod",
    ));
    // And one unapplied change to the desired state (pending, not tampering).
    lz.edit(
        "landfall.toml",
        "owner = \"security-team\", managed-by",
        "owner = \"sec-ops\", managed-by",
    );
    let before = std::fs::read(lz.path("state/ml-platform.state.json")).unwrap();
    let world_before = (on == On::Sim)
        .then(|| std::fs::read(lz.path("state/ml-platform.sim-world.json")).unwrap());
    let out = lz.run(&["drift"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "pending (the desired state changed; not applied yet)",
        "attachment.deny-sagemaker-endpoints:ou.Workloads/Workloads_Dev",
        "SCP_DETACHED_FROM_OU",
        "ACCOUNT_MOVED_BETWEEN_OUS",
        "ou.Deployments",
        "OU_RENAMED",
        "scp.deny-leave-org",
        "SCP_UPDATED",
        "ou.Workloads/Shadow_IT",
        "attachment.restrict-instance-types:ou.Workloads/Workloads_Prod",
    ] {
        assert!(
            text.contains(needle),
            "drift does not name {needle}:\n{text}"
        );
    }
    let report: Value = serde_json::from_slice(&lz.run(&["drift", "--json"]).stdout).unwrap();
    let classes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["class"].as_str().unwrap())
        .collect();
    for class in ["changed", "missing", "moved", "unmanaged", "pending"] {
        assert!(classes.contains(&class), "{classes:?}");
    }
    let markdown = stdout(&lz.run(&["drift", "--markdown"]));
    for row in [
        "| moved | `account.ml-fraud-dev` |",
        "| missing | `attachment.deny-sagemaker-endpoints:ou.Workloads/Workloads_Dev` |",
        "| changed | `scp.deny-leave-org` |",
        "| unmanaged | `ou.Workloads/Shadow_IT` |",
        "| pending | `ou.Security` |",
    ] {
        assert!(markdown.contains(row), "{row} missing in\n{markdown}");
    }
    assert_eq!(
        std::fs::read(lz.path("state/ml-platform.state.json")).unwrap(),
        before,
        "drift wrote the state"
    );
    if let Some(world) = world_before {
        assert_eq!(
            std::fs::read(lz.path("state/ml-platform.sim-world.json")).unwrap(),
            world,
            "drift changed the world"
        );
    }

    lz.apply_ok();
    assert_eq!(
        lz.run(&["drift"]).status.code(),
        Some(0),
        "{}",
        stdout(&lz.run(&["drift"]))
    );
    lz.assert_converged();
    let v = lz.view();
    assert_example_is_live(&v);
    assert!(!v.ous.contains_key("Workloads/Shadow_IT"));
    assert!(!v.attachments.contains(&(
        "restrict-instance-types".into(),
        "Workloads/Workloads_Prod".into()
    )));
    assert_eq!(
        serde_json::from_str::<Value>(&v.policies["deny-leave-org"].1).unwrap(),
        serde_json::from_str::<Value>(&leave_org).unwrap()
    );

    // Edit the desired state: add an OU and an account in it, change an SCP, move an
    // account, remove an attachment — the plan has exactly those changes.
    lz.append(
        "landfall.toml",
        "\n[ou.\"Workloads/Workloads_Test\"]\n\n[account.ml-fraud-test]\nemail = \"aws+ml-fraud-test@example.com\"\nou = \"Workloads/Workloads_Test\"\n",
    );
    lz.edit(
        "policies/deny-leave-org.json",
        "\"Action\": \"organizations:LeaveOrganization\"",
        "\"Action\": [\"organizations:LeaveOrganization\", \"organizations:DeleteOrganization\"]",
    );
    lz.edit(
        "landfall.toml",
        "email = \"aws+data-lake@example.com\"\nou = \"Workloads\"",
        "email = \"aws+data-lake@example.com\"\nou = \"Infrastructure\"",
    );
    lz.edit(
        "landfall.toml",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Workloads\", \"ou:Sandbox\"]",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Sandbox\"]",
    );
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let ordered = changes(&plan);
    let mut list = ordered.clone();
    list.sort();
    let mut expected: Vec<(String, String)> = [
        ("account.data-lake", "move"),
        ("account.ml-fraud-test", "create"),
        // The new account is in OUs the platform admins' and auditors' assignments
        // name: it gets them in the same plan (the API assigns per account).
        (
            "assignment.PlatformAdmin:group.ml-platform-admins:account.ml-fraud-test",
            "create",
        ),
        (
            "assignment.SecurityAuditor:group.ml-security-auditors:account.ml-fraud-test",
            "create",
        ),
        ("attachment.FullAWSAccess:account.ml-fraud-test", "create"),
        (
            "attachment.FullAWSAccess:ou.Workloads/Workloads_Test",
            "create",
        ),
        ("attachment.require-cost-tags:ou.Workloads", "delete"),
        ("ou.Workloads/Workloads_Test", "create"),
        ("scp.deny-leave-org", "update"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    if on == On::Sim {
        // With Control Tower (cut out for moto): the new OU is registered, and the OU
        // data-lake moves into is reset to enroll it.
        expected.push(("registration.ou.Infrastructure".into(), "update".into()));
        expected.push((
            "registration.ou.Workloads/Workloads_Test".into(),
            "create".into(),
        ));
        expected.sort();
        assert!(
            position(&ordered, "account.data-lake")
                < position(&ordered, "registration.ou.Infrastructure")
        );
        assert!(
            position(&ordered, "account.ml-fraud-test")
                < position(&ordered, "registration.ou.Workloads/Workloads_Test")
        );
    }
    assert_eq!(list, expected);
    assert!(
        position(&ordered, "ou.Workloads/Workloads_Test")
            < position(&ordered, "account.ml-fraud-test")
    );
    let human = stdout(&lz.run(&["plan"]));
    assert!(
        human.contains("+         \"organizations:DeleteOrganization\""),
        "{human}"
    );
    assert!(
        human.contains("~ ou: \"ou.Workloads\" -> \"ou.Infrastructure\""),
        "{human}"
    );
    lz.apply_ok();
    lz.assert_converged();
    let v = lz.view();
    assert_eq!(v.accounts["aws+data-lake@example.com"].1, "Infrastructure");
    assert_eq!(
        v.accounts["aws+ml-fraud-test@example.com"].1,
        "Workloads/Workloads_Test"
    );
    assert!(
        !v.attachments
            .contains(&("require-cost-tags".into(), "Workloads".into()))
    );
}

#[test]
fn conformance_on_sim() {
    conformance(On::Sim);
}

#[test]
fn conformance_on_moto() {
    let _moto = moto_session();
    conformance(On::Moto);
}

#[test]
fn aws_backend_without_credentials_says_how_to_provide_them() {
    let lz = Lz::example();
    let out = lz
        .cmd()
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["--backend", "aws", "plan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(err.contains("AWS_PROFILE"), "{err}");
    assert!(!err.contains("panicked"));
}
