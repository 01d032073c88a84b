//! A small JSON reader that keeps the byte span of every key and value, so lint
//! findings (and landfall-config's policy diagnostics) can point at the offending
//! element. It runs only on text serde_json has already accepted; anything unexpected
//! yields `None`.

use std::ops::Range;

#[derive(Debug)]
pub struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug)]
pub enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    String(String),
    /// Numbers, `true`, `false`, `null`: their raw text.
    Scalar(String),
}

#[derive(Debug)]
pub struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Node,
}

impl Node {
    /// The first character: a compact place to point at an object or array.
    pub fn opening(&self) -> Range<usize> {
        self.span.start..self.span.start + 1
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    /// A string, number or boolean as text (how IAM reads condition values).
    pub fn as_scalar_text(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            Kind::Scalar(s) if s != "null" => Some(s),
            _ => None,
        }
    }
}

/// Same nesting limit as serde_json, whose acceptance we rely on.
const MAX_DEPTH: usize = 128;

pub fn parse(text: &str) -> Option<Node> {
    let mut p = Parser { text, pos: 0 };
    p.value(0)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek()? {
            b'{' => self.object(depth)?,
            b'[' => self.array(depth)?,
            b'"' => Kind::String(self.string()?.0),
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.pos += 1;
                }
                Kind::Scalar(self.text.get(start..self.pos)?.to_string())
            }
        };
        Some(Node {
            span: start..self.pos,
            kind,
        })
    }

    fn object(&mut self, depth: usize) -> Option<Kind> {
        self.pos += 1;
        let mut members = Vec::new();
        loop {
            self.skip_ws();
            match self.peek()? {
                b'}' => {
                    self.pos += 1;
                    return Some(Kind::Object(members));
                }
                b',' => self.pos += 1,
                b'"' => {
                    let (key, key_span) = self.string()?;
                    self.skip_ws();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    let value = self.value(depth + 1)?;
                    members.push(Member {
                        key,
                        key_span,
                        value,
                    });
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<Kind> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek()? {
                b']' => {
                    self.pos += 1;
                    return Some(Kind::Array(items));
                }
                b',' => self.pos += 1,
                _ => items.push(self.value(depth + 1)?),
            }
        }
    }

    /// A string token: its decoded value and span (quotes included).
    fn string(&mut self) -> Option<(String, Range<usize>)> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        let raw = self.text.get(start..self.pos)?;
        let value = if escaped {
            serde_json::from_str(raw).ok()?
        } else {
            raw.get(1..raw.len() - 1)?.to_string()
        };
        Some((value, start..self.pos))
    }
}

/// Appends a JSON-pointer segment (RFC 6901 escaping).
pub(crate) fn pointer(base: &str, segment: &str) -> String {
    let mut p = String::with_capacity(base.len() + segment.len() + 1);
    p.push_str(base);
    p.push('/');
    for c in segment.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            _ => p.push(c),
        }
    }
    p
}

/// The byte offset of serde_json's 1-based line and column.
/// Why `text` is not a JSON document: serde_json's reason (without its "at line"
/// suffix) and the byte range of the character it stopped at. `None` when it is one.
pub(crate) fn syntax_error(text: &str) -> Option<(String, Range<usize>)> {
    let e = serde_json::from_str::<serde_json::Value>(text).err()?;
    let at = offset_of(text, e.line(), e.column());
    let end = text
        .get(at..)
        .and_then(|t| t.chars().next())
        .map_or(at, |c| at + c.len_utf8());
    let message = e.to_string();
    let reason = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(r, _)| r);
    Some((reason.to_string(), at..end))
}

pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.saturating_sub(1);
            return l
                .char_indices()
                .nth(col)
                .map_or(offset + l.len(), |(b, _)| offset + b);
        }
        offset += l.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn spans_of_keys_and_values() {
        let text = r#"{ "a": [1, "x\"y"], "b": {"c": null} }"#;
        let Some(Node {
            kind: Kind::Object(members),
            ..
        }) = parse(text)
        else {
            panic!("not an object")
        };
        assert_eq!(&text[members[0].key_span.clone()], "\"a\"");
        assert_eq!(&text[members[0].value.span.clone()], r#"[1, "x\"y"]"#);
        let Kind::Array(items) = &members[0].value.kind else {
            panic!("not an array")
        };
        assert_eq!(items[0].as_scalar_text(), Some("1"));
        assert_eq!(items[1].as_str(), Some("x\"y"));
        assert_eq!(&text[members[1].value.span.clone()], r#"{"c": null}"#);
    }

    #[test]
    fn pointers_escape() {
        assert_eq!(pointer("/Condition", "a/b~c"), "/Condition/a~1b~0c");
    }

    #[test]
    fn offsets_from_line_and_column() {
        let text = "ab\ncdé\nf";
        assert_eq!(offset_of(text, 2, 3), 5);
        assert_eq!(offset_of(text, 3, 1), 8);
    }
}
