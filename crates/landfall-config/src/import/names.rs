//! Live names that are not valid Landfall names, mapped to valid ones. AWS allows
//! more in some names than Landfall's addresses can carry (spaces in account names,
//! `/` in OU names) and allows duplicates where an address must be unique (two
//! accounts with one name); the mapped name is written, the original kept in a
//! comment, and the first plan names the rename it implies.

use std::collections::BTreeSet;

use crate::rules::{account_name_problem, ou_segment_problem, scp_name_problem};

/// The last `n` characters of an id (`123456789012` → `9012`), to tell apart names
/// that map to the same text.
fn id_suffix(id: &str, n: usize) -> String {
    let chars: Vec<char> = id.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

/// Keeps only the characters `keep` allows, others replaced by `-`, runs of `-`
/// collapsed, at most `max` characters, starting with a letter or digit.
fn squeeze(name: &str, keep: impl Fn(char) -> bool, max: usize) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if keep(c) { c } else { '-' };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let trimmed = trimmed.trim_end_matches('-');
    trimmed.chars().take(max).collect()
}

/// One namespace of unique names (accounts, SCPs, the children of one OU).
#[derive(Default)]
pub(super) struct Names {
    taken: BTreeSet<String>,
}

/// A name as written, and the live name when it had to change.
pub(super) struct Mapped {
    pub name: String,
    pub original: Option<String>,
}

impl Names {
    /// A namespace where `reserved` names are taken from the start.
    pub(super) fn reserving(reserved: &[&str]) -> Self {
        Names {
            taken: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// `valid` is the name if Landfall accepts it, else the mapped text to try;
    /// `fallback` is used when the mapping leaves nothing. A name taken already gets
    /// the id's last characters appended.
    fn take(
        &mut self,
        live: &str,
        valid: Option<String>,
        fallback: String,
        id: &str,
        max: usize,
    ) -> Mapped {
        let mut name = valid.filter(|n| !n.is_empty()).unwrap_or(fallback);
        if self.taken.contains(&name) {
            let suffix = format!("-{}", id_suffix(id, 6));
            let keep = max.saturating_sub(suffix.chars().count());
            name = format!("{}{suffix}", name.chars().take(keep).collect::<String>());
        }
        self.taken.insert(name.clone());
        Mapped {
            original: (name != live).then(|| live.to_string()),
            name,
        }
    }

    pub(super) fn account(&mut self, live: &str, id: &str) -> Mapped {
        let valid = match account_name_problem(live) {
            None => Some(live.to_string()),
            Some(_) => Some(squeeze(
                live,
                |c| c.is_ascii_alphanumeric() || "._-".contains(c),
                50,
            )),
        };
        self.take(live, valid, format!("account-{id}"), id, 50)
    }

    pub(super) fn scp(&mut self, live: &str, id: &str) -> Mapped {
        let valid = match scp_name_problem(live) {
            None => Some(live.to_string()),
            Some(_) => Some(squeeze(
                live,
                |c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c),
                128,
            )),
        };
        self.take(live, valid, format!("scp-{id}"), id, 128)
    }

    /// A network or key name (`[a-z0-9][a-z0-9-]{0,62}`), already mapped by the caller.
    pub(super) fn resource(&mut self, mapped: &str, id: &str) -> Mapped {
        let fallback = format!(
            "r-{}",
            id.to_ascii_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        );
        self.take(
            mapped,
            Some(mapped.to_string()),
            fallback.chars().take(63).collect(),
            id,
            63,
        )
    }

    pub(super) fn ou_segment(&mut self, live: &str, id: &str) -> Mapped {
        let valid = match ou_segment_problem(live) {
            None if !live.contains('/') => Some(live.to_string()),
            _ => {
                let cleaned: String = live
                    .chars()
                    .filter(|c| !c.is_control())
                    .map(|c| if c == '/' { '-' } else { c })
                    .collect();
                Some(
                    cleaned
                        .trim()
                        .chars()
                        .take(128)
                        .collect::<String>()
                        .trim()
                        .to_string(),
                )
            }
        };
        self.take(live, valid, id.to_string(), id, 128)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_kept() {
        let mut n = Names::default();
        let m = n.account("ml-dev", "111111111111");
        assert_eq!((m.name.as_str(), m.original), ("ml-dev", None));
    }

    #[test]
    fn invalid_account_names_are_mapped_and_kept() {
        let mut n = Names::default();
        let m = n.account("ML Dev (team a)", "111111111111");
        assert_eq!(m.name, "ML-Dev-team-a");
        assert_eq!(m.original.as_deref(), Some("ML Dev (team a)"));
        assert!(account_name_problem(&m.name).is_none());
    }

    #[test]
    fn duplicates_get_the_id_suffix() {
        let mut n = Names::default();
        assert_eq!(n.account("dev", "111111111111").name, "dev");
        let second = n.account("dev", "222222223456");
        assert_eq!(second.name, "dev-223456");
        assert_eq!(second.original.as_deref(), Some("dev"));
    }

    #[test]
    fn ou_names_lose_slashes() {
        let mut n = Names::default();
        let m = n.ou_segment("a/b", "ou-ab12-cd34ef56");
        assert_eq!(m.name, "a-b");
        assert!(ou_segment_problem(&m.name).is_none());
        let nothing = n.ou_segment("///", "ou-ab12-00000000");
        assert_eq!(nothing.name, "---");
    }

    #[test]
    fn scp_names_map_into_the_allowed_characters() {
        let mut n = Names::reserving(&[landfall_core::FULL_AWS_ACCESS]);
        let m = n.scp("Deny all the things!", "p-12345678");
        assert_eq!(m.name, "Deny-all-the-things");
        assert!(scp_name_problem(&m.name).is_none());
        assert_eq!(
            n.scp("FullAWSAccess", "p-00000001").name,
            "FullAWSAccess-000001"
        );
    }
}
