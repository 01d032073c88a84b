//! Member accounts: networks and keys, on the sim and on moto.

use serde_json::Value;

use crate::support::{Lz, MemberOob, On, assert_valid_order, changes, moto_session, stdout};

fn assert_networks_are_live(lz: &Lz) {
    for (account, region, cidr) in [
        ("ml-fraud-dev", "us-east-1", "10.20.0.0/16"),
        ("ml-fraud-prod", "us-west-2", "10.30.0.0/16"),
    ] {
        let v = lz.member_view(account, region);
        assert_eq!(v.vpc_cidrs, vec![cidr.to_string()], "{account}");
        assert_eq!(v.endpoints.len(), 14, "{account}: {:?}", v.endpoints.keys());
        let (policy, private_dns) = v
            .endpoints
            .get("sagemaker.api")
            .unwrap_or_else(|| panic!("{account}: {:?}", v.endpoints.keys()));
        assert!(*private_dns);
        let id = lz.account_id(account);
        assert_eq!(
            policy["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalAccount"],
            Value::String(id),
            "{account}: the policy names its own account"
        );
        // (moto reports private DNS on gateway endpoints, which AWS does not.)
        if lz.on == On::Sim {
            assert!(
                !v.endpoints["s3"].1,
                "gateway endpoints have no private DNS"
            );
        }
        assert_eq!(
            v.keys.get(&format!("alias/{account}")),
            Some(&true),
            "{account}: key with rotation"
        );
    }
    // Nothing leaked into the other account's region.
    assert!(
        lz.member_view("ml-fraud-dev", "us-west-2")
            .vpc_cidrs
            .is_empty()
    );
}

#[test]
fn networks_and_keys_on_sim() {
    networks_and_keys(On::Sim);
}

#[test]
fn networks_and_keys_on_moto() {
    let _moto = moto_session();
    networks_and_keys(On::Moto);
}

