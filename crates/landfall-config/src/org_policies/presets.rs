//! The organization policy presets Landfall ships (`data/organization_policies/`):
//! `preset = "NAME"` in place of `content` or `file`. Each belongs to one policy
//! type; the `data_perimeter` RCP names the organization, so its table gives
//! `organization_id` (Organizations substitutes no variables in policies).

use landfall_core::model::OrgPolicyType;

/// A shipped document.
pub(crate) struct Preset {
    pub name: &'static str,
    pub policy_type: OrgPolicyType,
    pub text: &'static str,
    /// The document names the organization (`${organization_id}`).
    pub needs_organization_id: bool,
}

pub(crate) const PRESETS: &[Preset] = &[
    Preset {
        name: "data_perimeter",
        policy_type: OrgPolicyType::Rcp,
        text: include_str!("../../data/organization_policies/data_perimeter.json"),
        needs_organization_id: true,
    },
    Preset {
        name: "cost_tags",
        policy_type: OrgPolicyType::Tag,
        text: include_str!("../../data/organization_policies/cost_tags.json"),
        needs_organization_id: false,
    },
    Preset {
        name: "opt_out_all",
        policy_type: OrgPolicyType::AiOptOut,
        text: include_str!("../../data/organization_policies/opt_out_all.json"),
        needs_organization_id: false,
    },
];

pub(crate) const ORGANIZATION_ID_VARIABLE: &str = "${organization_id}";

pub(crate) fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The names of the presets of one type, for hints.
pub(crate) fn names_of(policy_type: OrgPolicyType) -> Vec<&'static str> {
    PRESETS
        .iter()
        .filter(|p| p.policy_type == policy_type)
        .map(|p| p.name)
        .collect()
}

/// Why `id` is not an organization id (`o-` and 10 to 32 lowercase letters or
/// digits, the pattern of Organizations' `Organization.Id`), if it is not.
pub(crate) fn organization_id_problem(id: &str) -> Option<&'static str> {
    let Some(rest) = id.strip_prefix("o-") else {
        return Some("an organization id starts with `o-`");
    };
    let ok = (10..=32).contains(&rest.len())
        && rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (!ok).then_some("`o-` and 10 to 32 lowercase letters or digits")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use landfall_policy::Severity;

    /// Every shipped preset passes its own type's grammar, without warnings, and fits
    /// its size quota.
    #[test]
    fn presets_are_valid_documents_of_their_type() {
        for p in PRESETS {
            let text = p.text.replace(ORGANIZATION_ID_VARIABLE, "o-a1b2c3d4e5");
            let findings = super::super::document::lint(p.policy_type, p.name, &text);
            assert!(findings.is_empty(), "{}: {findings:?}", p.name);
            assert!(
                !findings.iter().any(|f| f.severity == Severity::Error),
                "{}",
                p.name
            );
            let size = landfall_core::model::minify_json(&text)
                .unwrap()
                .chars()
                .count();
            assert!(
                size <= super::super::quotas::max_chars(p.policy_type),
                "{}",
                p.name
            );
            assert_eq!(
                p.needs_organization_id,
                p.text.contains(ORGANIZATION_ID_VARIABLE),
                "{}",
                p.name
            );
        }
    }

    #[test]
    fn organization_ids() {
        assert_eq!(organization_id_problem("o-a1b2c3d4e5"), None);
        assert!(organization_id_problem("a1b2c3d4e5").is_some());
        assert!(organization_id_problem("o-short").is_some());
        assert!(organization_id_problem("o-A1B2C3D4E5").is_some());
    }

    /// The data perimeter does what its documentation says, evaluated as AWS would
    /// (RCPs of the resource's account, RCPFullAWSAccess beside it).
    #[test]
    fn the_data_perimeter_keeps_outsiders_and_plain_http_out() {
        use landfall_policy::{
            Layer, Layers, Level, PolicyKind, Request, evaluate_principal, parse_as,
            rcp_full_aws_access,
        };
        let text = find("data_perimeter")
            .unwrap()
            .text
            .replace(ORGANIZATION_ID_VARIABLE, "o-a1b2c3d4e5");
        let perimeter = parse_as(PolicyKind::Rcp, "data_perimeter", &text).unwrap();
        let managed = rcp_full_aws_access();
        let grant = landfall_policy::parse(
            "grant",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap();
        let levels = [Level {
            name: "root".into(),
            policies: vec![&managed, &perimeter],
        }];
        let identity = [&grant];
        let layers = Layers {
            scps: None,
            identity: &identity,
            boundary: None,
            rcps: Some(&levels),
        };
        let get = |org: &str, service: bool, tls: bool| {
            Request::new("s3:GetObject", "arn:aws:s3:::ml-data/train.csv")
                .with("aws:PrincipalOrgID", [org])
                .with("aws:PrincipalIsAWSService", [service.to_string()])
                .with("aws:SecureTransport", [tls.to_string()])
        };
        let inside = evaluate_principal(&layers, &get("o-a1b2c3d4e5", false, true));
        assert!(inside.is_allow(), "{inside:?}");
        let outside = evaluate_principal(&layers, &get("o-zz9988776655", false, true));
        assert_eq!(outside.layer(), Layer::Rcp, "{outside:?}");
        let plain = evaluate_principal(&layers, &get("o-a1b2c3d4e5", false, false));
        assert_eq!(plain.layer(), Layer::Rcp, "{plain:?}");
        // An AWS service acting for this organization (CloudTrail writing the trail)
        // passes; acting for another organization, it does not.
        let service = |org: &str| {
            Request::new("s3:PutObject", "arn:aws:s3:::trail/AWSLogs/o-a1b2c3d4e5/x")
                .with("aws:PrincipalIsAWSService", ["true"])
                .with("aws:SourceOrgID", [org])
                .with("aws:SourceAccount", ["111122223333"])
                .with("aws:SecureTransport", ["true"])
        };
        assert!(evaluate_principal(&layers, &service("o-a1b2c3d4e5")).is_allow());
        assert_eq!(
            evaluate_principal(&layers, &service("o-zz9988776655")).layer(),
            Layer::Rcp
        );
    }
}
