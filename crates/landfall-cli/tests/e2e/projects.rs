//! Projects: `landfall project new` and the stage accounts it vends.

use crate::support::{Lz, On, changes, moto_session, stderr, stdout};

const PROJECT_STAGES: [(&str, &str); 5] = [
    ("sandbox", "Sandbox"),
    ("dev", "Workloads/Workloads_Dev"),
    ("preprod", "Workloads/Workloads_Prod"),
    ("prod", "Workloads/Workloads_Prod"),
    ("automation", "Deployments/Deployments_Prod"),
];

fn overlaps(a: &str, b: &str) -> bool {
    let parse = |c: &str| {
        let (ip, len) = c.split_once('/').unwrap();
        let ip: std::net::Ipv4Addr = ip.parse().unwrap();
        (u32::from(ip), len.parse::<u32>().unwrap())
    };
    let ((a, al), (b, bl)) = (parse(a), parse(b));
    let mask = |l: u32| if l == 0 { 0 } else { u32::MAX << (32 - l) };
    let l = al.min(bl);
    a & mask(l) == b & mask(l)
}

#[test]
fn project_new_then_apply_vends_the_stage_accounts() {
    project_new_then_apply(On::Sim);
}

#[test]
fn project_new_then_apply_vends_the_stage_accounts_on_moto() {
    let _moto = moto_session();
    project_new_then_apply(On::Moto);
}

