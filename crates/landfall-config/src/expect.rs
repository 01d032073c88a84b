//! `[[expect]]`: requests the SCPs must allow or deny. Each entry names its scope (a
//! declared OU or account), one action, a resource and request context, and
//! optionally a declared permission set whose session makes the request; validation
//! checks their form and references, the policy evaluation itself happens elsewhere.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::OuPath;
use landfall_core::model::{ExpectScope, Expectation, ExpectedDecision, TagExpectation};

use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::raw::{RawContextValue, RawExpect};
use crate::sources::Loc;
use crate::suggest::{closest, did_you_mean};
use crate::validator::Validator;

const DECISIONS: [&str; 2] = ["allow", "deny"];

impl Validator<'_> {
    /// Every file's `[[expect]]` entries, in file order, then entry order.
    pub(crate) fn expectations(
        &mut self,
        files: &[ParsedFile],
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        permission_sets: &BTreeSet<String>,
    ) -> (Vec<Expectation>, Vec<TagExpectation>) {
        let mut out = Vec::new();
        let mut tagged = Vec::new();
        for file in files {
            for decl in &file.expectations {
                let Some(raw) = &decl.body else { continue };
                if raw.tags.is_some() || raw.resource_type.is_some() || raw.compliant.is_some() {
                    if let Some(e) = self.tag_expectation(decl, raw, ous, accounts) {
                        tagged.push(e);
                    }
                } else if let Some(e) = self.expectation(decl, raw, ous, accounts, permission_sets)
                {
                    out.push(e);
                }
            }
        }
        (out, tagged)
    }

    /// An `[[expect]]` entry with `tags`: a resource type, its tags and whether they
    /// comply, in a scope. The request keys (`action`, `decision`, `resource`,
    /// `context`, `permission_set`) belong to the other kind of expectation.
    fn tag_expectation(
        &mut self,
        decl: &Decl<RawExpect>,
        raw: &RawExpect,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> Option<TagExpectation> {
        let src = decl.key.source;
        let mut ok = true;
        let request_keys = [
            ("action", raw.action.as_ref().map(|v| self.loc(src, v))),
            ("decision", raw.decision.as_ref().map(|v| self.loc(src, v))),
            ("resource", raw.resource.as_ref().map(|v| self.loc(src, v))),
            (
                "permission_set",
                raw.permission_set.as_ref().map(|v| self.loc(src, v)),
            ),
            (
                "context",
                raw.context
                    .as_ref()
                    .and_then(|c| c.keys().next())
                    .map(|k| self.loc(src, k)),
            ),
        ];
        for (key, loc) in request_keys {
            let Some(loc) = loc else { continue };
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF946",
                    format!("an [[expect]] entry about tags has `{key}`"),
                )
                .at(&loc, "a request key")
                .help(
                    "an expectation is either a request (`action`, `decision`, ...) the policies \
                     must allow or deny, or a resource's `tags` the tag policies must accept or \
                     report (`tags`, `resource_type`, `compliant`): write two [[expect]] entries",
                ),
            );
        }
        let scope = self.expect_scope(decl, raw, ous, accounts);
        let mut missing = Vec::new();
        if raw.tags.is_none() && !decl.dropped("tags") {
            missing.push("tags");
        }
        if raw.resource_type.is_none() && !decl.dropped("resource_type") {
            missing.push("resource_type");
        }
        if raw.compliant.is_none() && !decl.dropped("compliant") {
            missing.push("compliant");
        }
        if !missing.is_empty() {
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF947",
                    format!(
                        "an [[expect]] entry about tags lacks {}",
                        missing
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .at(
                    &decl.table,
                    "`tags`, `resource_type` and `compliant` go together",
                )
                .help(
                    "e.g. `tags = { project = \"churn\", environment = \"prod\" }`, \
                     `resource_type = \"sagemaker:endpoint\"`, `compliant = true`",
                ),
            );
        }
        let resource_type =
            raw.resource_type.as_ref().and_then(|t| {
                let value = t.get_ref();
                if resource_type_is_well_formed(value) {
                    Some(value.clone())
                } else {
                    self.push(
                    Diagnostic::error("LF948", format!("`{value}` is not a resource type"))
                        .at(&self.loc(src, t), "tag policies write resource types `service:type`")
                        .help(
                            "e.g. `sagemaker:endpoint`, `s3:bucket` or `ec2:instance` (lowercase \
                             service, a colon, the type; no wildcards)",
                        ),
                );
                    None
                }
            });
        let tags = self.tags(src, raw.tags.as_ref(), "[[expect]] tags");
        let tags_given = raw.tags.is_some();
        let compliant = raw.compliant.as_ref().map(|c| *c.get_ref());
        if !ok || !tags_given {
            return None;
        }
        Some(TagExpectation {
            scope: scope?,
            resource_type: resource_type?,
            tags,
            compliant: compliant?,
            description: raw.description.as_ref().map(|d| d.get_ref().clone()),
            origin: self.origin(&decl.key),
        })
    }

    fn expectation(
        &mut self,
        decl: &Decl<RawExpect>,
        raw: &RawExpect,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        permission_sets: &BTreeSet<String>,
    ) -> Option<Expectation> {
        let src = decl.key.source;
        let scope = self.expect_scope(decl, raw, ous, accounts);
        let (action, decision) = match (&raw.action, &raw.decision) {
            (Some(a), Some(d)) => (
                self.expect_action(a.get_ref(), &self.loc(src, a)),
                self.expect_decision(d.get_ref(), &self.loc(src, d)),
            ),
            (a, d) => {
                let missing: Vec<&str> = [("action", a.is_none()), ("decision", d.is_none())]
                    .into_iter()
                    .filter(|(k, absent)| *absent && !decl.dropped(k))
                    .map(|(k, _)| k)
                    .collect();
                if !missing.is_empty() {
                    self.push(
                        Diagnostic::error(
                            "LF947",
                            format!(
                                "an [[expect]] entry lacks {}",
                                missing
                                    .iter()
                                    .map(|k| format!("`{k}`"))
                                    .collect::<Vec<_>>()
                                    .join(" and ")
                            ),
                        )
                        .at(
                            &decl.table,
                            "`action` and `decision` (or `tags`) are required",
                        )
                        .help(
                            "a request: `action = \"sagemaker:CreateEndpoint\"` and \
                             `decision = \"deny\"`; or a resource's tags: `tags`, \
                             `resource_type` and `compliant`",
                        ),
                    );
                }
                (None, None)
            }
        };
        let resource = match &raw.resource {
            Some(r) => self.expect_resource(r.get_ref(), &self.loc(src, r)),
            None => Some("*".to_string()),
        };
        let context = self.expect_context(src, raw.context.as_ref());
        let permission_set = raw.permission_set.as_ref().map(|set| {
            self.expect_permission_set(set.get_ref(), &self.loc(src, set), permission_sets)
        });
        Some(Expectation {
            scope: scope?,
            action: action?,
            resource: resource?,
            context: context?,
            decision: decision?,
            description: raw.description.as_ref().map(|d| d.get_ref().clone()),
            permission_set: match permission_set {
                Some(set) => Some(set?),
                None => None,
            },
            origin: self.origin(&decl.key),
        })
    }

    /// The `ou` or `account` of an entry (exactly one).
    fn expect_scope(
        &mut self,
        decl: &Decl<RawExpect>,
        raw: &RawExpect,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> Option<ExpectScope> {
        let src = decl.key.source;
        match (&raw.ou, &raw.account) {
            (Some(ou), None) => self.expect_ou(ou.get_ref(), &self.loc(src, ou), ous),
            (None, Some(account)) => {
                self.expect_account(account.get_ref(), &self.loc(src, account), accounts)
            }
            (Some(ou), Some(account)) => {
                self.push(
                    Diagnostic::error("LF860", "an [[expect]] entry has both `ou` and `account`")
                        .at(&self.loc(src, ou), "an OU")
                        .at(&self.loc(src, account), "and an account")
                        .help(
                            "an expectation is checked in one account, or in every account of \
                             one OU: keep one of them, and write another [[expect]] for the other",
                        ),
                );
                None
            }
            (None, None) => {
                // A dropped (wrongly typed or misspelt) `ou` or `account` is reported
                // already.
                let reported = decl.dropped.iter().any(|k| {
                    closest(k, ["ou", "account"]).is_some() || k == "ou" || k == "account"
                });
                if !reported {
                    self.push(
                        Diagnostic::error(
                            "LF860",
                            "an [[expect]] entry has neither `ou` nor `account`",
                        )
                        .at(&decl.table, "`ou` or `account` is required here")
                        .help(
                            "add `ou = \"Workloads/Workloads_Dev\"` (every account in the OU and \
                             the OUs below it) or `account = \"NAME\"` (one account)",
                        ),
                    );
                }
                None
            }
        }
    }

    fn expect_ou(
        &mut self,
        value: &str,
        loc: &Loc,
        declared: &BTreeSet<String>,
    ) -> Option<ExpectScope> {
        let path = match OuPath::parse(value) {
            Ok(p) => p,
            Err(e) => {
                let mut d = Diagnostic::error(
                    "LF861",
                    "the `ou` of an [[expect]] entry is not a valid OU path",
                )
                .at(loc, e);
                d = d.help(scope_hint(value));
                self.push(d);
                return None;
            }
        };
        if declared.contains(value) {
            return Some(ExpectScope::Ou(path));
        }
        let mut d = Diagnostic::error(
            "LF861",
            format!("an [[expect]] entry names OU `{value}`, which is not declared"),
        )
        .at(loc, "no such OU");
        // `ou = "ou:Security"`: the target syntax where a plain path belongs.
        let unprefixed = value
            .strip_prefix("ou:")
            .or_else(|| value.strip_prefix("ou."))
            .filter(|p| declared.contains(*p));
        if let Some(p) = unprefixed {
            d = d.help(format!("write the OU path alone: `ou = \"{p}\"`"));
        } else {
            d = d.maybe_help(did_you_mean(value, declared.iter().map(String::as_str)));
        }
        if value.eq_ignore_ascii_case("root") {
            d = d.help(scope_hint(value));
        } else if unprefixed.is_none() {
            d = d.help(format!("declare it with [ou.{}]", toml_key(value)));
        }
        self.push(d);
        None
    }

    fn expect_account(
        &mut self,
        value: &str,
        loc: &Loc,
        declared: &BTreeSet<String>,
    ) -> Option<ExpectScope> {
        if declared.contains(value) {
            return Some(ExpectScope::Account(value.to_string()));
        }
        let unprefixed = value
            .strip_prefix("account:")
            .or_else(|| value.strip_prefix("account."))
            .filter(|a| declared.contains(*a));
        let mut d = Diagnostic::error(
            "LF862",
            format!("an [[expect]] entry names account `{value}`, which is not declared"),
        )
        .at(loc, "no such account");
        if let Some(a) = unprefixed {
            d = d.help(format!("write the account name alone: `account = \"{a}\"`"));
        } else {
            d = d
                .maybe_help(did_you_mean(value, declared.iter().map(String::as_str)))
                .help(
                    "expectations are checked in declared member accounts (SCPs do not \
                     apply to the management account)",
                );
        }
        self.push(d);
        None
    }

    fn expect_permission_set(
        &mut self,
        value: &str,
        loc: &Loc,
        declared: &BTreeSet<String>,
    ) -> Option<String> {
        if declared.contains(value) {
            return Some(value.to_string());
        }
        self.push(
            Diagnostic::error(
                "LF889",
                format!(
                    "an [[expect]] entry names permission set `{value}`, which is not declared"
                ),
            )
            .at(loc, "no such permission set")
            .maybe_help(did_you_mean(value, declared.iter().map(String::as_str)))
            .help(format!(
                "declare it with [permission_set.{}], or leave `permission_set` out to \
                 check the SCPs alone",
                toml_key(value)
            )),
        );
        None
    }

    fn expect_action(&mut self, value: &str, loc: &Loc) -> Option<String> {
        if value.contains(['*', '?']) {
            self.push(
                Diagnostic::error(
                    "LF863",
                    format!("`{value}` names several actions; an expectation is one request"),
                )
                .at(loc, "wildcards are not allowed here")
                .help(
                    "a request names exactly one action: write one [[expect]] per action, \
                     e.g. `action = \"sagemaker:CreateEndpoint\"`",
                ),
            );
            return None;
        }
        if action_is_well_formed(value) {
            return Some(value.to_string());
        }
        self.push(
            Diagnostic::error("LF863", format!("`{value}` is not an action"))
                .at(loc, "actions are written `service:Action`")
                .help(
                    "the service prefix, a colon and the action name, e.g. \
                     `sagemaker:CreateEndpoint` or `cloudtrail:StopLogging`",
                ),
        );
        None
    }

    fn expect_resource(&mut self, value: &str, loc: &Loc) -> Option<String> {
        if value == "*" || value.starts_with("arn:") {
            return Some(value.to_string());
        }
        self.push(
            Diagnostic::error("LF866", format!("`{value}` is not a resource ARN"))
                .at(loc, "expected `*` or an ARN (`arn:...`)")
                .help(
                    "e.g. `resource = \"arn:aws:sagemaker:us-east-1:*:endpoint/*\"`, or leave \
                     out `resource` for any resource (`*`)",
                ),
        );
        None
    }

    fn expect_decision(&mut self, value: &str, loc: &Loc) -> Option<ExpectedDecision> {
        match value {
            "allow" => return Some(ExpectedDecision::Allow),
            "deny" => return Some(ExpectedDecision::Deny),
            _ => {}
        }
        let lower = value.to_ascii_lowercase();
        let help = if DECISIONS.contains(&lower.as_str()) {
            Some(format!("write it in lowercase: `decision = \"{lower}\"`"))
        } else {
            did_you_mean(value, DECISIONS)
        };
        self.push(
            Diagnostic::error("LF864", format!("`{value}` is not a decision"))
                .at(loc, "expected `allow` or `deny`")
                .maybe_help(help)
                .help(
                    "`allow`: the SCPs let the request through; `deny`: an SCP denies it, \
                     explicitly or for want of an Allow",
                ),
        );
        None
    }

    /// Request context keys and values; `None` when one of them is wrong.
    fn expect_context(
        &mut self,
        src: crate::sources::SourceId,
        raw: Option<
            &BTreeMap<serde_spanned::Spanned<String>, serde_spanned::Spanned<RawContextValue>>,
        >,
    ) -> Option<BTreeMap<String, Vec<String>>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        let Some(raw) = raw else {
            return Some(out);
        };
        for (key, value) in raw {
            let k = key.get_ref();
            let key_loc = self.loc(src, key);
            if k.trim().is_empty() {
                // Its value says nothing without a key.
                ok = false;
                self.push(
                    Diagnostic::error("LF865", "an empty request context key")
                        .at(&key_loc, "empty key")
                        .help(
                            "context keys are condition keys, e.g. `aws:RequestedRegion` or \
                             `sagemaker:VpcSubnets`",
                        ),
                );
                continue;
            } else if !context_key_is_well_formed(k) {
                ok = false;
                self.push(
                    Diagnostic::error("LF867", format!("`{k}` is not a condition key"))
                        .at(&key_loc, "expected `prefix:name`")
                        .help(
                            "condition keys carry their service prefix: `aws:RequestedRegion`, \
                             `aws:RequestTag/project`, `sagemaker:VpcSubnets`; a key not \
                             written so would never match a policy's condition",
                        ),
                );
            }
            let values = match value.get_ref() {
                RawContextValue::One(v) => {
                    if v.is_empty() {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                "LF865",
                                format!("request context key `{k}` has an empty value"),
                            )
                            .at(&self.loc(src, value), "empty value")
                            .help(
                                "give the value the request carries, or leave the key out to \
                                 make it absent from the request",
                            ),
                        );
                    }
                    vec![v.clone()]
                }
                RawContextValue::Many(list) => {
                    if list.is_empty() {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                "LF865",
                                format!("request context key `{k}` has no value"),
                            )
                            .at(&self.loc(src, value), "empty list")
                            .help(
                                "list the values the request carries, or leave the key out to \
                                 make it absent from the request",
                            ),
                        );
                    }
                    for v in list.iter().filter(|v| v.get_ref().is_empty()) {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                "LF865",
                                format!("request context key `{k}` has an empty value"),
                            )
                            .at(&self.loc(src, v), "empty value")
                            .help("remove it, or give the value the request carries"),
                        );
                    }
                    list.iter().map(|v| v.get_ref().clone()).collect()
                }
            };
            out.insert(k.clone(), values);
        }
        ok.then_some(out)
    }
}

