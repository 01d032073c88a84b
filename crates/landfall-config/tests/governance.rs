//! Control Tower controls and presets, Account Factory settings and Service Catalog
//! portfolios: what valid configurations load into, and the checks that depend on
//! what no file declares (the single-problem cases are in the corpus).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use landfall_config::{Diagnostics, Loaded, Severity, json_schema, load_sources};
use landfall_core::model::{ACCOUNT_FACTORY_PRODUCT, AccountFactory};
use landfall_core::{Address, OuPath, Target};
use serde_json::json;

const LZ: &str = "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\n";
const OUS: &str = "[ou.Workloads]\n[ou.\"Workloads/Workloads_Dev\"]\n\
[ou.\"Workloads/Workloads_Prod\"]\n[ou.Sandbox]\n";

fn ok(text: &str) -> Loaded {
    match load_sources(vec![("landfall.toml".into(), text.into())], Path::new("")) {
        Ok(l) => l,
        Err(d) => panic!("unexpected errors:\n{}", d.render(false)),
    }
}

fn errors(text: &str) -> Diagnostics {
    match load_sources(vec![("landfall.toml".into(), text.into())], Path::new("")) {
        Ok(_) => panic!("loaded without errors"),
        Err(d) => d,
    }
}

fn codes(d: &Diagnostics) -> Vec<&'static str> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.code)
        .collect()
}

fn warning_codes(d: &Diagnostics) -> Vec<&'static str> {
    d.iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| d.code)
        .collect()
}

fn ou(p: &str) -> OuPath {
    OuPath::parse(p).unwrap()
}

#[test]
fn without_control_tower_nothing_changes() {
    let l = ok(&format!("{LZ}{OUS}"));
    let lz = &l.desired.landing_zone;
    assert_eq!(lz.account_factory, AccountFactory::Organizations);
    assert!(lz.control_tower.is_none());
    assert!(l.desired.controls.is_empty());
    assert!(l.desired.portfolios.is_empty());
}

#[test]
fn control_tower_settings_have_defaults_and_overrides() {
    let l = ok(&format!("{LZ}{OUS}[control_tower]\n"));
    let ct = l.desired.landing_zone.control_tower.clone().unwrap();
    assert_eq!(ct.control_operations_in_flight, 10);
    assert_eq!(ct.account_operations_in_flight, 5);
    assert_eq!(ct.account_factory_product, ACCOUNT_FACTORY_PRODUCT);
    assert!(ct.unregistered_ous.is_empty());

    let l = ok(&format!(
        "{LZ}{OUS}[control_tower]\ncontrol_operations_in_flight = 20\n\
         account_operations_in_flight = 2\naccount_factory_product = \"prod-abc\"\n\
         unregistered_ous = [\"Sandbox\"]\n"
    ));
    let ct = l.desired.landing_zone.control_tower.clone().unwrap();
    assert_eq!(ct.control_operations_in_flight, 20);
    assert_eq!(ct.account_operations_in_flight, 2);
    assert_eq!(ct.account_factory_product, "prod-abc");
    assert_eq!(
        ct.unregistered_ous.into_iter().collect::<Vec<_>>(),
        vec![ou("Sandbox")]
    );
}

