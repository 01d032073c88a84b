//! `[[import]]` blocks (issue 14): resources made outside Landfall — by `landfall sim`
//! on the sim, through the SDK on moto — adopted by id: the plan shows each as an
//! adoption naming the id, apply records them adopted (`created: false`), and the
//! next plan has nothing to do.

use landfall_aws::testkit::Console;

use crate::formats::assert_format;
use crate::support::{Lz, On, moto_session, moto_url, runtime, stderr, stdout};

const BASE_LZ: &str = r#"
[landing_zone]
name = "ml-platform"
home_region = "us-east-1"

[account.ml-dev]
email = "ml-dev@example.com"
"#;

const DENY_LEAVE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#;

impl Lz {
    /// `landfall sim ARGS`, which must succeed; its stdout, trimmed (the new id).
    fn sim_id(&self, args: &[&str]) -> String {
        let out = self.cmd().arg("sim").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "sim {args:?}: {}", stderr(&out));
        stdout(&out).trim().to_string()
    }
}

/// `state list` lines: address → (id, created|adopted).
fn state_list(lz: &Lz) -> std::collections::BTreeMap<String, (String, String)> {
    let out = lz.run(&["state", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| {
            let parts: Vec<&str> = l.split('\t').collect();
            (
                parts[0].to_string(),
                (parts[1].to_string(), parts[2].to_string()),
            )
        })
        .collect()
}

#[test]
fn import_blocks_adopt_resources_made_outside_by_id_on_sim() {
    let lz = Lz::from_config(BASE_LZ, On::Sim);
    lz.apply_ok();

    // Out of band: an OU (under another name than it will be declared with), an
    // account, an SCP, and an untagged VPC and key in ml-dev.
    let out = lz
        .cmd()
        .args(["sim", "create-ou", "Legacy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ou_id = stderr(&out)
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(id, _)| id.to_string())
        .unwrap();
    assert!(ou_id.starts_with("ou-"), "{ou_id}");
    let account_id = lz.sim_id(&[
        "create-account",
        "ml-shared",
        "--email",
        "ml-shared@example.com",
    ]);
    std::fs::write(lz.path("deny.json"), DENY_LEAVE).unwrap();
    let scp_id = lz.sim_id(&["create-policy", "deny-leave-org", "--file", "deny.json"]);
    let vpc_id = lz.sim_id(&["create-vpc", "ml-dev", "us-east-1", "10.40.0.0/16"]);
    let key_id = lz.sim_id(&[
        "create-key",
        "ml-dev",
        "us-east-1",
        "--description",
        "made by hand",
    ]);
    let dev_id = lz.account_id("ml-dev");
    let key_arn = format!("arn:aws:kms:us-east-1:{dev_id}:key/{key_id}");

    lz.append(
        "landfall.toml",
        &format!(
            r#"
[ou.Workloads]

[account.ml-shared]
email = "ml-shared@example.com"
ou = "Workloads"

[scp.deny-leave-org]
content = '{DENY_LEAVE}'
targets = ["ou:Workloads"]

[network.ml-dev-use1]
account = "ml-dev"
region = "us-east-1"
cidr = "10.40.0.0/16"
subnets = [{{ az = "us-east-1a", cidr = "10.40.1.0/24" }}]

[kms_key.ml-dev]
account = "ml-dev"
region = "us-east-1"
description = "made by hand"

[[import]]
to = "ou.Workloads"
id = "{ou_id}"

[[import]]
to = "account.ml-shared"
id = "{account_id}"

[[import]]
to = "scp.deny-leave-org"
id = "{scp_id}"

[[import]]
to = "vpc.ml-dev-use1"
id = "{vpc_id}"

[[import]]
to = "kms_key.ml-dev"
id = "{key_arn}"
"#
        ),
    );

    let plan = lz.plan_json();
    let imported = [
        ("ou.Workloads", &ou_id),
        ("account.ml-shared", &account_id),
        ("scp.deny-leave-org", &scp_id),
        ("vpc.ml-dev-use1", &vpc_id),
        ("kms_key.ml-dev", &key_id),
    ];
    for (address, id) in imported {
        let change = plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("{address} not in {plan:#}"));
        assert_eq!(change["action"], "adopt", "{change:#}");
        assert_eq!(change["id"], id.as_str(), "{change:#}");
        assert_eq!(change["record"]["created"], false, "{change:#}");
    }
    // The OU, live as `Legacy`, is renamed in place; the account moves into it.
    let ou_change = &plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "ou.Workloads")
        .unwrap()["ops"];
    assert_eq!(ou_change[0]["op"], "rename_ou", "{ou_change:#}");
    let imports: Vec<(&str, &str)> = plan["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["to"].as_str().unwrap(), i["id"].as_str().unwrap()))
        .collect();
    assert!(
        imports.contains(&("kms_key.ml-dev", key_arn.as_str())),
        "{imports:?}"
    );
    assert_eq!(imports.len(), 5, "{imports:?}");

    let human = stdout(&lz.run(&["plan"]));
    assert_format(
        Some(&lz),
        "plan_imports_human",
        "landfall plan: an OU, an account, an SCP, a VPC and a KMS key (by ARN) made outside Landfall, imported by id (stdout)",
        &human,
    );
    assert_format(
        Some(&lz),
        "plan_imports_json",
        "landfall plan --json: the same imports (`imports`, and each adoption's id)",
        &stdout(&lz.run(&["plan", "--json"])),
    );
    assert!(
        human.contains(&format!("account.ml-shared (import {account_id})")),
        "{human}"
    );
    assert!(
        human.contains(&format!("kms_key.ml-dev ({key_id}, import {key_arn})")),
        "{human}"
    );

    lz.apply_ok();
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("No changes."), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("already imported; the block can be removed"),
        "{}",
        stdout(&out)
    );

    let listed = state_list(&lz);
    for (address, id) in imported {
        assert_eq!(
            listed.get(address),
            Some(&(id.clone(), "adopted".to_string())),
            "{listed:?}"
        );
    }
    // What Landfall created in the imported VPC is its own; the VPC is not tagged.
    assert_eq!(
        listed["subnet.ml-dev-use1.10.40.1.0/24"].1, "created",
        "{listed:?}"
    );
    let sim = landfall_sim::SimBackend::open(
        &lz.path("state/ml-platform.sim-world.json"),
        Default::default(),
        Default::default(),
    )
    .unwrap();
    let member = sim.member_snapshot(&landfall_engine::provider::MemberScope {
        account_id: dev_id,
        region: "us-east-1".into(),
    });
    assert!(
        !member.vpcs[&vpc_id].tags.contains_key("landfall:address"),
        "{:?}",
        member.vpcs[&vpc_id]
    );
    assert_eq!(
        member.keys[&key_id].aliases.len(),
        0,
        "no alias was declared"
    );

    // Removing the declarations forgets the imported resources; nothing is deleted.
    std::fs::write(lz.path("landfall.toml"), BASE_LZ).unwrap();
    let plan = lz.plan_json();
    for c in plan["changes"].as_array().unwrap() {
        let address = c["address"].as_str().unwrap();
        if imported.iter().any(|(a, _)| *a == address) {
            assert_eq!(c["action"], "forget", "{c:#}");
        }
    }
}

