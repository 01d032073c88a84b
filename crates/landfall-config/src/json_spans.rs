//! A tiny JSON reader that keeps the byte span of every value and key, so policy
//! checks can point at the offending statement or element. It runs only on text
//! serde_json has already accepted; anything unexpected just yields `None`.

use std::ops::Range;

#[derive(Debug)]
pub(crate) struct Node {
    pub span: Range<usize>,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Object(Vec<Member>),
    Array(Vec<Node>),
    String(String),
    /// Numbers, booleans and null: policy checks only need to know they are not
    /// strings.
    Other,
}

#[derive(Debug)]
pub(crate) struct Member {
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
}

/// Same limit as serde_json, whose acceptance we rely on.
const MAX_DEPTH: usize = 128;

pub(crate) fn parse(text: &str) -> Option<Node> {
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
                Kind::Other
            }
        };
        Some(Node {
            span: start..self.pos,
            kind,
        })
    }

    fn object(&mut self, depth: usize) -> Option<Kind> {
        self.pos += 1; // `{`
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
        self.pos += 1; // `[`
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
        self.pos += 1; // opening quote
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    break;
                }
                _ => self.pos += 1,
            }
        }
        let raw = self.text.get(start..self.pos)?;
        let value: String = serde_json::from_str(raw).ok()?;
        Some((value, start..self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let text = r#"{ "a": [1, "x\"y"], "b": {"c": null} }"#;
        let node = parse(text);
        let Some(Node {
            kind: Kind::Object(members),
            ..
        }) = node
        else {
            unreachable!("not an object")
        };
        assert_eq!(members.len(), 2);
        assert_eq!(&text[members[0].key_span.clone()], "\"a\"");
        assert_eq!(&text[members[0].value.span.clone()], r#"[1, "x\"y"]"#);
        let Kind::Array(items) = &members[0].value.kind else {
            unreachable!("not an array")
        };
        assert_eq!(items[1].as_str(), Some("x\"y"));
        assert_eq!(&text[members[1].value.span.clone()], r#"{"c": null}"#);
    }
}
