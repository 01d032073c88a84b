//! Where each byte of a TOML string's value was written. An inline SCP `content` is a
//! TOML string; when its JSON is wrong, the JSON error position (an offset into the
//! decoded value) is mapped back through this to a place in the TOML file, escapes
//! and multi-line forms included.

/// For each byte of `decoded`, the offset in `raw` (the string token as written,
/// quotes included) it comes from, plus one entry for the end. `None` when `raw`
/// does not decode to `decoded` (then callers point at the whole string instead).
pub(crate) fn offsets(raw: &str, decoded: &str) -> Option<Vec<usize>> {
    let (out, offs) = if let Some(body) = strip(raw, "'''") {
        literal(body, 3, true)
    } else if let Some(body) = strip(raw, "'") {
        literal(body, 1, false)
    } else if let Some(body) = strip(raw, "\"\"\"") {
        basic(body, 3, true)?
    } else if let Some(body) = strip(raw, "\"") {
        basic(body, 1, false)?
    } else {
        return None;
    };
    (out == decoded).then_some(offs)
}

fn strip<'a>(raw: &'a str, quote: &str) -> Option<&'a str> {
    if raw.len() >= 2 * quote.len() {
        raw.strip_prefix(quote)?.strip_suffix(quote)
    } else {
        None
    }
}

/// A newline right after the opening delimiter of a multi-line string is trimmed.
fn trimmed_newline(body: &str) -> usize {
    if body.starts_with("\r\n") {
        2
    } else if body.starts_with('\n') {
        1
    } else {
        0
    }
}

fn literal(body: &str, base: usize, multiline: bool) -> (String, Vec<usize>) {
    let skip = if multiline { trimmed_newline(body) } else { 0 };
    let text = &body[skip..];
    let start = base + skip;
    let offs = (0..=text.len()).map(|i| start + i).collect();
    (text.to_string(), offs)
}

fn basic(body: &str, base: usize, multiline: bool) -> Option<(String, Vec<usize>)> {
    let skip = if multiline { trimmed_newline(body) } else { 0 };
    let mut out = String::new();
    let mut offs = Vec::new();
    let mut chars = body[skip..].char_indices().peekable();
    let at = |i: usize| base + skip + i;
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            push(&mut out, &mut offs, c, at(i));
            continue;
        }
        let (_, e) = chars.next()?;
        let decoded = match e {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            '"' => '"',
            '\\' => '\\',
            'x' | 'u' | 'U' => {
                let len = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut hex = String::new();
                for _ in 0..len {
                    hex.push(chars.next()?.1);
                }
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            // Line-ending backslash: drop the newline and the whitespace after it.
            ' ' | '\t' | '\r' | '\n' if multiline => {
                while chars
                    .peek()
                    .is_some_and(|(_, c)| matches!(c, ' ' | '\t' | '\r' | '\n'))
                {
                    chars.next();
                }
                continue;
            }
            _ => return None,
        };
        push(&mut out, &mut offs, decoded, at(i));
    }
    offs.push(at(body.len() - skip));
    Some((out, offs))
}

fn push(out: &mut String, offs: &mut Vec<usize>, c: char, raw_at: usize) {
    out.push(c);
    offs.extend(std::iter::repeat_n(raw_at, c.len_utf8()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, decoded: &str, index: usize, expect: &str) {
        let offs = offsets(raw, decoded);
        let Some(offs) = offs else {
            panic!("{raw} did not map")
        };
        assert_eq!(offs.len(), decoded.len() + 1);
        assert_eq!(&raw[offs[index]..], expect);
    }

    #[test]
    fn literal_strings_map_one_to_one() {
        check("'abc'", "abc", 1, "bc'");
        check("'''\nab\ncd'''", "ab\ncd", 3, "cd'''");
    }

    #[test]
    fn basic_strings_map_through_escapes() {
        check(r#""a\"b\u00e9c""#, "a\"béc", 5, "c\"");
        check("\"\"\"\nab \\\n   cd\"\"\"", "ab cd", 3, "cd\"\"\"");
    }

    #[test]
    fn mismatch_yields_none() {
        assert!(offsets("'abc'", "abd").is_none());
        assert!(offsets("abc", "abc").is_none());
    }
}
