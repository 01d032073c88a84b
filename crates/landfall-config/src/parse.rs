//! Stage 1: one TOML text to its declarations ([`ParsedFile`]), reporting syntax
//! errors, unknown keys and wrongly typed values.
//!
//! Each table (`[landing_zone]`, every `[account.NAME]`, ...) is deserialized on its
//! own, and when serde stops at a bad key the key is removed and the table tried
//! again, so one run reports every unknown key of every table rather than the first
//! one of the file. A table that still fails keeps its name (so references to it do
//! not cascade into "undeclared" errors) but has no body.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diagnostics::{Diagnostic, Sink};
pub(crate) use crate::sections::ParsedFile;
use crate::sections::SECTIONS;
use crate::sources::{Loc, SourceId};
use crate::suggest::{did_you_mean, one_of};

/// A table as declared in one file.
#[derive(Debug)]
pub(crate) struct Decl<T> {
    /// The table's key (`NAME` in `[account.NAME]`, or `landing_zone`).
    pub name: String,
    /// Where the key is written: what `Origin` and "declared here" labels point at.
    pub key: Loc,
    /// The header (or inline table): what "missing key" labels point at.
    pub table: Loc,
    /// `None` when the table could not be read; its problems are already reported.
    pub body: Option<T>,
    /// Keys (dotted paths) dropped from the body because their value was wrong; the
    /// body reads as if they were absent, so checks about absence skip them.
    pub dropped: Vec<String>,
}

impl<T> Decl<T> {
    /// True when `key` was written but dropped as invalid.
    pub fn dropped(&self, key: &str) -> bool {
        self.dropped.iter().any(|d| d == key)
    }
}

/// Parses one TOML text. Never fails: problems go to `sink`.
pub(crate) fn parse_file(source: SourceId, text: &str, sink: &mut Sink) -> ParsedFile {
    let (doc, syntax_errors) = DeTable::parse_recoverable(text);
    let broken = !syntax_errors.is_empty();
    for e in &syntax_errors {
        sink.push(syntax_error(source, text, e));
    }
    let mut file = ParsedFile {
        broken,
        ..ParsedFile::empty(source)
    };
    let reader = TableReader {
        source,
        broken,
        text_len: text.len(),
    };
    let mut sections: Vec<_> = doc.into_inner().into_iter().collect();
    sections.sort_by_key(|(k, _)| k.span().start);
    for (key, value) in sections {
        let key_loc = Loc::new(source, key.span());
        let name = key.get_ref().to_string();
        let known = file.read_section(&reader, name.clone(), key_loc.clone(), value, sink);
        if !known && !broken {
            sink.push(
                Diagnostic::error("LF101", format!("unknown section `{name}`"))
                    .at(&key_loc, "not a Landfall section")
                    .maybe_help(did_you_mean(&name, SECTIONS.iter().copied()))
                    .help(format!("the sections are {}", one_of(SECTIONS))),
            );
        }
    }
    file
}

fn syntax_error(source: SourceId, text: &str, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let span = span.start.min(text.len())..span.end.min(text.len());
    let message = e.message().trim().to_string();
    let mut d = Diagnostic::error("LF100", format!("invalid TOML: {message}"))
        .at(&Loc::new(source, span), message.clone());
    if message.contains("duplicate key") {
        d = d.help(
            "a key or table can appear only once per file; merge the two, or rename one \
             (an OU, account or SCP is declared once across all files)",
        );
    }
    d
}

/// Reads the tables of one file.
pub(crate) struct TableReader {
    source: SourceId,
    broken: bool,
    text_len: usize,
}

impl TableReader {
    /// A keyed section (`ou`, `account`, `scp`): one declaration per key.
    pub(crate) fn keyed<T: DeserializeOwned>(
        &self,
        section: &str,
        value: Spanned<DeValue<'_>>,
        form: &str,
        sink: &mut Sink,
    ) -> Vec<Decl<T>> {
        let span = value.span();
        let DeValue::Table(entries) = value.into_inner() else {
            if !self.broken {
                sink.push(
                    Diagnostic::error("LF102", format!("`{section}` must be a table of tables"))
                        .at(&Loc::new(self.source, span), "not a table")
                        .help(format!("declare each one in its own {form} section")),
                );
            }
            return Vec::new();
        };
        // The parsed table is sorted by key; declarations are kept in source order so
        // "first declared here" means first in the file.
        let mut entries: Vec<_> = entries.into_iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        entries
            .into_iter()
            .map(|(k, v)| {
                let name = k.get_ref().to_string();
                if section == "control"
                    && !self.broken
                    && let Some((id, end)) = dotted_control_id(&name, v.get_ref())
                {
                    // `[control.CT.S3.PR.1]`: TOML reads nested tables; the whole id
                    // is meant. Known by that id, without a body.
                    let key = Loc::new(self.source, k.span().start..end.max(k.span().end));
                    sink.push(
                        Diagnostic::error("LF101", format!("unknown key in [control.{name}]"))
                            .at(&key, "read as nested tables")
                            .help(format!(
                                "control identifiers with dots are quoted: [control.\"{id}\"]"
                            )),
                    );
                    return Decl {
                        name: id,
                        table: key.clone(),
                        key,
                        body: None,
                        dropped: Vec::new(),
                    };
                }
                let header = format!("[{section}.{}]", toml_key(&name));
                self.decl(name, Loc::new(self.source, k.span()), v, &header, sink)
            })
            .collect()
    }

