//! `[landing_zone.quotas]`: each quota checked (none may be 0), and the quotas in
//! force (the AWS defaults where a value is missing or invalid).

use landfall_core::model::Quotas;
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::raw::RawQuotas;
use crate::sources::SourceId;
use crate::validator::Validator;

impl Validator<'_> {
    pub(super) fn quotas(&mut self, src: SourceId, raw: &RawQuotas) -> Quotas {
        for (key, value) in quota_fields(raw) {
            if let Some(v) = value
                && *v.get_ref() == 0
            {
                let loc = self.loc(src, v);
                self.push(
                    Diagnostic::error("LF207", format!("quota `{key}` cannot be 0"))
                        .at(&loc, "must be at least 1")
                        .help("remove the key to use the AWS default"),
                );
            }
        }
        effective_quotas(raw)
    }
}

/// The quotas in force: the file's values, with the AWS default for any missing or
/// invalid (0) one, so a bad quota does not make every other check fail too.
pub(super) fn effective_quotas(raw: &RawQuotas) -> Quotas {
    let defaults = Quotas::default();
    let pick = |v: &Option<Spanned<u64>>, default: usize| {
        v.as_ref()
            .map(|v| *v.get_ref())
            .filter(|v| *v > 0)
            .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
            .unwrap_or(default)
    };
    Quotas {
        scp_max_chars: pick(&raw.scp_max_chars, defaults.scp_max_chars),
        scps_per_target: pick(&raw.scps_per_target, defaults.scps_per_target),
        ou_max_depth: pick(&raw.ou_max_depth, defaults.ou_max_depth),
        max_accounts: pick(&raw.max_accounts, defaults.max_accounts),
        interface_endpoints_per_vpc: pick(
            &raw.interface_endpoints_per_vpc,
            defaults.interface_endpoints_per_vpc,
        ),
        endpoint_policy_max_chars: pick(
            &raw.endpoint_policy_max_chars,
            defaults.endpoint_policy_max_chars,
        ),
        key_policy_max_bytes: pick(&raw.key_policy_max_bytes, defaults.key_policy_max_bytes),
    }
}

fn quota_fields(raw: &RawQuotas) -> [(&'static str, &Option<Spanned<u64>>); 7] {
    [
        ("scp_max_chars", &raw.scp_max_chars),
        ("scps_per_target", &raw.scps_per_target),
        ("ou_max_depth", &raw.ou_max_depth),
        ("max_accounts", &raw.max_accounts),
        (
            "interface_endpoints_per_vpc",
            &raw.interface_endpoints_per_vpc,
        ),
        ("endpoint_policy_max_chars", &raw.endpoint_policy_max_chars),
        ("key_policy_max_bytes", &raw.key_policy_max_bytes),
    ]
}