#[test]
fn a_preset_expands_per_ou_without_its_mandatory_members() {
    let l = ok(&format!(
        "{LZ}{OUS}[control_tower]\n[guardrails.ml-baseline]\n\
         targets = [\"ou:Workloads/Workloads_Dev\", \"ou:Workloads/Workloads_Prod\"]\n"
    ));
    let controls = &l.desired.controls;
    // 5 non-mandatory members × 2 OUs.
    assert_eq!(controls.len(), 10);
    assert!(
        controls
            .iter()
            .all(|c| c.preset.as_deref() == Some("ml-baseline"))
    );
    assert!(controls.iter().all(|c| c.parameters.is_empty()));
    for mandatory in [
        "AWS-GR_CLOUDTRAIL_ENABLED",
        "AWS-GR_CONFIG_ENABLED",
        "AWS-GR_AUDIT_BUCKET_DELETION_PROHIBITED",
    ] {
        assert!(
            controls.iter().all(|c| c.control != mandatory),
            "{mandatory}"
        );
    }
    let mfa = controls
        .iter()
        .find(|c| {
            c.control == "AWS-GR_ROOT_ACCOUNT_MFA_ENABLED" && c.ou == ou("Workloads/Workloads_Dev")
        })
        .unwrap();
    assert_eq!(
        mfa.arn,
        "arn:aws:controltower:us-east-1::control/AWS-GR_ROOT_ACCOUNT_MFA_ENABLED"
    );
    assert_eq!(mfa.origin.line, 9, "the preset's key");
    // Sorted by address.
    let addresses: Vec<Address> = controls.iter().map(|c| c.address()).collect();
    let mut sorted = addresses.clone();
    sorted.sort();
    assert_eq!(addresses, sorted);
    assert!(l.desired.addresses().contains(&Address::Control(
        "AWS-GR_S3_VERSIONING_ENABLED".into(),
        ou("Workloads/Workloads_Prod")
    )));
}

#[test]
fn an_explicit_control_wins_over_the_preset_on_its_ou() {
    let l = ok(&format!(
        "{LZ}{OUS}[control_tower]\n[guardrails.ml-baseline]\n\
         targets = [\"ou:Workloads/Workloads_Dev\", \"ou:Workloads/Workloads_Prod\"]\n\
         [control.\"AWS-GR_S3_VERSIONING_ENABLED\"]\ntargets = [\"ou:Workloads/Workloads_Dev\"]\n\
         [control.\"AWS-GR_RESTRICT_ROOT_USER\"]\ntargets = [\"ou:Workloads\"]\n\
         parameters = {{ ExemptAssumeRoot = true }}\n"
    ));
    let controls = &l.desired.controls;
    assert_eq!(controls.len(), 11);
    let versioning: Vec<_> = controls
        .iter()
        .filter(|c| c.control == "AWS-GR_S3_VERSIONING_ENABLED")
        .collect();
    assert_eq!(versioning.len(), 2);
    let dev = versioning
        .iter()
        .find(|c| c.ou == ou("Workloads/Workloads_Dev"))
        .unwrap();
    assert_eq!(dev.preset, None, "the explicit declaration wins");
    let prod = versioning
        .iter()
        .find(|c| c.ou == ou("Workloads/Workloads_Prod"))
        .unwrap();
    assert_eq!(prod.preset.as_deref(), Some("ml-baseline"));
    let root = controls
        .iter()
        .find(|c| c.control == "AWS-GR_RESTRICT_ROOT_USER")
        .unwrap();
    assert_eq!(root.parameters["ExemptAssumeRoot"], json!(true));
}