    /// An array of tables (`[[expect]]`): one declaration per entry, in order, each
    /// named after the section.
    pub(crate) fn array<T: DeserializeOwned>(
        &self,
        section: &str,
        value: Spanned<DeValue<'_>>,
        header: &str,
        sink: &mut Sink,
    ) -> Vec<Decl<T>> {
        let span = value.span();
        let DeValue::Array(entries) = value.into_inner() else {
            if !self.broken {
                sink.push(
                    Diagnostic::error("LF102", format!("`{section}` must be an array of tables"))
                        .at(
                            &Loc::new(self.source, self.clamp(span)),
                            "not an array of tables",
                        )
                        .help(format!(
                            "write each entry as its own {header} table (double brackets)"
                        )),
                );
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries {
            let at = Loc::new(self.source, self.clamp(entry.span()));
            if !matches!(entry.get_ref(), DeValue::Table(_)) {
                if !self.broken {
                    sink.push(
                        Diagnostic::error(
                            "LF102",
                            format!("an entry of `{section}` is not a table"),
                        )
                        .at(&at, "not a table")
                        .help(format!("write each entry as its own {header} table")),
                    );
                }
                continue;
            }
            out.push(self.decl(section.to_string(), at, entry, header, sink));
        }
        out
    }

    /// One table: deserialized unless the file has syntax errors.
    pub(crate) fn decl<T: DeserializeOwned>(
        &self,
        name: String,
        key: Loc,
        value: Spanned<DeValue<'_>>,
        header: &str,
        sink: &mut Sink,
    ) -> Decl<T> {
        let table = Loc::new(self.source, self.clamp(value.span()));
        let (body, dropped) = if self.broken {
            (None, Vec::new())
        } else {
            self.deserialize(value, header, &table, sink)
        };
        Decl {
            name,
            key,
            table,
            body,
            dropped,
        }
    }

    fn clamp(&self, span: Range<usize>) -> Range<usize> {
        span.start.min(self.text_len)..span.end.min(self.text_len)
    }

    /// Deserializes a table, removing each offending entry and retrying so that all
    /// its problems are reported. Returns the body read without the offending
    /// entries (if it could be read at all) and their dotted paths.
    fn deserialize<T: DeserializeOwned>(
        &self,
        value: Spanned<DeValue<'_>>,
        header: &str,
        table: &Loc,
        sink: &mut Sink,
    ) -> (Option<T>, Vec<String>) {
        let mut value = value;
        let mut dropped: Vec<String> = Vec::new();
        // Keys removed so far, and the keys their "did you mean" suggested: a later
        // "missing field" for one of them is a consequence, not a new problem.
        let mut removed: Vec<String> = Vec::new();
        // Each retry removes one entry, so this bounds the loop by the table size.
        for _ in 0..256 {
            let e = match T::deserialize(ValueDeserializer::from(value.clone())) {
                Ok(body) => return (Some(body), dropped),
                Err(e) => e,
            };
            let message = e.message().to_string();
            let span = e.span().map(|s| self.clamp(s));
            if let Some(field) = between_backticks(&message, "missing field `")
                && removed.iter().any(|r| r == field)
            {
                return (None, dropped);
            }
            let hit = span
                .as_ref()
                .and_then(|s| remove_entry_at(value.get_mut(), s));
            let (path, value_is_table) = hit.clone().unwrap_or_default();
            let context = nested_header(header, &path);
            let loc = span
                .map(|s| Loc::new(self.source, s))
                .unwrap_or_else(|| table.clone());
            let d = value_error(&message, &loc, &context, &path, value_is_table, header);
            if let Some(key) = path.last() {
                dropped.push(path.join("."));
                removed.push(key.clone());
                let candidates = backticked_list(&message);
                if let Some(s) = best_match(key, &candidates) {
                    removed.push(s);
                }
            }
            sink.push(d);
            // An error outside any entry (a missing key, a wrong table type): nothing
            // to remove, so nothing more to learn by retrying.
            if hit.is_none() {
                return (None, dropped);
            }
        }
        (None, dropped)
    }
}

/// The control id meant by `[control.A.B.C]` (read by TOML as nested single-key
/// tables down to the one holding the control's keys), and where its last part ends.
fn dotted_control_id(first: &str, value: &DeValue<'_>) -> Option<(String, usize)> {
    const KEYS: [&str; 3] = ["targets", "parameters", "arn"];
    let mut id = first.to_string();
    let mut end = None;
    let mut current = value;
    loop {
        let DeValue::Table(table) = current else {
            return None;
        };
        if table.keys().any(|k| KEYS.contains(&k.get_ref().as_ref())) {
            return end.map(|e| (id, e));
        }
        let mut iter = table.iter();
        let (Some((k, v)), None) = (iter.next(), iter.next()) else {
            return None;
        };
        id.push('.');
        id.push_str(k.get_ref());
        end = Some(k.span().end);
        current = v.get_ref();
    }
}

/// `[account.x]` + `["tags"]` → `[account.x.tags]`.
fn nested_header(header: &str, path: &[String]) -> String {
    let parents = &path[..path.len().saturating_sub(1)];
    if parents.is_empty() {
        return header.to_string();
    }
    let inner = header.trim_start_matches('[').trim_end_matches(']');
    let rest: Vec<String> = parents.iter().map(|k| toml_key(k)).collect();
    format!("[{inner}.{}]", rest.join("."))
}

/// Turns a serde error about a table into a diagnostic.
fn value_error(
    message: &str,
    loc: &Loc,
    context: &str,
    path: &[String],
    value_is_table: bool,
    header: &str,
) -> Diagnostic {
    let key = path.last().map(String::as_str).unwrap_or("");
    if let Some(field) = between_backticks(message, "unknown field `") {
        let expected = backticked_list(message);
        // The key removed is not the unknown one: the unknown key is in a table inside
        // an array (`subnets = [{ ... }]`).
        let in_array = !key.is_empty() && key != field;
        let context = &if in_array {
            format!("an entry of `{key}` in {context}")
        } else {
            context.to_string()
        };
        let mut d = Diagnostic::error("LF101", format!("unknown key `{field}` in {context}"))
            .at(loc, "unknown key")
            .maybe_help(did_you_mean(field, expected.iter().map(String::as_str)));
        if header.starts_with("[ou.") && value_is_table && path.len() == 1 {
            d = d.help(format!(
                "nested OUs are declared with their full path, quoted: [ou.\"{}/{field}\"]",
                header
                    .trim_start_matches("[ou.")
                    .trim_end_matches(']')
                    .trim_matches('"')
            ));
        } else if header.starts_with("[control.") && value_is_table && path.len() == 1 {
            d = d.help(format!(
                "control identifiers with dots are quoted: [control.\"{}.{field}\"]",
                header
                    .trim_start_matches("[control.")
                    .trim_end_matches(']')
                    .trim_matches('"')
            ));
        } else if !expected.is_empty() {
            let list: Vec<&str> = expected.iter().map(String::as_str).collect();
            d = d.help(format!("the keys of {context} are {}", one_of(&list)));
        }
        return d;
    }
    if let Some(field) = between_backticks(message, "missing field `") {
        return Diagnostic::error("LF103", format!("{context} has no `{field}`"))
            .at(loc, format!("`{field}` is required here"))
            .help(format!("add `{field} = ...` to {context}"));
    }
    if let Some(variant) = between_backticks(message, "unknown variant `") {
        let expected = backticked_list(message);
        let list: Vec<&str> = expected.iter().map(String::as_str).collect();
        return Diagnostic::error(
            "LF102",
            format!("`{variant}` is not a valid `{key}` in {context}"),
        )
        .at(loc, format!("expected {}", one_of(&list)))
        .maybe_help(did_you_mean(variant, list.iter().copied()));
    }
    let what = if key.is_empty() {
        context.to_string()
    } else {
        format!("`{key}` in {context}")
    };
    Diagnostic::error("LF102", format!("invalid value for {what}"))
        .at(loc, tidy_serde_message(message))
}

/// serde's messages say "invalid type: integer `5`, expected a string"; the label
/// reads better without the prefix.
fn tidy_serde_message(message: &str) -> String {
    message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .unwrap_or(message)
        .to_string()
}

/// The text between `prefix` and the next backtick.
fn between_backticks<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The backticked names after "expected" in a serde message.
fn backticked_list(message: &str) -> Vec<String> {
    let Some(at) = message.find("expected") else {
        return Vec::new();
    };
    message[at..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn best_match(word: &str, candidates: &[String]) -> Option<String> {
    crate::suggest::closest(word, candidates.iter().map(String::as_str)).map(str::to_string)
}

/// Removes the deepest entry of `value` (a table) whose key or value contains
/// `span`; returns its key path and whether its value was a table.
fn remove_entry_at(value: &mut DeValue<'_>, span: &Range<usize>) -> Option<(Vec<String>, bool)> {
    let DeValue::Table(table) = value else {
        return None;
    };
    remove_in_table(table, span)
}

fn remove_in_table(table: &mut DeTable<'_>, span: &Range<usize>) -> Option<(Vec<String>, bool)> {
    let mut hit = None;
    for (k, v) in table.iter_mut() {
        let (key_span, value_span) = (k.span(), v.span());
        if let DeValue::Table(inner) = v.get_mut()
            && let Some((mut path, is_table)) = remove_in_table(inner, span)
        {
            path.insert(0, k.get_ref().to_string());
            return Some((path, is_table));
        }
        if contains(&key_span, span) || contains(&value_span, span) {
            hit = Some((k.clone(), matches!(v.get_ref(), DeValue::Table(_))));
            break;
        }
    }
    let (key, is_table) = hit?;
    let name = key.get_ref().to_string();
    table.remove(&key);
    Some((vec![name], is_table))
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// A TOML key as it would be written: bare when possible, quoted otherwise.
pub(crate) fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SourceMap;

    fn parse(text: &str) -> (ParsedFile, Vec<crate::diagnostics::Diagnostic>) {
        let mut sources = SourceMap::default();
        let id = sources.add("t.toml", text);
        let mut sink = Sink::default();
        let file = parse_file(id, text, &mut sink);
        let diags = sink.finish(sources).iter().cloned().collect();
        (file, diags)
    }

    #[test]
    fn every_unknown_key_of_a_table_is_reported() {
        let (file, diags) =
            parse("[account.a]\nemial = \"a@example.com\"\nou = \"X\"\ntgas = {}\n");
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(codes, vec![("LF101", 2), ("LF101", 4)]);
        assert!(diags[0].help.as_deref().unwrap_or("").contains("`email`"));
        // The account is still known by name, and its valid keys are read.
        assert_eq!(file.accounts.len(), 1);
        assert!(file.accounts[0].body.is_none(), "email is missing");
    }

    #[test]
    fn a_table_with_a_bad_key_is_read_without_it() {
        let (file, diags) =
            parse("[account.a]\nemail = \"a@example.com\"\nou = 5\nallow_close = true\n");
        assert_eq!(diags.len(), 1);
        let decl = &file.accounts[0];
        assert!(decl.dropped("ou"));
        assert_eq!(decl.body.as_ref().and_then(|b| b.allow_close), Some(true));
    }

    #[test]
    fn wrong_types_and_missing_keys() {
        let (_, diags) = parse("[account.a]\nemail = 5\n[account.b]\nou = \"X\"\n");
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(codes, vec![("LF102", 2), ("LF103", 3)]);
    }

    #[test]
    fn nested_keys_name_their_table() {
        let (_, diags) = parse(
            "[landing_zone]\nname='x'\nhome_region='us-east-1'\n[landing_zone.quotas]\nscp_max = 1\n",
        );
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].message.contains("[landing_zone.quotas]"),
            "{}",
            diags[0].message
        );
    }

    #[test]
    fn unknown_keys_inside_arrays_name_the_array() {
        let (_, diags) = parse(
            "[network.n]\naccount = 'a'\nregion = 'us-east-1'\ncidr = '10.0.0.0/16'\n\
             subnets = [{ az = 'us-east-1a', cidr = '10.0.0.0/24', name = 'x' }]\n",
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(
            diags[0].message,
            "unknown key `name` in an entry of `subnets` in [network.n]"
        );
    }

    #[test]
    fn syntax_errors_keep_declared_names() {
        let (file, diags) = parse("[account.a]\nemail = \"x@example.com\n[ou.B]\n");
        assert!(file.broken);
        assert!(diags.iter().all(|d| d.code == "LF100"));
        assert!(!diags.is_empty());
    }

    #[test]
    fn toml_keys_are_quoted_when_needed() {
        assert_eq!(toml_key("abc-d_1"), "abc-d_1");
        assert_eq!(toml_key("A/B"), "\"A/B\"");
    }
}
