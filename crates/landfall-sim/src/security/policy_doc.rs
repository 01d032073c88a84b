//! Reading resource policies the way a service checks them before it uses a
//! resource: does the bucket policy let CloudTrail (`cloudtrail.amazonaws.com`)
//! `GetBucketAcl` and `PutObject`, does the key policy let it `GenerateDataKey`?
//!
//! A grant is an `Allow` statement whose principal names the service (or `*`), whose
//! actions and resources match (IAM wildcards, actions case-insensitive), and whose
//! conditions hold for the request's context (`aws:SourceArn`, `aws:SourceAccount`,
//! `aws:SecureTransport`, the encryption context...). A matching `Deny` whose
//! conditions hold takes it away. Condition keys the context does not know hold for
//! an `Allow` (the sim cannot tell, and the service would have sent them) and do not
//! for a `Deny`: the check errs on the side of accepting, and a policy that names the
//! wrong trail (`aws:SourceArn`) or forgets the service is still refused.

use std::collections::BTreeMap;

use serde_json::Value;

/// The values of a string-or-array field.
fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// IAM's `*` and `?` wildcards.
pub(crate) fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn principal_matches(statement: &Value, service: &str) -> bool {
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => {
            strings(map.get("Service")).contains(&service) || strings(map.get("AWS")).contains(&"*")
        }
        _ => false,
    }
}

fn condition_holds(statement: &Value, context: &BTreeMap<&str, &str>, allow: bool) -> bool {
    let Some(Value::Object(operators)) = statement.get("Condition") else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        let Value::Object(keys) = keys else {
            return allow;
        };
        let if_exists = operator.ends_with("IfExists");
        let op = operator.trim_end_matches("IfExists");
        keys.iter().all(|(key, expected)| {
            let expected = strings(Some(expected));
            let known = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v);
            let Some(actual) = known else {
                return allow || if_exists;
            };
            match op {
                "StringEquals" | "ArnEquals" => expected.contains(&actual),
                "StringNotEquals" | "ArnNotEquals" => !expected.contains(&actual),
                "StringEqualsIgnoreCase" => expected.iter().any(|e| e.eq_ignore_ascii_case(actual)),
                "StringLike" | "ArnLike" => expected.iter().any(|e| wildcard(e, actual)),
                "StringNotLike" | "ArnNotLike" => !expected.iter().any(|e| wildcard(e, actual)),
                "Bool" => expected.iter().any(|e| e.eq_ignore_ascii_case(actual)),
                // Operators the sim does not evaluate.
                _ => allow,
            }
        })
    })
}

fn matches(statement: &Value, service: &str, action: &str, resource: &str) -> bool {
    principal_matches(statement, service)
        && strings(statement.get("Action"))
            .iter()
            .any(|a| wildcard(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
        && strings(statement.get("Resource"))
            .iter()
            .any(|r| wildcard(r, resource))
}

fn statements(policy: &str) -> Vec<Value> {
    match serde_json::from_str::<Value>(policy) {
        Ok(doc) => match doc.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(single @ Value::Object(_)) => vec![single.clone()],
            _ => Vec::new(),
        },
        Err(_) => Vec::new(),
    }
}

/// Whether `policy` lets `service` do `action` on `resource` in `context`.
pub fn grants_service(
    policy: &str,
    service: &str,
    action: &str,
    resource: &str,
    context: &BTreeMap<&str, &str>,
) -> bool {
    let statements = statements(policy);
    let effect = |s: &Value, e: &str| s.get("Effect").and_then(Value::as_str) == Some(e);
    let allowed = statements.iter().any(|s| {
        effect(s, "Allow")
            && matches(s, service, action, resource)
            && condition_holds(s, context, true)
    });
    let denied = statements.iter().any(|s| {
        effect(s, "Deny")
            && matches(s, service, action, resource)
            && condition_holds(s, context, false)
    });
    allowed && !denied
}

/// Whether a key policy lets `service` do `action` with the key (`Resource: *` in
/// key policies means the key itself).
pub fn key_grants_service(
    policy: &str,
    service: &str,
    action: &str,
    key_arn: &str,
    context: &BTreeMap<&str, &str>,
) -> bool {
    grants_service(policy, service, action, key_arn, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard("kms:generatedatakey*", "kms:generatedatakey"));
        assert!(wildcard(
            "arn:aws:s3:::b/AWSLogs/*",
            "arn:aws:s3:::b/AWSLogs/1/x"
        ));
        assert!(wildcard("*", "anything"));
        assert!(!wildcard("arn:aws:s3:::b", "arn:aws:s3:::b/x"));
        assert!(wildcard("a?c", "abc"));
    }

    #[test]
    fn conditions_decide_and_denies_win() {
        let policy = r#"{"Statement":[
          {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject",
           "Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceArn":"arn:t1","s3:x-amz-acl":"bucket-owner-full-control"}}},
          {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        let ctx = |arn| BTreeMap::from([("aws:SourceArn", arn), ("aws:SecureTransport", "true")]);
        let put = |arn| {
            grants_service(
                policy,
                "cloudtrail.amazonaws.com",
                "s3:PutObject",
                "arn:aws:s3:::b/AWSLogs/x",
                &ctx(arn),
            )
        };
        assert!(put("arn:t1"));
        assert!(!put("arn:t2"), "another trail's ARN");
        assert!(!grants_service(
            policy,
            "config.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::b/x",
            &ctx("arn:t1")
        ));
        let insecure = BTreeMap::from([
            ("aws:SourceArn", "arn:t1"),
            ("aws:SecureTransport", "false"),
        ]);
        assert!(!grants_service(
            policy,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::b/x",
            &insecure
        ));
    }
}