fn project_new_then_apply(on: On) {
    let lz = Lz::example_on(on);
    let before = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&[
        "project",
        "new",
        "fraud-detection",
        "--owner",
        "fraud-ds-team",
        "--cost-center",
        "cc-3100",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The next command repeats the flags of this run (none but the backend here).
    let next = match on {
        On::Sim => "`landfall plan`, then `landfall apply`",
        On::Moto => "`landfall plan --backend aws`, then `landfall apply --backend aws`",
    };
    assert!(stderr(&out).contains(next), "{}", stderr(&out));
    let after = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    // Appended: the user's text (comments included) is kept byte for byte.
    assert!(after.starts_with(&before), "{after}");
    assert!(after.contains("[project.fraud-detection]"), "{after}");
    assert!(after.contains("owner = \"fraud-ds-team\""), "{after}");

    // The plan says which project each resource comes from... and the apply vends it.
    // (On a fresh moto server there is no organization until the apply creates it.)
    if on == On::Sim {
        let plan = lz.plan_json();
        assert!(
            plan["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["address"] == "account.fraud-detection-dev"
                    && c["project"] == "fraud-detection"),
            "the plan names the project of each resource"
        );
        assert!(stdout(&lz.run(&["plan"])).contains("# from project fraud-detection"));
    }
    lz.apply_ok();
    lz.assert_converged();
    let view = lz.view();
    let state = lz.state();
    let example_cidrs = ["10.20.0.0/16", "10.30.0.0/16"];
    let mut project_cidrs: Vec<String> = Vec::new();
    for (stage, ou) in PROJECT_STAGES {
        let name = format!("fraud-detection-{stage}");
        let email = format!("aws+{name}@example.com");
        assert_eq!(view.accounts[&email].1, ou, "{name}");
        let account = &state["resources"][format!("account.{name}")]["attributes"];
        assert_eq!(account["tags"]["project"], "fraud-detection");
        assert_eq!(account["tags"]["environment"], stage);
        assert_eq!(account["tags"]["owner"], "fraud-ds-team");
        assert_eq!(account["tags"]["cost-center"], "cc-3100");
        let member = lz.member_view(&name, "us-east-1");
        assert_eq!(member.vpc_cidrs.len(), 1, "{name}: {:?}", member.vpc_cidrs);
        assert_eq!(
            member.endpoints.len(),
            14,
            "{name}: {:?}",
            member.endpoints.keys()
        );
        assert_eq!(
            member.keys.get(&format!("alias/{name}")),
            Some(&true),
            "{name}"
        );
        let cidr = member.vpc_cidrs[0].clone();
        for other in example_cidrs
            .iter()
            .map(|s| s.to_string())
            .chain(project_cidrs.clone())
        {
            assert!(!overlaps(&cidr, &other), "{name}: {cidr} overlaps {other}");
        }
        project_cidrs.push(cidr);
    }
    // `[blueprint] personas`: the project's own groups, assigned per stage as the
    // presets say (docs/personas.md).
    let assigned = |set: &str, group: &str, stage: &str| {
        state["resources"]
            .get(format!(
                "assignment.{set}:group.fraud-detection-{group}:account.fraud-detection-{stage}"
            ))
            .is_some()
    };
    for stage in ["sandbox", "dev"] {
        assert!(
            assigned("DataScientist", "data-scientists", stage),
            "{stage}"
        );
    }
    for stage in ["preprod", "prod"] {
        assert!(assigned("MLReadOnly", "data-scientists", stage), "{stage}");
        assert!(
            !assigned("DataScientist", "data-scientists", stage),
            "{stage}"
        );
    }
    assert!(assigned("MLOpsEngineer", "mlops-engineers", "automation"));
    assert!(assigned("MLReadOnly", "mlops-engineers", "prod"));
    assert!(!assigned("MLOpsEngineer", "mlops-engineers", "prod"));

    // A second `project new` with the same name is refused; the file is unchanged.
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&["project", "new", "fraud-detection"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    // It says where the existing one is declared.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let line = 1 + text[..text.find("[project.fraud-detection]").unwrap()]
        .matches('\n')
        .count();
    assert!(
        stderr(&out).contains(&format!("(landfall.toml:{line}:10)")),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);

    // Removing the project forgets its accounts (never closes them), as the plan says.
    let text = String::from_utf8(bytes).unwrap();
    let start = text.find("\n# ML project `fraud-detection`").unwrap();
    std::fs::write(lz.path("landfall.toml"), &text[..start + 1]).unwrap();
    let plan = lz.plan_json();
    let list = changes(&plan);
    for (stage, _) in PROJECT_STAGES {
        let address = format!("account.fraud-detection-{stage}");
        assert!(
            list.contains(&(address.clone(), "forget".into())),
            "{address}: {list:?}"
        );
        assert!(!list.contains(&(address, "close".into())), "{list:?}");
    }
    let human = stdout(&lz.run(&["plan"]));
    assert!(human.contains("fraud-detection-dev"), "{human}");
}

#[test]
fn project_new_refuses_bad_names_quotas_and_collisions_writing_nothing() {
    let lz = Lz::example();
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let unchanged = || assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);
    // Invalid name.
    let out = lz.run(&["project", "new", "Fraud_Detection"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid project name"),
        "{}",
        stderr(&out)
    );
    unchanged();
    // An expanded name that exists (`ml-fraud` + `dev` = the example's account).
    let out = lz.run(&["project", "new", "ml-fraud"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("LF805"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    unchanged();
    // Unknown stage.
    let out = lz.run(&["project", "new", "churn", "--stages", "dev,qa"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown stage `qa`"),
        "{}",
        stderr(&out)
    );
    unchanged();
    // A quota: 12 accounts declared, 5 more would exceed 15.
    lz.edit(
        "landfall.toml",
        "[landing_zone.account_removal]",
        "[landing_zone.quotas]\nmax_accounts = 15\n\n[landing_zone.account_removal]",
    );
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&["project", "new", "churn"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("LF308"), "{}", stderr(&out));
    assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);
    // A pool with room for one VPC only.
    lz.edit(
        "landfall.toml",
        "[blueprint]\n",
        "[blueprint]\ncidr_pool = \"10.64.0.0/20\"\n",
    );
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&["project", "new", "churn", "--stages", "dev,prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no free /20 block"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);
}

#[test]
fn project_new_in_a_directory_writes_its_own_file() {
    let lz = Lz::example();
    std::fs::create_dir(lz.path("lz")).unwrap();
    std::fs::rename(lz.path("landfall.toml"), lz.path("lz/landfall.toml")).unwrap();
    std::fs::rename(lz.path("policies"), lz.path("lz/policies")).unwrap();
    let out = lz.run(&[
        "project",
        "new",
        "churn",
        "-c",
        "lz",
        "--stages",
        "dev,prod",
        "--region",
        "us-west-2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // `--region` was the project's region; the commands it suggests must not pass it
    // on, where it would be the SDK's region.
    let next = stderr(&out);
    assert!(
        next.contains("`landfall plan -c lz`, then `landfall apply -c lz`"),
        "{next}"
    );
    let text = std::fs::read_to_string(lz.path("lz/projects/churn.toml")).unwrap();
    assert!(text.contains("[project.churn]"), "{text}");
    assert!(text.contains("region = \"us-west-2\""), "{text}");
    assert!(text.contains("stages = [\"dev\", \"prod\"]"), "{text}");
    let out = lz.run(&["validate", "-c", "lz"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Refused the second time; nothing changes.
    let out = lz.run(&["project", "new", "churn", "-c", "lz"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(lz.path("lz/projects/churn.toml")).unwrap(),
        text
    );
    let out = lz.run(&["apply", "-c", "lz", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The state (and the sim world) live beside the configuration, not where the
    // command ran; the harness's views read them from the working directory's `state/`.
    assert!(lz.path("lz/state/ml-platform.state.json").exists());
    assert!(!lz.path("state").exists());
    std::fs::rename(lz.path("lz/state"), lz.path("state")).unwrap();
    let member = lz.member_view("churn-prod", "us-west-2");
    assert_eq!(member.endpoints.len(), 14);
}
