//! `[permission_set.NAME]`: the name, description and session duration rules of
//! `CreatePermissionSet`, the persona preset filling what is not given, AWS-managed
//! and customer-managed policy references (at most 20 per set; above IAM's default of
//! 10 per role a warning), the inline policy, the permissions boundary and tags.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::model::{CustomerPolicyRef, PermissionSetSpec, PermissionsBoundary};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::identity::personas;
use crate::raw::{RawCustomerPolicy, RawPermissionSet};
use crate::sources::{Loc, SourceId};
use crate::suggest::did_you_mean;
use crate::validator::{Merged, Validator};

const MAX_NAME: usize = 32;
const MAX_DESCRIPTION: usize = 700;
/// Identity Center's quota of AWS-managed plus customer-managed policies per set.
const MAX_POLICIES: usize = 20;
/// IAM's default quota of managed policies per role: a set with more needs it raised
/// in every account it is provisioned to.
const IAM_DEFAULT_POLICIES_PER_ROLE: usize = 10;
/// `PT1H` (AWS's default) to `PT12H`.
const SESSION_MINUTES: std::ops::RangeInclusive<u32> = 60..=720;
pub(crate) const DEFAULT_SESSION: &str = "PT1H";
const MAX_POLICY_NAME: usize = 128;
const MAX_POLICY_PATH: usize = 512;

/// Why a permission set name is invalid (`CreatePermissionSet`: 1–32 characters of
/// `[\w+=,.@-]`), if it is.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME {
        return Some(format!(
            "{len} characters; a permission set name has 1 to {MAX_NAME}"
        ));
    }
    iam_name_chars(name)
}

/// `[\w+=,.@-]`: the characters of IAM names (and permission set names).
fn iam_name_chars(name: &str) -> Option<String> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
        .map(|c| format!("`{c}` is not allowed: use letters, digits and `_+=,.@-`"))
}

/// `CreatePermissionSet`'s description pattern: tab, newline, carriage return,
/// printable ASCII and Latin-1 (`\u00A1`-`\u00FF`).
fn description_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}')
}

/// The session duration in minutes: `PT#H`, `PT#M` or `PT#H#M`.
pub(crate) fn session_minutes(text: &str) -> Result<u32, String> {
    let bad = || format!("`{text}` is not an ISO-8601 duration of hours and minutes");
    let rest = text.strip_prefix("PT").ok_or_else(bad)?;
    let (hours, rest) = match rest.split_once('H') {
        Some((h, r)) => (Some(h), r),
        None => (None, rest),
    };
    let minutes = match rest {
        "" => None,
        r => Some(r.strip_suffix('M').ok_or_else(bad)?),
    };
    let number = |s: &str| -> Result<u32, String> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse::<u32>().map_err(|_| bad())
    };
    if hours.is_none() && minutes.is_none() {
        return Err(bad());
    }
    let h = hours.map(number).transpose()?.unwrap_or(0);
    let m = minutes.map(number).transpose()?.unwrap_or(0);
    Ok(h.saturating_mul(60).saturating_add(m))
}

/// The canonical form of a duration: `PT8H`, `PT90M` → `PT1H30M`, `PT45M`.
pub(crate) fn canonical_session(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (h, 0) => format!("PT{h}H"),
        (0, m) => format!("PT{m}M"),
        (h, m) => format!("PT{h}H{m}M"),
    }
}

/// Why an IAM path is invalid (`/` or `/a/b/`: `((/[A-Za-z0-9.,+@=_-]+)*)/`), if it is.
fn path_problem(path: &str) -> Option<String> {
    if path.len() > MAX_POLICY_PATH {
        return Some(format!("at most {MAX_POLICY_PATH} characters"));
    }
    if !path.starts_with('/') || !path.ends_with('/') {
        return Some("an IAM path starts and ends with `/`".into());
    }
    let Some(inner) = path.strip_prefix('/').and_then(|p| p.strip_suffix('/')) else {
        // `/` alone: the root path.
        return None;
    };
    for segment in inner.split('/') {
        if segment.is_empty() {
            return Some("an IAM path has no empty segment (`//`)".into());
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || ".,+@=_-".contains(*c)))
        {
            return Some(format!(
                "`{c}` is not allowed in an IAM path: use letters, digits and `.,+@=_-`"
            ));
        }
    }
    None
}