fn networks_and_keys(on: On) {
    let lz = Lz::example_on(on);
    lz.apply_ok();
    lz.assert_converged();
    assert_networks_are_live(&lz);

    // Out-of-band: delete an endpoint, change a policy, disable rotation, add an endpoint.
    lz.member_oob(MemberOob::DeleteEndpoint {
        net: "ml-fraud-dev-use1",
        account: "ml-fraud-dev",
        region: "us-east-1",
        service: "sagemaker.runtime",
    });
    lz.member_oob(MemberOob::SetEndpointPolicy {
        net: "ml-fraud-prod-usw2",
        account: "ml-fraud-prod",
        region: "us-west-2",
        service: "sts",
        policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
    });
    lz.member_oob(MemberOob::DisableRotation {
        account: "ml-fraud-dev",
        region: "us-east-1",
        key: "ml-fraud-dev",
    });
    lz.member_oob(MemberOob::CreateEndpoint {
        net: "ml-fraud-dev-use1",
        account: "ml-fraud-dev",
        region: "us-east-1",
        vpc_cidr: "10.20.0.0/16",
        service: "kms",
    });
    let out = lz.run(&["drift", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (class, address) in [
        ("missing", "endpoint.ml-fraud-dev-use1.sagemaker.runtime"),
        ("changed", "endpoint.ml-fraud-prod-usw2.sts"),
        ("changed", "kms_key.ml-fraud-dev"),
        ("unmanaged", "endpoint.ml-fraud-dev-use1.kms"),
    ] {
        assert!(
            found.contains(&(class.to_string(), address.to_string())),
            "{class} {address} not in {found:?}"
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
    assert_networks_are_live(&lz);

    // A policy change is an in-place update showing the JSON difference; a service
    // change is a replacement.
    lz.edit(
        "policies/endpoint-account-only.json",
        "\"aws:PrincipalAccount\": \"${account_id}\"",
        "\"aws:PrincipalAccount\": \"${account_id}\", \"aws:PrincipalOrgID\": \"o-example\"",
    );
    lz.append("landfall.toml", "\n[network.scratch]\naccount = \"ml-fraud-sandbox\"\nregion = \"us-east-1\"\ncidr = \"10.40.0.0/16\"\nsubnets = [{ az = \"us-east-1a\", cidr = \"10.40.1.0/24\" }]\nendpoints = [\"sts\"]\n");
    lz.apply_ok();
    let human = stdout(&lz.run(&["plan"]));
    assert!(human.contains("No changes."), "{human}");
    lz.edit(
        "landfall.toml",
        "endpoints = [\"sts\"]",
        "endpoints = [\"kms\"]",
    );
    lz.edit(
        "policies/endpoint-account-only.json",
        "\"aws:PrincipalOrgID\": \"o-example\"",
        "\"aws:PrincipalOrgID\": \"o-other\"",
    );
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let list = changes(&plan);
    assert!(
        list.contains(&("endpoint.scratch.kms".into(), "replace".into())),
        "{list:?}"
    );
    assert!(
        list.contains(&("endpoint.scratch.sts".into(), "delete".into())),
        "{list:?}"
    );
    assert!(
        list.contains(&("endpoint.ml-fraud-dev-use1.sts".into(), "update".into())),
        "{list:?}"
    );
    let human = stdout(&lz.run(&["plan"]));
    let line_with = |sign: char, text: &str| {
        human
            .lines()
            .any(|l| l.trim_start().starts_with(sign) && l.contains(text))
    };
    assert!(
        line_with('-', "\"aws:PrincipalOrgID\": \"o-example\"")
            && line_with('+', "\"aws:PrincipalOrgID\": \"o-other\""),
        "{human}"
    );
    lz.apply_ok();
    lz.assert_converged();

    // Removing a key Landfall created schedules its deletion.
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let start = text.find("[kms_key.ml-fraud-prod]").unwrap();
    std::fs::write(lz.path("landfall.toml"), &text[..start]).unwrap();
    let plan = lz.plan_json();
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "kms_key.ml-fraud-prod")
        .unwrap();
    assert_eq!(change["action"], "delete");
    assert!(
        change["reason"]
            .as_str()
            .unwrap()
            .contains("deletion scheduled in 30 days"),
        "{change}"
    );
    lz.apply_ok();
    lz.assert_converged();
}

/// A new CIDR replaces a VPC Landfall created: what is in it is deleted once (endpoints
/// first), the VPC is created again with the new block, its contents with it, and the
/// next plan is empty.
#[test]
fn a_vpc_cidr_change_replaces_the_network_on_sim() {
    let lz = Lz::example();
    lz.apply_ok();
    lz.edit(
        "landfall.toml",
        "cidr = \"10.20.0.0/16\"\nsubnets = [\n  { az = \"us-east-1a\", cidr = \"10.20.1.0/24\" },\n  { az = \"us-east-1b\", cidr = \"10.20.2.0/24\" },",
        "cidr = \"10.21.0.0/16\"\nsubnets = [\n  { az = \"us-east-1a\", cidr = \"10.21.1.0/24\" },\n  { az = \"us-east-1b\", cidr = \"10.21.2.0/24\" },",
    );
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let list = changes(&plan);
    assert!(
        list.contains(&("vpc.ml-fraud-dev-use1".into(), "replace".into())),
        "{list:?}"
    );
    for old in [
        "subnet.ml-fraud-dev-use1.10.20.1.0/24",
        "subnet.ml-fraud-dev-use1.10.20.2.0/24",
    ] {
        let removals: Vec<_> = list.iter().filter(|(a, _)| a == old).collect();
        assert_eq!(removals, [&(old.to_string(), "delete".to_string())]);
    }
    lz.apply_ok();
    lz.assert_converged();
    assert_eq!(
        lz.member_view("ml-fraud-dev", "us-east-1").vpc_cidrs,
        ["10.21.0.0/16"]
    );
}
