//! "Did you mean" suggestions and readable lists of alternatives (`closest` is public:
//! `landfall state` offers recorded addresses with it).

/// Similarity (Jaro-Winkler, case-insensitive) above which a candidate is offered.
const THRESHOLD: f64 = 0.8;

/// The candidate closest to `word`, if any is close enough.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let score = strsim::jaro_winkler(&lower, &c.to_lowercase());
        if score >= THRESHOLD && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// "`a`", "`a` or `b`", "`a`, `b` or `c`".
pub(crate) fn one_of(list: &[&str]) -> String {
    let quoted: Vec<String> = list.iter().map(|s| format!("`{s}`")).collect();
    match quoted.split_last() {
        None => "nothing".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["email", "ou", "tags", "allow_close"];
        assert_eq!(closest("emial", keys), Some("email"));
        assert_eq!(closest("alow_close", keys), Some("allow_close"));
        assert_eq!(closest("zzzzz", keys), None);
    }

    #[test]
    fn lists_read_naturally() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
