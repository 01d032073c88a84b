//! Diagnostics: every problem found in a load, each with a stable code, the place it
//! points at (file, line, column and the byte span used to draw the snippet) and a
//! hint. [`Diagnostics`] keeps the source texts so it can render itself with miette's
//! graphical handler long after loading finished.

use std::fmt;
use std::ops::Range;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::sources::{Loc, Source, SourceId, SourceMap};

/// Width the graphical report wraps at: fixed so rendered text (and snapshots of it)
/// does not depend on the terminal.
const RENDER_WIDTH: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A marked place in a source, with an optional note drawn under it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// Byte range in the file's text.
    pub span: Range<usize>,
    pub text: Option<String>,
    #[serde(skip)]
    source: SourceId,
}

/// One problem. `file`/`line`/`column` repeat the primary (first) label's place so
/// callers need not dig into `labels`; they are `None`/0 for problems that have no
/// place (a path that cannot be read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier, documented in docs/configuration.md (e.g. `LF101`).
    pub code: &'static str,
    pub message: String,
    pub file: Option<String>,
    pub line: u32,
    pub column: u32,
    /// The primary place first; further places (e.g. "first declared here") after.
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Places not yet resolved to file/line/column (filled in by `finish`).
    #[serde(skip)]
    pending: Vec<(Loc, Option<String>)>,
}

impl Diagnostic {
    pub(crate) fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub(crate) fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            file: None,
            line: 0,
            column: 0,
            labels: Vec::new(),
            help: None,
            pending: Vec::new(),
        }
    }

    /// Adds a place. The first one added is the primary place.
    pub(crate) fn at(mut self, loc: &Loc, text: impl Into<String>) -> Self {
        let text = text.into();
        let text = (!text.is_empty()).then_some(text);
        self.pending.push((loc.clone(), text));
        self
    }

    /// Adds a hint; several hints are joined line by line.
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        let help = help.into();
        self.help = Some(match self.help.take() {
            Some(before) => format!("{before}\n{help}"),
            None => help,
        });
        self
    }

    pub(crate) fn maybe_help(self, help: Option<String>) -> Self {
        match help {
            Some(h) => self.help(h),
            None => self,
        }
    }

    /// For problems with a file but no place in it (it could not be read).
    pub(crate) fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Resolves pending places against the sources.
    fn finish(&mut self, sources: &SourceMap) {
        for (loc, text) in std::mem::take(&mut self.pending) {
            let (line, column) = sources.line_col(loc.source, loc.span.start);
            self.labels.push(Label {
                file: sources.name(loc.source).to_string(),
                line,
                column,
                span: loc.span,
                text,
                source: loc.source,
            });
        }
        if let Some(primary) = self.labels.first() {
            self.file = Some(primary.file.clone());
            self.line = primary.line;
            self.column = primary.column;
        }
    }

    /// Sort key: errors before warnings, then by where they point.
    fn sort_key(&self) -> (Severity, SourceId, usize, &'static str, &str) {
        let (source, start) = self
            .labels
            .first()
            .map(|l| (l.source, l.span.start))
            .unwrap_or((0, 0));
        (self.severity, source, start, self.code, &self.message)
    }
}

/// `file:line:col: error[LF101]: message` — the one-line form for logs.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) if self.line > 0 => write!(f, "{file}:{}:{}: ", self.line, self.column)?,
            Some(file) => write!(f, "{file}: ")?,
            None => {}
        }
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)
    }
}

/// Collects diagnostics while loading; turned into [`Diagnostics`] at the end.
#[derive(Default)]
pub(crate) struct Sink {
    items: Vec<Diagnostic>,
}

impl Sink {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Resolves places, sorts and deduplicates, and bundles the sources for rendering.
    pub fn finish(self, sources: SourceMap) -> Diagnostics {
        let mut items = self.items;
        for d in &mut items {
            d.finish(&sources);
        }
        items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        items.dedup();
        Diagnostics {
            items,
            sources: sources.into_vec(),
        }
    }
}

/// Every problem found in one load, with the texts they point into.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    sources: Vec<Source>,
}

