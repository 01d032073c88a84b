//! The KMS key policy lockout check. AWS refuses a key policy that would keep the
//! caller from changing it again (unless `BypassPolicyLockoutSafetyCheck`); Landfall
//! checks the same thing offline, for the principals it manages keys as: the member
//! account itself (its root, which delegates to IAM) or Landfall's access role in it.
//!
//! A policy passes when some `Allow` statement names one of those principals and
//! allows `kms:PutKeyPolicy` (exactly, or through `kms:*`, `*` or another wildcard),
//! and no unconditional `Deny` statement takes it away from that principal.

use serde_json::Value;

/// The default key policy: the account (and so IAM policies in it) administers the
/// key, as AWS's own default key policy does.
pub(crate) const DEFAULT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnableRootAccountAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::${account_id}:root"},"Action":"kms:*","Resource":"*"}]}"#;

const PUT_KEY_POLICY: &str = "kms:PutKeyPolicy";

/// Who a principal string is, among those that matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// The account: `${account_id}`, `arn:aws:iam::${account_id}:root` (or a literal
    /// 12-digit account id in either form).
    Account,
    /// Landfall's access role in the account.
    AccessRole,
    /// Everyone: `"*"`.
    Anyone,
}

/// True when the policy lets the account or the access role manage the key.
/// `policy` is valid JSON (already checked); anything unexpected counts as "no".
pub(crate) fn manageable(policy: &str, access_role: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return false,
    };
    let mut admins: Vec<Who> = Vec::new();
    for s in &statements {
        if effect(s) == Some("Allow") && covers_put_key_policy(s) {
            for who in principals(s.get("Principal"), access_role) {
                if who != Who::Anyone && !admins.contains(&who) {
                    admins.push(who);
                }
            }
        }
    }
    admins
        .into_iter()
        .any(|admin| !statements.iter().any(|s| denies(s, admin, access_role)))
}

fn effect(statement: &Value) -> Option<&str> {
    statement.get("Effect").and_then(Value::as_str)
}

/// True when an unconditional `Deny` statement takes `kms:PutKeyPolicy` from `who`.
fn denies(statement: &Value, who: Who, access_role: &str) -> bool {
    if effect(statement) != Some("Deny")
        || statement.get("Condition").is_some()
        || !covers_put_key_policy(statement)
    {
        return false;
    }
    if let Some(p) = statement.get("Principal") {
        let named = principals(Some(p), access_role);
        // A deny on the account covers every principal in it.
        return named.contains(&Who::Anyone)
            || named.contains(&who)
            || named.contains(&Who::Account);
    }
    if let Some(np) = statement.get("NotPrincipal") {
        // Applies to everyone not listed.
        return !principals(Some(np), access_role).contains(&who);
    }
    false
}

/// True when the statement's `Action` (or `NotAction`) covers `kms:PutKeyPolicy`.
fn covers_put_key_policy(statement: &Value) -> bool {
    if let Some(actions) = statement.get("Action") {
        return strings(actions)
            .iter()
            .any(|a| glob_matches(a, PUT_KEY_POLICY));
    }
    if let Some(not_actions) = statement.get("NotAction") {
        return !strings(not_actions)
            .iter()
            .any(|a| glob_matches(a, PUT_KEY_POLICY));
    }
    false
}

/// The principals a `Principal` / `NotPrincipal` element names that matter here:
/// `"*"`, and the `AWS` ones.
fn principals(element: Option<&Value>, access_role: &str) -> Vec<Who> {
    match element {
        Some(Value::String(s)) if s == "*" => vec![Who::Anyone],
        Some(Value::Object(map)) => map
            .get("AWS")
            .map(strings)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| classify(p, access_role))
            .collect(),
        _ => Vec::new(),
    }
}

fn classify(principal: &str, access_role: &str) -> Option<Who> {
    if principal == "*" {
        return Some(Who::Anyone);
    }
    if is_account_id(principal) {
        return Some(Who::Account);
    }
    // arn:PARTITION:iam::ACCOUNT:root | arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME
    let rest = principal.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if partition != "aws" && !partition.starts_with("aws-") {
        return None;
    }
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if !is_account_id(account) {
        return None;
    }
    if resource == "root" {
        return Some(Who::Account);
    }
    let role = resource.strip_prefix("role/")?;
    (role.rsplit('/').next() == Some(access_role)).then_some(Who::AccessRole)
}

fn is_account_id(s: &str) -> bool {
    s == "${account_id}" || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
}