/// `service:Action`: a service prefix of letters, digits and `-`, an action name of
/// letters and digits.
/// `service:type`, as tag policies' `enforced_for` names resource types: a lowercase
/// service prefix, a colon and a type of letters, digits and `-`.
fn resource_type_is_well_formed(value: &str) -> bool {
    let Some((service, kind)) = value.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !kind.is_empty()
        && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn action_is_well_formed(value: &str) -> bool {
    let Some((service, action)) = value.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && !action.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && action.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `prefix:name`: a non-empty prefix of letters, digits and `-`, then a name.
fn context_key_is_well_formed(key: &str) -> bool {
    let Some((prefix, name)) = key.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && !name.trim().is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn scope_hint(value: &str) -> String {
    if value.is_empty() || value.eq_ignore_ascii_case("root") || value == "/" {
        "the root is not a scope: write one [[expect]] per top-level OU, or name an account"
            .to_string()
    } else {
        "OU paths look like `Workloads/Workloads_Dev`".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_name_one_service_action() {
        assert!(action_is_well_formed("sagemaker:CreateEndpoint"));
        assert!(action_is_well_formed("aws-marketplace:Subscribe"));
        assert!(!action_is_well_formed("CreateEndpoint"));
        assert!(!action_is_well_formed("sagemaker:"));
        assert!(!action_is_well_formed(":CreateEndpoint"));
        assert!(!action_is_well_formed("sagemaker:Create Endpoint"));
        assert!(!action_is_well_formed("sagemaker:Create:Endpoint"));
    }

    #[test]
    fn context_keys_carry_a_prefix() {
        assert!(context_key_is_well_formed("aws:RequestedRegion"));
        assert!(context_key_is_well_formed("aws:RequestTag/cost-center"));
        assert!(context_key_is_well_formed("sagemaker:VpcSubnets"));
        assert!(!context_key_is_well_formed("RequestedRegion"));
        assert!(!context_key_is_well_formed(":x"));
        assert!(!context_key_is_well_formed("aws:"));
    }
}