impl Diagnostics {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Where a label ends, 1-based line and column (its span's end).
    fn end_of(&self, label: &Label) -> (u32, u32) {
        self.sources
            .get(label.source)
            .map(|s| s.line_col(label.span.end))
            .unwrap_or((label.line, label.column))
    }

    /// The machine-readable report (`validate --format json`, and `plan --json` on an
    /// invalid configuration): format_version 1, `{ "valid", "errors", "warnings",
    /// "diagnostics": [ { "file", "line", "column", "end_line", "end_column", "code",
    /// "severity", "message", "help", "labels" } ] }`.
    pub fn to_json(&self) -> serde_json::Value {
        let diagnostics: Vec<serde_json::Value> = self
            .items
            .iter()
            .map(|d| {
                let end = d.labels.first().map(|l| self.end_of(l));
                serde_json::json!({
                    "file": d.file,
                    "line": d.line,
                    "column": d.column,
                    "end_line": end.map(|e| e.0),
                    "end_column": end.map(|e| e.1),
                    "code": d.code,
                    "severity": d.severity,
                    "message": d.message,
                    "help": d.help,
                    "labels": d.labels.iter().map(|l| serde_json::json!({
                        "file": l.file,
                        "line": l.line,
                        "column": l.column,
                        "text": l.text,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "format_version": 1,
            "valid": self.error_count() == 0,
            "errors": self.error_count(),
            "warnings": self.warning_count(),
            "diagnostics": diagnostics,
        })
    }

    /// A SARIF 2.1.0 log (`validate --format sarif`), for GitHub code scanning and
    /// other tools that annotate files: one result per diagnostic, its code the rule.
    pub fn to_sarif(&self, tool_version: &str) -> serde_json::Value {
        let mut rules: Vec<&str> = self.items.iter().map(|d| d.code).collect();
        rules.sort_unstable();
        rules.dedup();
        let results: Vec<serde_json::Value> = self
            .items
            .iter()
            .map(|d| {
                let text = match &d.help {
                    Some(help) => format!("{} ({help})", d.message),
                    None => d.message.clone(),
                };
                let locations: Vec<serde_json::Value> = d
                    .labels
                    .first()
                    .map(|l| {
                        let (end_line, end_column) = self.end_of(l);
                        serde_json::json!({
                            "physicalLocation": {
                                "artifactLocation": { "uri": l.file.replace('\\', "/") },
                                "region": {
                                    "startLine": l.line,
                                    "startColumn": l.column,
                                    "endLine": end_line,
                                    "endColumn": end_column,
                                },
                            },
                        })
                    })
                    .into_iter()
                    .collect();
                serde_json::json!({
                    "ruleId": d.code,
                    "level": match d.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    },
                    "message": { "text": text },
                    "locations": locations,
                })
            })
            .collect();
        serde_json::json!({
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "landfall",
                        "version": tool_version,
                        "rules": rules.iter().map(|id| serde_json::json!({ "id": id })).collect::<Vec<_>>(),
                    },
                },
                "results": results,
            }],
        })
    }

    /// Every diagnostic as a miette graphical report (file:line:col, the snippet with
    /// the offending part underlined, the hint), separated by blank lines. Without
    /// color the output is plain ASCII art with no escape codes and a fixed width, so
    /// it is stable enough to snapshot.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::none()
        };
        // No wrapping: textwrap would split `account:log-archive` at its hyphen.
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(RENDER_WIDTH)
            .with_wrap_lines(false)
            .with_links(false)
            .with_urls(false);
        let mut out = String::new();
        for d in &self.items {
            let report = Report::new(d, &self.sources);
            // Writing into a String cannot fail; a miette rendering failure falls back
            // to the one-line form rather than losing the diagnostic.
            let mut one = String::new();
            let rendered = handler.render_report(&mut one, &report).and_then(|()| {
                report.elsewhere.iter().try_for_each(|note| {
                    one.push('\n');
                    handler.render_report(&mut one, note)
                })
            });
            if rendered.is_err() {
                one = format!("{d}\n");
            }
            out.push_str(&one);
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

/// So a caller can return the whole report through `?` / `anyhow`.
impl std::error::Error for Diagnostics {}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

/// Adapts a [`Diagnostic`] to miette. miette draws one source per report, so labels
/// in other files (a duplicate declared elsewhere, say) become notes rendered right
/// after it, each with its own source. (miette's own "related" reports would do, but
/// print an `Advice:` prefix.)
#[derive(Debug)]
struct Report {
    severity: miette::Severity,
    code: Option<&'static str>,
    message: String,
    help: Option<String>,
    source: Option<Windowed>,
    labels: Vec<LabeledSpan>,
    elsewhere: Vec<Report>,
}

impl Report {
    fn new(d: &Diagnostic, sources: &[Source]) -> Self {
        let severity = match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        };
        let primary_source = d.labels.first().map(|l| l.source);
        let mut labels = Vec::new();
        let mut elsewhere: Vec<Report> = Vec::new();
        for (i, l) in d.labels.iter().enumerate() {
            let span = (l.span.start, l.span.len());
            if Some(l.source) == primary_source {
                labels.push(if i == 0 {
                    LabeledSpan::new_primary_with_span(l.text.clone(), span)
                } else {
                    LabeledSpan::new_with_span(l.text.clone(), span)
                });
            } else {
                elsewhere.push(Report {
                    severity: miette::Severity::Advice,
                    code: None,
                    message: l.text.clone().unwrap_or_else(|| "see also".into()),
                    help: None,
                    source: named(sources, l.source),
                    labels: vec![LabeledSpan::new_primary_with_span(None, span)],
                    elsewhere: Vec::new(),
                });
            }
        }
        let mut message = d.message.clone();
        if primary_source.is_none()
            && let Some(file) = &d.file
        {
            message = format!("{file}: {message}");
        }
        Report {
            severity,
            code: Some(d.code),
            message,
            help: d.help.clone(),
            source: primary_source.and_then(|s| named(sources, s)),
            labels,
            elsewhere,
        }
    }
}

fn named(sources: &[Source], id: SourceId) -> Option<Windowed> {
    sources.get(id).map(|s| Windowed(s.clone()))
}

/// A source as miette reads it. miette's own `str` source finds lines by scanning
/// from the start of the text for every label, which makes rendering thousands of
/// diagnostics on a large generated file quadratic; this one cuts out the lines
/// around the span (with the source's line index) and lets miette scan only those,
/// shifting the result back, so the output is the same.
#[derive(Debug)]
struct Windowed(Source);

impl SourceCode for Windowed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let source = &self.0;
        let text: &str = &source.text;
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        // One spare line each side so miette sees the same context as in the full text.
        let first = source.line_index(start).saturating_sub(before + 1);
        let last = source.line_index(end) + after + 2;
        let window_start = source.line_starts.get(first).copied().unwrap_or(0);
        let window_end = source.line_starts.get(last).copied().unwrap_or(text.len());
        let window = text.get(window_start..window_end).unwrap_or(text);
        let window_start = if window.len() == text.len() {
            0
        } else {
            window_start
        };
        let first = if window_start == 0 { 0 } else { first };
        let local = SourceSpan::new((start - window_start).into(), span.len());
        let inner = window.read_span(&local, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            source.name.clone(),
            inner.data(),
            SourceSpan::new(
                (inner.span().offset() + window_start).into(),
                inner.span().len(),
            ),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}
