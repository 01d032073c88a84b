//! The texts Landfall reads: TOML files found on disk (or given in memory) and the
//! JSON policy files they reference. Every diagnostic points into one of these by
//! [`SourceId`] and byte span, so all of them are kept until rendering.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a text in the [`SourceMap`].
pub(crate) type SourceId = usize;

/// A place in a source: the unit every diagnostic label is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Loc {
    pub source: SourceId,
    pub span: Range<usize>,
}

impl Loc {
    pub fn new(source: SourceId, span: Range<usize>) -> Self {
        Loc { source, span }
    }
}

/// One text and the name it is displayed under (the path as the user typed it).
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub name: String,
    pub text: Arc<str>,
    /// Byte offset of the start of every line, so positions are found by binary
    /// search (generated configs have thousands of declarations in one file).
    pub line_starts: Arc<[usize]>,
}

impl Source {
    fn new(name: String, text: Arc<str>) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            name,
            text,
            line_starts,
        }
    }

    /// 0-based index of the line holding a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column (in characters) of a byte offset; an offset past the
    /// end or inside a character is clamped.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let text = &*self.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_index(offset) + 1;
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = text[start..offset].chars().count() + 1;
        (to_u32(line), to_u32(column))
    }
}

/// All texts read during one load, in the order they were read.
#[derive(Clone, Debug, Default)]
pub(crate) struct SourceMap {
    sources: Vec<Source>,
}

impl SourceMap {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceId {
        self.sources.push(Source::new(name.into(), text.into()));
        self.sources.len() - 1
    }

    /// The id of an already-read source with this name (policy files shared by
    /// several SCPs are read once).
    pub fn find(&self, name: &str) -> Option<SourceId> {
        self.sources.iter().position(|s| s.name == name)
    }

    pub fn name(&self, id: SourceId) -> &str {
        self.sources.get(id).map(|s| s.name.as_str()).unwrap_or("")
    }

    pub fn text(&self, id: SourceId) -> &str {
        self.sources.get(id).map(|s| &*s.text).unwrap_or("")
    }

    /// The text a location covers (empty when out of range).
    pub fn slice(&self, loc: &Loc) -> &str {
        self.text(loc.source).get(loc.span.clone()).unwrap_or("")
    }

    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(id)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: SourceId, offset: usize) -> (u32, u32) {
        self.sources
            .get(id)
            .map(|s| s.line_col(offset))
            .unwrap_or((1, 1))
    }

    pub fn into_vec(self) -> Vec<Source> {
        self.sources
    }
}

/// Byte offset of a 1-based line and column (in bytes, as serde_json reports them);
/// clamped to the text and to a character boundary.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    let mut offset = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The `*.toml` files a `-c PATH` names: the file itself, or every `*.toml` file
/// below the directory (recursively, hidden entries skipped) sorted by path, so a
/// directory always merges in the same order.
pub(crate) fn discover(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, 0, &mut out)?;
    out.sort();
    Ok(out)
}

/// Deep enough for any sensible repository layout, shallow enough that a symlink
/// loop ends.
const MAX_DEPTH: usize = 32;

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // `metadata` follows symlinks, so a linked file or directory counts too.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, depth + 1, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Where a `file =` path of a policy declared in the TOML source `toml_name` lives:
/// relative to that TOML file's directory, itself relative to `base_dir`.
pub(crate) fn resolve_relative(base_dir: &Path, toml_name: &str, file: &str) -> PathBuf {
    let dir = Path::new(toml_name).parent().unwrap_or(Path::new(""));
    base_dir.join(dir).join(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_col(text: &str, offset: usize) -> (u32, u32) {
        Source::new("t".into(), text.into()).line_col(offset)
    }

    #[test]
    fn line_and_column_are_one_based() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 4), (2, 2));
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 999), (3, 2));
    }

    #[test]
    fn offsets_from_line_and_column() {
        let text = "ab\ncd\nef";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 2), 4);
        assert_eq!(offset_of(text, 9, 9), text.len());
    }

    #[test]
    fn policy_paths_are_relative_to_their_toml_file() {
        assert_eq!(
            resolve_relative(Path::new(""), "conf/a.toml", "p/x.json"),
            PathBuf::from("conf/p/x.json")
        );
        assert_eq!(
            resolve_relative(Path::new("/base"), "a.toml", "x.json"),
            PathBuf::from("/base/x.json")
        );
    }
}