/// A wrong id is refused at plan time: exit 1, nothing applied, the block and id named.
#[test]
fn an_import_of_an_id_that_does_not_exist_fails_the_plan_on_sim() {
    let lz = Lz::from_config(BASE_LZ, On::Sim);
    lz.apply_ok();
    lz.append(
        "landfall.toml",
        "\n[ou.Workloads]\n\n[[import]]\nto = \"ou.Workloads\"\nid = \"ou-abcd-99999999\"\n",
    );
    for args in [&["plan"][..], &["apply", "--auto-approve"]] {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("[[import]] id = \"ou-abcd-99999999\"") && err.contains("ou.Workloads"),
            "{err}"
        );
    }
    assert!(!state_list(&lz).contains_key("ou.Workloads"));
    // A shape that cannot be an OU id never reaches AWS: a located error.
    lz.edit("landfall.toml", "ou-abcd-99999999", "123456789012");
    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("`123456789012` is a 12-digit account id; ou.Workloads needs an OU id"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("landfall.toml:"), "{}", stderr(&out));
}

/// On moto: an OU and an SCP created through the SDK, imported by id.
#[test]
fn import_blocks_adopt_an_ou_and_an_scp_made_outside_on_moto() {
    let _moto = moto_session();
    let lz = Lz::from_config(
        &BASE_LZ.replace(
            "home_region = \"us-east-1\"\n",
            "home_region = \"us-east-1\"\nbackend = \"aws\"\n",
        ),
        On::Moto,
    );
    lz.apply_ok();
    let (ou_id, scp_id) = runtime().block_on(async {
        let console = Console::connect(&moto_url()).await;
        console.create_ou("Legacy").await.unwrap();
        let scp_id = console
            .create_policy("deny-leave-org", DENY_LEAVE)
            .await
            .unwrap();
        let view = console.view().await.unwrap();
        (view.ous["Legacy"].clone(), scp_id)
    });
    lz.append(
        "landfall.toml",
        &format!(
            r#"
[ou.Workloads]

[scp.deny-leave-org]
content = '{DENY_LEAVE}'
targets = ["ou:Workloads"]

[[import]]
to = "ou.Workloads"
id = "{ou_id}"

[[import]]
to = "scp.deny-leave-org"
id = "{scp_id}"
"#
        ),
    );
    let plan = lz.plan_json();
    for (address, id) in [("ou.Workloads", &ou_id), ("scp.deny-leave-org", &scp_id)] {
        let change = plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("{address} not in {plan:#}"));
        assert_eq!(change["action"], "adopt", "{change:#}");
        assert_eq!(change["id"], id.as_str(), "{change:#}");
    }
    let human = stdout(&lz.run(&["plan"]));
    assert!(
        human.contains(&format!("ou.Workloads (import {ou_id})")),
        "{human}"
    );
    lz.apply_ok();
    lz.assert_converged();
    let listed = state_list(&lz);
    assert_eq!(
        listed["ou.Workloads"],
        (ou_id.clone(), "adopted".to_string())
    );
    assert_eq!(
        listed["scp.deny-leave-org"],
        (scp_id.clone(), "adopted".to_string())
    );
    let view =
        runtime().block_on(async { Console::connect(&moto_url()).await.view().await.unwrap() });
    assert_eq!(view.ous.get("Workloads"), Some(&ou_id), "renamed in place");
    assert!(!view.ous.contains_key("Legacy"));
}