/// A string or an array of strings, as IAM writes lists.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM action matching: case-insensitive, `*` any run of characters, `?` one.
fn glob_matches(pattern: &str, action: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let a: Vec<char> = action.to_ascii_lowercase().chars().collect();
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < a.len() {
        if i < p.len() && (p[i] == '?' || p[i] == a[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "OrganizationAccountAccessRole";

    fn policy(statements: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
    }

    fn allow(principal: &str, action: &str) -> String {
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":{principal}}},"Action":{action},"Resource":"*"}}"#
        )
    }

    #[test]
    fn the_default_policy_is_manageable() {
        assert!(manageable(DEFAULT_KEY_POLICY, ROLE));
    }

    #[test]
    fn admin_principals() {
        for p in [
            r#""arn:aws:iam::${account_id}:root""#,
            r#""${account_id}""#,
            r#""123456789012""#,
            r#""arn:aws:iam::123456789012:root""#,
            r#"["arn:aws:iam::${account_id}:role/OrganizationAccountAccessRole"]"#,
            r#""arn:aws-us-gov:iam::${account_id}:role/landfall/OrganizationAccountAccessRole""#,
        ] {
            assert!(manageable(&policy(&allow(p, r#""kms:*""#)), ROLE), "{p}");
        }
        for p in [
            r#""*""#,
            r#""arn:aws:iam::${account_id}:role/SomeoneElse""#,
            r#""arn:aws:iam::${account_id}:user/admin""#,
            r#""arn:aws:iam::12345:root""#,
        ] {
            assert!(!manageable(&policy(&allow(p, r#""kms:*""#)), ROLE), "{p}");
        }
        // "Principal": "*" is not an AWS principal of the account.
        let star = r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}"#;
        assert!(!manageable(&policy(star), ROLE));
    }

    #[test]
    fn actions_must_cover_put_key_policy() {
        let root = r#""arn:aws:iam::${account_id}:root""#;
        for a in [
            r#""kms:PutKeyPolicy""#,
            r#""kms:putkeypolicy""#,
            r#""*""#,
            r#"["kms:Describe*", "kms:Put*"]"#,
            r#""kms:*Policy""#,
            r#""kms:PutKeyPolic?""#,
        ] {
            assert!(manageable(&policy(&allow(root, a)), ROLE), "{a}");
        }
        for a in [
            r#""kms:Encrypt""#,
            r#"["kms:Describe*", "kms:Get*"]"#,
            r#""s3:*""#,
            r#""kms:PutKeyPolicyX""#,
        ] {
            assert!(!manageable(&policy(&allow(root, a)), ROLE), "{a}");
        }
        let not_action = r#"{"Effect":"Allow","Principal":{"AWS":"${account_id}"},"NotAction":"kms:ScheduleKeyDeletion","Resource":"*"}"#;
        assert!(manageable(&policy(not_action), ROLE));
        let not_action = r#"{"Effect":"Allow","Principal":{"AWS":"${account_id}"},"NotAction":"kms:Put*","Resource":"*"}"#;
        assert!(!manageable(&policy(not_action), ROLE));
    }

    #[test]
    fn unconditional_denies_take_it_away() {
        let root = allow(r#""arn:aws:iam::${account_id}:root""#, r#""kms:*""#);
        let deny_all =
            r#"{"Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*"}"#;
        assert!(!manageable(&policy(&format!("{root},{deny_all}")), ROLE));
        let deny_root = r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::${account_id}:root"},"Action":"kms:Put*","Resource":"*"}"#;
        assert!(!manageable(&policy(&format!("{root},{deny_root}")), ROLE));
        // A conditional deny does not count.
        let conditional = r#"{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#;
        assert!(manageable(&policy(&format!("{root},{conditional}")), ROLE));
        // A deny on the role leaves the account.
        let role = allow(
            r#""arn:aws:iam::${account_id}:role/OrganizationAccountAccessRole""#,
            r#""kms:*""#,
        );
        let deny_role = r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::${account_id}:role/OrganizationAccountAccessRole"},"Action":"*","Resource":"*"}"#;
        assert!(manageable(&policy(&format!("{root},{deny_role}")), ROLE));
        assert!(!manageable(&policy(&format!("{role},{deny_role}")), ROLE));
        // A deny to everyone but the role leaves the role.
        let deny_others = r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::${account_id}:role/OrganizationAccountAccessRole"},"Action":"kms:*","Resource":"*"}"#;
        assert!(manageable(&policy(&format!("{role},{deny_others}")), ROLE));
        assert!(!manageable(&policy(&format!("{root},{deny_others}")), ROLE));
        // A deny of other actions does not matter.
        let deny_delete = r#"{"Effect":"Deny","Principal":"*","Action":"kms:ScheduleKeyDeletion","Resource":"*"}"#;
        assert!(manageable(&policy(&format!("{root},{deny_delete}")), ROLE));
    }

    #[test]
    fn a_single_statement_object_is_read() {
        let text = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"${account_id}"},"Action":"kms:*"}}"#;
        assert!(manageable(text, ROLE));
        assert!(!manageable("{}", ROLE));
        assert!(!manageable("not json", ROLE));
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*", "kms:PutKeyPolicy"));
        assert!(glob_matches("kms:*", "kms:PutKeyPolicy"));
        assert!(glob_matches("KMS:PUT*", "kms:PutKeyPolicy"));
        assert!(glob_matches("k*:*Key*", "kms:PutKeyPolicy"));
        assert!(!glob_matches("kms:Get*", "kms:PutKeyPolicy"));
        assert!(!glob_matches("kms:Put", "kms:PutKeyPolicy"));
        assert!(glob_matches("**", ""));
    }
}