#[test]
fn control_arns_are_built_or_taken_as_written() {
    let l = ok(&format!(
        "[landing_zone]\nname = \"t\"\nhome_region = \"eu-west-1\"\n{OUS}[control_tower]\n\
         [control.\"AWS-GR_RESTRICTED_SSH\"]\ntargets = [\"ou:Workloads\"]\n\
         [control.\"arn:aws:controlcatalog:::control/k4izcjxhukijhajp6ks5mjxk\"]\n\
         targets = [\"ou:Workloads\"]\nparameters = {{ Anything = [\"goes\"] }}\n\
         [control.\"arn:aws:controltower:eu-west-1::control/AWS-GR_ENCRYPTED_VOLUMES\"]\n\
         targets = [\"ou:Sandbox\"]\n\
         [control.\"CT.MULTISERVICE.PV.1\"]\narn = \"arn:aws:controlcatalog:::control/regiondenyid\"\n\
         targets = [\"ou:Workloads/Workloads_Dev\"]\n\
         parameters = {{ AllowedRegions = [\"eu-west-1\", \"eu-central-1\"], ExemptedActions = [\"iam:*\"] }}\n"
    ));
    let find = |id: &str| {
        l.desired
            .controls
            .iter()
            .find(|c| c.control == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    assert_eq!(
        find("AWS-GR_RESTRICTED_SSH").arn,
        "arn:aws:controltower:eu-west-1::control/AWS-GR_RESTRICTED_SSH"
    );
    let global = find("k4izcjxhukijhajp6ks5mjxk");
    assert_eq!(
        global.arn,
        "arn:aws:controlcatalog:::control/k4izcjxhukijhajp6ks5mjxk"
    );
    assert_eq!(global.parameters["Anything"], json!(["goes"]));
    assert_eq!(
        find("AWS-GR_ENCRYPTED_VOLUMES").arn,
        "arn:aws:controltower:eu-west-1::control/AWS-GR_ENCRYPTED_VOLUMES"
    );
    let deny = find("CT.MULTISERVICE.PV.1");
    assert_eq!(deny.arn, "arn:aws:controlcatalog:::control/regiondenyid");
    assert_eq!(
        deny.parameters["AllowedRegions"],
        json!(["eu-west-1", "eu-central-1"])
    );
    assert_eq!(deny.ou, ou("Workloads/Workloads_Dev"));
    assert_eq!(
        deny.address().to_string(),
        "control.CT.MULTISERVICE.PV.1:ou.Workloads/Workloads_Dev"
    );
}

#[test]
fn govcloud_controls_use_the_govcloud_partition() {
    let l = ok(
        "[landing_zone]\nname = \"t\"\nhome_region = \"us-gov-west-1\"\n[ou.W]\n[control_tower]\n\
         [control.\"AWS-GR_RESTRICTED_SSH\"]\ntargets = [\"ou:W\"]\n",
    );
    assert_eq!(
        l.desired.controls[0].arn,
        "arn:aws-us-gov:controltower:us-gov-west-1::control/AWS-GR_RESTRICTED_SSH"
    );
}

#[test]
fn controls_may_be_declared_in_several_files() {
    let files = vec![
        (
            "a.toml".to_string(),
            format!(
                "{LZ}{OUS}[control_tower]\n[control.\"AWS-GR_RESTRICTED_SSH\"]\ntargets = [\"ou:Workloads\"]\n"
            ),
        ),
        (
            "b.toml".to_string(),
            "[control.\"AWS-GR_RESTRICTED_SSH\"]\ntargets = [\"ou:Sandbox\"]\n\
             [guardrails.ml-baseline]\ntargets = [\"ou:Sandbox\"]\n"
                .to_string(),
        ),
    ];
    let l = load_sources(files.clone(), Path::new("")).unwrap();
    assert_eq!(
        l.desired
            .controls
            .iter()
            .filter(|c| c.control == "AWS-GR_RESTRICTED_SSH")
            .count(),
        2
    );
    // The same control twice on one OU, across files, is an error.
    let mut files = files;
    files[1].1 = "[control.\"AWS-GR_RESTRICTED_SSH\"]\ntargets = [\"ou:Workloads\"]\n".into();
    let d = load_sources(files, Path::new("")).unwrap_err();
    assert_eq!(codes(&d), vec!["LF839"]);
}

#[test]
fn a_target_listed_twice_is_a_warning() {
    let l = ok(&format!(
        "{LZ}{OUS}[control_tower]\n[control.\"AWS-GR_RESTRICTED_SSH\"]\n\
         targets = [\"ou:Workloads\", \"ou:Workloads\"]\n"
    ));
    assert_eq!(warning_codes(&l.warnings), vec!["LF906"]);
    assert_eq!(l.desired.controls.len(), 1);
}

#[test]
fn account_factory_resolves_sso_users() {
    let text = format!(
        "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\n\
         account_factory = \"control_tower\"\n{OUS}\
         [control_tower]\nsso_user = {{ email = \"platform@example.com\", first_name = \"ML\", last_name = \"Platform\" }}\n\
         [account.ml-dev]\nemail = \"aws+ml-dev@example.com\"\nou = \"Workloads/Workloads_Dev\"\n\
         [account.ml-prod]\nemail = \"aws+ml-prod@example.com\"\nou = \"Workloads/Workloads_Prod\"\n\
         sso_user = {{ email = \"prod-owner@example.com\", first_name = \"Prod\", last_name = \"Owner\" }}\n"
    );
    let l = ok(&text);
    assert_eq!(
        l.desired.landing_zone.account_factory,
        AccountFactory::ControlTower
    );
    assert!(l.desired.uses_account_factory());
    let dev = l.desired.accounts["ml-dev"].sso_user.clone().unwrap();
    assert_eq!(dev.email, "platform@example.com");
    assert_eq!(dev.first_name, "ML");
    let prod = l.desired.accounts["ml-prod"].sso_user.clone().unwrap();
    assert_eq!(prod.email, "prod-owner@example.com");
    assert_eq!(prod.last_name, "Owner");

    // Without Account Factory the users are not set (and an account's own is warned
    // about).
    let organizations = text.replace("account_factory = \"control_tower\"\n", "");
    let l = ok(&organizations);
    assert!(l.desired.accounts.values().all(|a| a.sso_user.is_none()));
    assert_eq!(warning_codes(&l.warnings), vec!["LF907"]);
}

#[test]
fn account_factory_needs_control_tower_and_users() {
    let d = errors(&format!(
        "{LZ}account_factory = \"control_tower\"\n{OUS}\
         [account.ml-dev]\nemail = \"aws+ml-dev@example.com\"\nou = \"Workloads\"\n"
    ));
    assert_eq!(codes(&d), vec!["LF824"], "no cascade into LF825");

    let d = errors(&format!(
        "{LZ}account_factory = \"control_tower\"\n{OUS}[control_tower]\n\
         [account.ml-dev]\nemail = \"aws+ml-dev@example.com\"\nou = \"Workloads\"\n"
    ));
    assert_eq!(codes(&d), vec!["LF825"]);

    // An invalid default is reported once, not once per account.
    let d = errors(&format!(
        "{LZ}account_factory = \"control_tower\"\n{OUS}[control_tower]\n\
         sso_user = {{ email = \"nope\", first_name = \"A\", last_name = \"B\" }}\n\
         [account.ml-dev]\nemail = \"aws+ml-dev@example.com\"\nou = \"Workloads\"\n\
         [account.ml-prod]\nemail = \"aws+ml-prod@example.com\"\nou = \"Workloads\"\n"
    ));
    assert_eq!(codes(&d), vec!["LF826"]);
}

#[test]
fn controls_need_control_tower() {
    let d = errors(&format!(
        "{LZ}{OUS}[control.\"AWS-GR_RESTRICTED_SSH\"]\ntargets = [\"ou:Workloads\"]\n\
         [guardrails.ml-baseline]\ntargets = [\"ou:Workloads\"]\n"
    ));
    assert_eq!(codes(&d), vec!["LF823", "LF823"]);
}

#[test]
fn portfolios_are_resolved_with_their_shares() {
    let l = ok(&format!(
        "{LZ}{OUS}[account.ml-dev]\nemail = \"aws+ml-dev@example.com\"\nou = \"Workloads\"\n\
         [portfolio.ml-products]\ndisplay_name = \"ML products\"\nprovider = \"ML platform team\"\n\
         description = \"Approved products\"\ntags = {{ team = \"ml\" }}\nshare_tag_options = true\n\
         shares = [\"organization\", \"ou:Workloads/Workloads_Dev\", \"account:ml-dev\"]\n\
         [portfolio.legacy]\nid = \"port-abcd1234efgh5\"\nshares = [\"root\"]\n\
         [portfolio.plain]\nprovider = \"Me\"\n"
    ));
    let p = &l.desired.portfolios["ml-products"];
    assert_eq!(p.display_name, "ML products");
    assert_eq!(p.provider, "ML platform team");
    assert_eq!(p.description, "Approved products");
    assert_eq!(p.tags["team"], "ml");
    assert!(p.share_tag_options);
    assert_eq!(p.existing_id, None);
    assert_eq!(
        p.shares.iter().cloned().collect::<Vec<_>>(),
        vec![
            Target::Root,
            Target::Ou(ou("Workloads/Workloads_Dev")),
            Target::Account("ml-dev".into())
        ]
    );
    let legacy = &l.desired.portfolios["legacy"];
    assert_eq!(legacy.existing_id.as_deref(), Some("port-abcd1234efgh5"));
    assert_eq!(
        legacy.shares.iter().cloned().collect::<Vec<_>>(),
        vec![Target::Root]
    );
    let plain = &l.desired.portfolios["plain"];
    assert_eq!(
        plain.display_name, "plain",
        "the key is the default display name"
    );
    assert!(!plain.share_tag_options);
    assert!(plain.shares.is_empty());
    let addresses = l.desired.addresses();
    assert!(addresses.contains(&Address::Portfolio("ml-products".into())));
    assert!(addresses.contains(&Address::PortfolioShare("ml-products".into(), Target::Root)));
}

#[test]
fn blueprint_portfolios_are_shared_with_every_project_account() {
    let text = format!(
        "{LZ}{OUS}[ou.Deployments]\n[ou.\"Deployments/Deployments_Prod\"]\n\
         [blueprint]\nportfolios = [\"ml-products\"]\n\
         [project.fraud]\nstages = [\"dev\", \"prod\"]\nregion = \"us-east-1\"\n\
         cidrs = {{ dev = \"10.64.0.0/20\", prod = \"10.64.16.0/20\" }}\n\
         [portfolio.ml-products]\nprovider = \"ML platform team\"\nshares = [\"ou:Sandbox\"]\n"
    );
    let l = ok(&text);
    let shares: Vec<Target> = l.desired.portfolios["ml-products"]
        .shares
        .iter()
        .cloned()
        .collect();
    assert_eq!(
        shares,
        vec![
            Target::Ou(ou("Sandbox")),
            Target::Account("fraud-dev".into()),
            Target::Account("fraud-prod".into()),
        ]
    );
    assert_eq!(
        l.desired.project_of(&Address::PortfolioShare(
            "ml-products".into(),
            Target::Account("fraud-dev".into())
        )),
        Some("fraud")
    );

    let d = errors(&text.replace(
        "portfolios = [\"ml-products\"]",
        "portfolios = [\"ml-product\"]",
    ));
    assert_eq!(codes(&d), vec!["LF851"]);
}

#[test]
fn the_schema_describes_the_new_sections() {
    let schema = json_schema();
    for section in ["control_tower", "control", "guardrails", "portfolio"] {
        assert!(schema["properties"][section].is_object(), "{section}");
    }
    assert_eq!(schema["$defs"]["Control"]["required"], json!(["targets"]));
    assert!(schema["$defs"]["LandingZone"]["properties"]["account_factory"].is_object());
    assert!(schema["$defs"]["Account"]["properties"]["sso_user"].is_object());
    assert!(!schema.to_string().contains("\"null\""), "TOML has no null");
}

#[test]
fn an_unquoted_dotted_control_id_gets_a_hint() {
    let d = errors(&format!(
        "{LZ}{OUS}[control_tower]\n[control.CT.MULTISERVICE.PV.1]\ntargets = [\"ou:Workloads\"]\n"
    ));
    assert_eq!(codes(&d), vec!["LF101"], "{}", d.render(false));
    let help = d
        .iter()
        .next()
        .and_then(|d| d.help.clone())
        .unwrap_or_default();
    assert!(
        help.contains("[control.\"CT.MULTISERVICE.PV.1\"]"),
        "{help}"
    );
}