impl Validator<'_> {
    pub(crate) fn permission_sets(
        &mut self,
        decls: &Merged<'_, RawPermissionSet>,
    ) -> BTreeMap<String, PermissionSetSpec> {
        let mut out = BTreeMap::new();
        for decl in &decls.first {
            let name = &decl.name;
            if let Some(problem) = name_problem(name) {
                self.push(
                    Diagnostic::error("LF872", format!("invalid permission set name `{name}`"))
                        .at(&decl.key, problem)
                        .help(
                            "the key is the permission set's name in AWS: 1 to 32 letters, \
                             digits and `_+=,.@-`, e.g. [permission_set.DataScientist]",
                        ),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let owner = format!("permission set `{name}`");
            let persona = match &raw.persona {
                Some(key) => self.persona(src, key, &owner),
                None => None,
            };
            let persona_ok = raw.persona.is_none() || persona.is_some();

            let description = match &raw.description {
                Some(d) => self.set_description(src, d, &owner),
                None => persona.map(|p| p.description.clone()),
            };
            let session_duration = match &raw.session_duration {
                Some(s) => self.session_duration(src, s, &owner),
                None => Some(
                    persona
                        .and_then(|p| session_minutes(&p.session_duration).ok())
                        .map(canonical_session)
                        .unwrap_or_else(|| DEFAULT_SESSION.to_string()),
                ),
            };

            // Managed policies: the declaration's, or the preset's (ARNs already).
            let mut managed = BTreeSet::new();
            let mut seen: HashMap<String, Loc> = HashMap::new();
            let mut count_at: Vec<Loc> = Vec::new();
            match &raw.managed_policies {
                Some(list) => {
                    for item in list {
                        let loc = self.loc(src, item);
                        let Some(arn) = self.managed_policy(src, item, &owner) else {
                            count_at.push(loc);
                            continue;
                        };
                        if let Some(first) = seen.get(&arn) {
                            self.push(
                                Diagnostic::warning(
                                    "LF911",
                                    format!("{owner} lists `{arn}` twice"),
                                )
                                .at(&loc, "listed again here")
                                .at(first, "first listed here")
                                .help("remove one of them"),
                            );
                            continue;
                        }
                        seen.insert(arn.clone(), loc.clone());
                        count_at.push(loc);
                        managed.insert(arn);
                    }
                }
                None => {
                    if let Some(p) = persona {
                        managed.extend(p.managed_policies.iter().cloned());
                        count_at.extend(p.managed_policies.iter().map(|_| decl.key.clone()));
                    }
                }
            }

            let mut customer = BTreeSet::new();
            let mut seen_customer: HashMap<CustomerPolicyRef, Loc> = HashMap::new();
            for item in raw.customer_managed_policies.iter().flatten() {
                let loc = self.loc(src, item);
                count_at.push(loc.clone());
                let Some(r) = self.customer_policy(src, item.get_ref(), &owner) else {
                    continue;
                };
                if let Some(first) = seen_customer.get(&r) {
                    self.push(
                        Diagnostic::warning("LF911", format!("{owner} lists `{r}` twice"))
                            .at(&loc, "listed again here")
                            .at(first, "first listed here")
                            .help("remove one of them"),
                    );
                    continue;
                }
                seen_customer.insert(r.clone(), loc);
                customer.insert(r);
            }
            self.policy_count(&count_at, &owner, decl.key.clone());

            let inline = match &raw.inline_policy {
                Some(v) => self.inline_policy(src, v, name),
                None => persona
                    .and_then(|p| p.inline_policy_text())
                    .map(landfall_core::model::canonical_json),
            };
            let boundary_ok;
            let permissions_boundary = match &raw.permissions_boundary {
                Some(b) => {
                    let r = self.boundary(src, b, &owner);
                    boundary_ok = r.is_some();
                    r
                }
                None => {
                    boundary_ok = true;
                    None
                }
            };
            let tags = self.tags(src, raw.tags.as_ref(), &format!("permission_set.{name}"));
            let inline_ok = raw.inline_policy.is_none() || inline.is_some();
            let (Some(session_duration), true, true, true) =
                (session_duration, persona_ok, inline_ok, boundary_ok)
            else {
                continue;
            };
            out.insert(
                name.clone(),
                PermissionSetSpec {
                    name: name.clone(),
                    description,
                    session_duration,
                    managed_policies: managed,
                    customer_managed_policies: customer,
                    inline_policy: inline,
                    permissions_boundary,
                    tags,
                    persona: raw.persona.as_ref().map(|p| p.get_ref().clone()),
                    origin: self.origin(&decl.key),
                },
            );
        }
        out
    }

    /// A persona preset by key; unknown ones are reported with the known ones.
    pub(crate) fn persona(
        &mut self,
        src: SourceId,
        key: &Spanned<String>,
        owner: &str,
    ) -> Option<&'static personas::Persona> {
        if let Some(p) = personas::get(key.get_ref()) {
            return Some(p);
        }
        let loc = self.loc(src, key);
        self.push(
            Diagnostic::error(
                "LF882",
                format!(
                    "{owner} names persona `{}`, which is not a preset",
                    key.get_ref()
                ),
            )
            .at(&loc, "no such persona")
            .maybe_help(did_you_mean(key.get_ref(), personas::keys()))
            .help(format!(
                "the personas are {} (crates/landfall-config/data/identity/personas.toml)",
                personas::known_list()
            )),
        );
        None
    }

    fn set_description(
        &mut self,
        src: SourceId,
        d: &Spanned<String>,
        owner: &str,
    ) -> Option<String> {
        let text = d.get_ref();
        let loc = self.loc(src, d);
        let len = text.chars().count();
        let problem = if len == 0 {
            Some("empty: leave `description` out instead".to_string())
        } else if len > MAX_DESCRIPTION {
            Some(format!("{len} characters; at most {MAX_DESCRIPTION}"))
        } else {
            text.chars()
                .find(|c| !description_char_ok(*c))
                .map(|c| format!("`{}` is not allowed", c.escape_default()))
        };
        match problem {
            Some(p) => {
                self.push(
                    Diagnostic::error("LF873", format!("invalid description of {owner}"))
                        .at(&loc, p)
                        .help(
                            "CreatePermissionSet takes 1 to 700 characters: printable ASCII, \
                             Latin-1 letters, tabs and line breaks",
                        ),
                );
                None
            }
            None => Some(text.clone()),
        }
    }

    /// The canonical session duration, or `None` (reported).
    fn session_duration(
        &mut self,
        src: SourceId,
        s: &Spanned<String>,
        owner: &str,
    ) -> Option<String> {
        let loc = self.loc(src, s);
        let text = s.get_ref();
        let minutes = match session_minutes(text) {
            Ok(m) => m,
            Err(why) => {
                let upper = text.to_ascii_uppercase();
                let d = Diagnostic::error("LF874", format!("invalid session duration of {owner}"))
                    .at(&loc, why)
                    .maybe_help(
                        (upper != *text && session_minutes(&upper).is_ok())
                            .then(|| format!("write it in uppercase: `{upper}`")),
                    )
                    .help("write `PT8H`, `PT90M` or `PT1H30M`: 1 to 12 hours");
                self.push(d);
                return None;
            }
        };
        if !SESSION_MINUTES.contains(&minutes) {
            self.push(
                Diagnostic::error(
                    "LF874",
                    format!(
                        "the session duration of {owner} is {}; Identity Center allows 1 to \
                         12 hours",
                        canonical_session(minutes)
                    ),
                )
                .at(&loc, "must be PT1H to PT12H")
                .help("the default is PT1H; longer sessions suit read-only or day-long work"),
            );
            return None;
        }
        Some(canonical_session(minutes))
    }

    /// A customer-managed policy reference (name and path), or `None` (reported).
    pub(crate) fn customer_policy(
        &mut self,
        src: SourceId,
        raw: &RawCustomerPolicy,
        owner: &str,
    ) -> Option<CustomerPolicyRef> {
        let name = raw.name.get_ref();
        let mut ok = true;
        let len = name.chars().count();
        let name_problem = if len == 0 || len > MAX_POLICY_NAME {
            Some(format!(
                "{len} characters; IAM policy names have 1 to {MAX_POLICY_NAME}"
            ))
        } else {
            iam_name_chars(name)
        };
        if let Some(p) = name_problem {
            ok = false;
            let loc = self.loc(src, &raw.name);
            self.push(
                Diagnostic::error(
                    "LF877",
                    format!("{owner} refers to customer-managed policy `{name}`, an invalid name"),
                )
                .at(&loc, p)
                .help(
                    "the policy's name in IAM (without its path): 1 to 128 letters, digits \
                     and `_+=,.@-`",
                ),
            );
        }
        let path = match &raw.path {
            Some(p) => {
                if let Some(problem) = path_problem(p.get_ref()) {
                    ok = false;
                    let loc = self.loc(src, p);
                    self.push(
                        Diagnostic::error(
                            "LF877",
                            format!("invalid IAM path `{}` in {owner}", p.get_ref()),
                        )
                        .at(&loc, problem)
                        .help("e.g. `path = \"/\"` (the default) or `path = \"/ml/\"`"),
                    );
                }
                p.get_ref().clone()
            }
            None => "/".to_string(),
        };
        ok.then(|| CustomerPolicyRef {
            name: name.clone(),
            path,
        })
    }

    /// At most 20 managed + customer-managed policies; above 10, IAM's quota per role
    /// must be raised in each account.
    fn policy_count(&mut self, items: &[Loc], owner: &str, key: Loc) {
        let n = items.len();
        if n > MAX_POLICIES {
            let at = items.get(MAX_POLICIES).cloned().unwrap_or(key);
            self.push(
                Diagnostic::error(
                    "LF876",
                    format!(
                        "{owner} has {n} managed and customer-managed policies; Identity \
                         Center allows {MAX_POLICIES}"
                    ),
                )
                .at(&at, format!("policy number {}", MAX_POLICIES + 1))
                .help(
                    "merge policies into fewer customer-managed ones, or move statements \
                     into the inline policy",
                ),
            );
        } else if n > IAM_DEFAULT_POLICIES_PER_ROLE {
            let at = items
                .get(IAM_DEFAULT_POLICIES_PER_ROLE)
                .cloned()
                .unwrap_or(key);
            self.push(
                Diagnostic::warning(
                    "LF910",
                    format!(
                        "{owner} has {n} managed and customer-managed policies; IAM allows \
                         {IAM_DEFAULT_POLICIES_PER_ROLE} per role unless raised"
                    ),
                )
                .at(
                    &at,
                    format!("policy number {}", IAM_DEFAULT_POLICIES_PER_ROLE + 1),
                )
                .help(
                    "request an increase of the IAM quota \"Managed policies per role\" in \
                     Service Quotas in every account this set is assigned to, or provisioning \
                     fails there",
                ),
            );
        }
    }

    /// `{ managed = ... }` or `{ customer = { name, path } }`.
    fn boundary(
        &mut self,
        src: SourceId,
        b: &Spanned<crate::raw::RawBoundary>,
        owner: &str,
    ) -> Option<PermissionsBoundary> {
        let loc = self.loc(src, b);
        let raw = b.get_ref();
        match (&raw.managed, &raw.customer) {
            (Some(m), None) => self
                .managed_policy(src, m, &format!("the permissions boundary of {owner}"))
                .map(PermissionsBoundary::Managed),
            (None, Some(c)) => self
                .customer_policy(src, c, &format!("the permissions boundary of {owner}"))
                .map(PermissionsBoundary::Customer),
            (Some(_), Some(_)) | (None, None) => {
                self.push(
                    Diagnostic::error(
                        "LF881",
                        format!("the permissions boundary of {owner} needs exactly one of `managed` and `customer`"),
                    )
                    .at(&loc, "one policy is the boundary")
                    .help(
                        "write `permissions_boundary = { managed = \"PowerUserAccess\" }` or \
                         `permissions_boundary = { customer = { name = \"NAME\", path = \"/\" } }`",
                    ),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_create_permission_set() {
        assert_eq!(name_problem("DataScientist"), None);
        assert_eq!(name_problem("a+b=c,d.e@f_g-h"), None);
        assert!(name_problem("").is_some());
        assert!(name_problem(&"x".repeat(33)).is_some());
        assert!(name_problem("Data Scientist").is_some());
        assert!(name_problem("data/scientist").is_some());
    }

    #[test]
    fn session_durations_are_hours_and_minutes() {
        assert_eq!(session_minutes("PT8H"), Ok(480));
        assert_eq!(session_minutes("PT90M"), Ok(90));
        assert_eq!(session_minutes("PT1H30M"), Ok(90));
        for bad in [
            "8h", "PT", "PTH", "PT1H30", "P1D", "PT1.5H", "PT-1H", "pt8h",
        ] {
            assert!(session_minutes(bad).is_err(), "{bad}");
        }
        assert_eq!(canonical_session(90), "PT1H30M");
        assert_eq!(canonical_session(60), "PT1H");
        assert_eq!(canonical_session(45), "PT45M");
    }

    #[test]
    fn iam_paths() {
        assert_eq!(path_problem("/"), None);
        assert_eq!(path_problem("/ml/"), None);
        assert_eq!(path_problem("/a/b.c/"), None);
        assert!(path_problem("ml/").is_some());
        assert!(path_problem("/ml").is_some());
        assert!(path_problem("//").is_some());
        assert!(path_problem("/a b/").is_some());
    }

    #[test]
    fn descriptions_are_latin1_text() {
        assert!("Données ML\n".chars().all(description_char_ok));
        assert!(!"emoji \u{1F600}".chars().all(description_char_ok));
        assert!(!"\u{7}".chars().all(description_char_ok));
    }
}
