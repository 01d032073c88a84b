//! Attribute maps: the uniform shape in which a resource's settings are recorded in the
//! state file and compared, so one diff routine serves plan, drift and the renderers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::Tags;

pub type Attrs = BTreeMap<String, Value>;

/// One attribute that differs. `tags` are compared key by key (`tags.owner`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttrDiff {
    pub attribute: String,
    /// `None` when the attribute did not exist; a JSON `null` is `Some(Value::Null)`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub before: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub after: Option<Value>,
}

/// Reads a field that is present as `Some`, a JSON `null` included: with
/// `#[serde(default)]` an absent field is `None`. serde's own `Option` reads `null` as
/// `None`, which would turn "set to null" into "absent" in a saved plan.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

pub fn tags_value(tags: &Tags) -> Value {
    json!(tags)
}

/// Differences from `before` to `after`, over the attributes in `compare` (all
/// attributes when empty). Objects named `tags` are compared key by key.
pub fn diff_attrs(before: &Attrs, after: &Attrs, compare: &[&str]) -> Vec<AttrDiff> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        if !compare.is_empty() && !compare.contains(&key.as_str()) {
            continue;
        }
        let (b, a) = (before.get(key), after.get(key));
        if b == a {
            continue;
        }
        if key == "tags" {
            let empty = serde_json::Map::new();
            let bt = b.and_then(Value::as_object).unwrap_or(&empty);
            let at = a.and_then(Value::as_object).unwrap_or(&empty);
            let mut tag_keys: Vec<&String> = bt.keys().chain(at.keys()).collect();
            tag_keys.sort();
            tag_keys.dedup();
            for k in tag_keys {
                if bt.get(k) != at.get(k) {
                    out.push(AttrDiff {
                        attribute: format!("tags.{k}"),
                        before: bt.get(k).cloned(),
                        after: at.get(k).cloned(),
                    });
                }
            }
        } else {
            out.push(AttrDiff {
                attribute: key.clone(),
                before: b.cloned(),
                after: a.cloned(),
            });
        }
    }
    out
}

/// Splits a tag diff into the tags to set and the keys to remove.
pub fn tag_changes(diffs: &[AttrDiff]) -> (Tags, Vec<String>) {
    let mut set = Tags::new();
    let mut remove = Vec::new();
    for d in diffs {
        if let Some(key) = d.attribute.strip_prefix("tags.") {
            match d.after.as_ref().and_then(Value::as_str) {
                Some(v) => {
                    set.insert(key.to_string(), v.to_string());
                }
                None => remove.push(key.to_string()),
            }
        }
    }
    (set, remove)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organization::{ou_attrs, scp_attrs};

    #[test]
    fn tags_diff_key_by_key() {
        let before = ou_attrs(
            "Dev",
            &Tags::from([("a".into(), "1".into()), ("b".into(), "2".into())]),
        );
        let after = ou_attrs(
            "Dev",
            &Tags::from([("a".into(), "1".into()), ("c".into(), "3".into())]),
        );
        let d = diff_attrs(&before, &after, &[]);
        let names: Vec<_> = d.iter().map(|d| d.attribute.as_str()).collect();
        assert_eq!(names, ["tags.b", "tags.c"]);
        let (set, remove) = tag_changes(&d);
        assert_eq!(set, Tags::from([("c".into(), "3".into())]));
        assert_eq!(remove, ["b"]);
    }

    #[test]
    fn policy_formatting_is_not_a_change() {
        let a = scp_attrs(
            "p",
            "d",
            r#"{ "Version": "2012-10-17",  "Statement": [] }"#,
            &Tags::new(),
        );
        let b = scp_attrs(
            "p",
            "d",
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            &Tags::new(),
        );
        assert!(diff_attrs(&a, &b, &[]).is_empty());
    }
}
