//! TOML text as `landfall import` writes it: keys bare when TOML allows, strings and
//! values quoted by the `toml` crate, inline tables and arrays on one line.

use std::collections::BTreeMap;

/// A TOML string literal (basic string, escaped as TOML requires).
pub(super) fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A key: bare when it is only ASCII letters, digits, `_` and `-`, quoted otherwise.
pub(super) fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_string() } else { string(k) }
}

/// `{ a = "1", b = "2" }` (keys in order), `{}` when empty.
pub(super) fn inline_strings(map: &BTreeMap<String, String>) -> String {
    if map.is_empty() {
        return "{}".into();
    }
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), string(v)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// `["a", "b"]`.
pub(super) fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(string).collect();
    format!("[{}]", items.join(", "))
}

/// A JSON value as a TOML inline value; `None` for `null` (TOML has none), also
/// inside arrays and tables, where such entries are left out.
pub(super) fn json_value(value: &serde_json::Value) -> Option<String> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => string(s),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().filter_map(json_value).collect();
            format!("[{}]", items.join(", "))
        }
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, String)> = map
                .iter()
                .filter_map(|(k, v)| json_value(v).map(|v| (k, v)))
                .collect();
            entries.sort();
            if entries.is_empty() {
                return Some("{}".into());
            }
            let items: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{} = {v}", key(k)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
    })
}

/// A policy document as a file: pretty JSON with its keys in canonical order and a
/// final newline; `None` when it is not JSON.
pub(super) fn pretty_policy(document: &str) -> Option<String> {
    let canonical = landfall_core::model::canonical_json(document);
    serde_json::from_str::<serde_json::Value>(&canonical)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .map(|text| format!("{text}\n"))
}

/// A section banner, as the example file draws them.
pub(super) fn banner(title: &str) -> String {
    let rule = format!("# {}\n", "-".repeat(81));
    format!("{rule}# {title}\n{rule}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bare_only_when_toml_allows() {
        assert_eq!(key("Security"), "Security");
        assert_eq!(key("ml-dev_1"), "ml-dev_1");
        assert_eq!(key("Workloads/Dev"), "\"Workloads/Dev\"");
        assert_eq!(key("a.b"), "\"a.b\"");
        assert_eq!(key(""), "\"\"");
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("plain"), "\"plain\"");
        let quoted = string("say \"hi\"\\\n");
        let back: toml::Value = toml::from_str(&format!("v = {quoted}"))
            .map(|t: toml::Table| t["v"].clone())
            .unwrap_or(toml::Value::Boolean(false));
        assert_eq!(back.as_str(), Some("say \"hi\"\\\n"));
    }

    #[test]
    fn json_values_become_inline_toml() {
        let v = serde_json::json!({"b": [1, "x", null], "a": true, "n": null});
        assert_eq!(
            json_value(&v).as_deref(),
            Some("{ a = true, b = [1, \"x\"] }")
        );
    }
}
