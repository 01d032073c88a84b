//! A control's `parameters`: checked against its catalogue entry (known names,
//! value types, required ones) and converted to the JSON the API takes.

use std::collections::BTreeMap;

use crate::controls::ParamType;
use crate::diagnostics::Diagnostic;
use crate::parse::Decl;
use crate::raw::RawControl;
use crate::rules;
use crate::suggest::{did_you_mean, one_of};
use crate::validator::Validator;

use super::control_id::Resolved;

impl Validator<'_> {
    /// Converts and checks `parameters` against the catalogue entry, when there is one.
    pub(super) fn parameters(
        &mut self,
        decl: &Decl<RawControl>,
        raw: &RawControl,
        resolved: &Resolved<'_>,
    ) -> BTreeMap<String, serde_json::Value> {
        let src = decl.key.source;
        let id = &resolved.short_id;
        let mut out = BTreeMap::new();
        for (key, value) in raw.parameters.iter().flatten() {
            let name = key.get_ref();
            let key_loc = self.loc(src, key);
            let value_loc = self.loc(src, value);
            if let Some(entry) = resolved.entry {
                let Some(param) = entry.param(name) else {
                    let names: Vec<&str> =
                        entry.parameters.iter().map(|p| p.name.as_str()).collect();
                    let list = if names.is_empty() {
                        format!("control `{id}` takes no parameters")
                    } else {
                        format!("the parameters of `{id}` are {}", one_of(&names))
                    };
                    self.push(
                        Diagnostic::error(
                            "LF837",
                            format!("unknown parameter `{name}` for control `{id}`"),
                        )
                        .at(&key_loc, "unknown parameter")
                        .maybe_help(did_you_mean(name, names.iter().copied()))
                        .help(list),
                    );
                    continue;
                };
                if let Some(problem) = value_problem(param.kind, name, value.get_ref()) {
                    self.push(
                        Diagnostic::error(
                            "LF838",
                            format!("invalid value for parameter `{name}` of control `{id}`"),
                        )
                        .at(&value_loc, problem)
                        .help(format!("`{name}` is {}", param.kind.describe())),
                    );
                    continue;
                }
            }
            out.insert(name.clone(), toml_to_json(value.get_ref()));
        }
        if let Some(entry) = resolved.entry {
            for param in entry.parameters.iter().filter(|p| p.required) {
                let given = raw
                    .parameters
                    .iter()
                    .flatten()
                    .any(|(k, _)| k.get_ref() == &param.name);
                if !given && !decl.dropped("parameters") {
                    let example = match param.kind {
                        ParamType::StringList => "[\"...\"]",
                        ParamType::String => "\"...\"",
                        ParamType::Boolean => "true",
                    };
                    self.push(
                        Diagnostic::error(
                            "LF836",
                            format!("control `{id}` needs the parameter `{}`", param.name),
                        )
                        .at(&decl.key, format!("`{}` is required", param.name))
                        .help(format!(
                            "add `parameters = {{ {} = {example} }}` ({})",
                            param.name,
                            param.kind.describe()
                        )),
                    );
                }
            }
        }
        out
    }
}

/// Why `value` is not a valid value of a parameter of type `kind`, if it is not.
fn value_problem(kind: ParamType, name: &str, value: &toml::Value) -> Option<String> {
    match (kind, value) {
        (ParamType::String, toml::Value::String(_)) => None,
        (ParamType::Boolean, toml::Value::Boolean(_)) => None,
        (ParamType::StringList, toml::Value::Array(items)) => {
            if items.is_empty() && name == "AllowedRegions" {
                return Some("at least one region".into());
            }
            for item in items {
                let toml::Value::String(s) = item else {
                    return Some(format!("expected strings, found {}", type_name(item)));
                };
                if name == "AllowedRegions"
                    && let Some(problem) = rules::region_problem(s)
                {
                    return Some(problem);
                }
            }
            None
        }
        (_, other) => Some(format!(
            "expected {}, found {}",
            kind.describe(),
            type_name(other)
        )),
    }
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// TOML → JSON, as the parameter is sent to the API.
pub(crate) fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}
