//! Condition operators and their evaluation against a request context.
//!
//! AWS's rules, as implemented here:
//! - all operators of a `Condition` block and all keys under one operator must
//!   match (AND); the values listed for one key are alternatives (OR), except for
//!   negated operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...), which
//!   match when the request value matches none of them (NOR);
//! - a key absent from the request makes a positive operator false and a negated
//!   operator true; `...IfExists` makes any operator true when the key is absent;
//!   `Null: "true"` matches an absent key, `Null: "false"` a present one;
//! - `ForAllValues:` is true when every request value satisfies the operator (and
//!   when the key is absent or empty); `ForAnyValue:` when at least one does (false
//!   when the key is absent or empty). Without a set qualifier a multi-valued key
//!   matches a positive operator when any of its values does, and a negated one when
//!   none of its values matches the positive counterpart.
//! - a policy variable in a value whose key is absent makes that value not match.
//!
//! An empty list of values counts as an absent key.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::wildcard::{Case, Pattern, Syntax};

/// The set qualifier of a condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

/// A condition operator without its qualifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOperator {
    pub const ALL: [BaseOperator; 27] = [
        BaseOperator::StringEquals,
        BaseOperator::StringNotEquals,
        BaseOperator::StringEqualsIgnoreCase,
        BaseOperator::StringNotEqualsIgnoreCase,
        BaseOperator::StringLike,
        BaseOperator::StringNotLike,
        BaseOperator::NumericEquals,
        BaseOperator::NumericNotEquals,
        BaseOperator::NumericLessThan,
        BaseOperator::NumericLessThanEquals,
        BaseOperator::NumericGreaterThan,
        BaseOperator::NumericGreaterThanEquals,
        BaseOperator::DateEquals,
        BaseOperator::DateNotEquals,
        BaseOperator::DateLessThan,
        BaseOperator::DateLessThanEquals,
        BaseOperator::DateGreaterThan,
        BaseOperator::DateGreaterThanEquals,
        BaseOperator::Bool,
        BaseOperator::BinaryEquals,
        BaseOperator::IpAddress,
        BaseOperator::NotIpAddress,
        BaseOperator::ArnEquals,
        BaseOperator::ArnLike,
        BaseOperator::ArnNotEquals,
        BaseOperator::ArnNotLike,
        BaseOperator::Null,
    ];

    pub fn name(self) -> &'static str {
        use BaseOperator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// A negated operator matches when its positive counterpart does not (and
    /// when the key is absent).
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// A full condition operator, e.g. `ForAnyValue:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub base: BaseOperator,
    pub qualifier: Option<SetQualifier>,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name exactly as AWS spells it; `None` if unknown.
    pub fn parse(text: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = text.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = text.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, text)
        };
        let (if_exists, rest) = match rest.strip_suffix("IfExists") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let base = BaseOperator::ALL.into_iter().find(|b| b.name() == rest)?;
        if base == BaseOperator::Null && (if_exists || qualifier.is_some()) {
            return None;
        }
        Some(Operator {
            base,
            qualifier,
            if_exists,
        })
    }

    /// The operator as AWS spells it.
    pub fn name(&self) -> String {
        let q = match self.qualifier {
            Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
            Some(SetQualifier::ForAllValues) => "ForAllValues:",
            None => "",
        };
        let s = if self.if_exists { "IfExists" } else { "" };
        format!("{q}{}{s}", self.base.name())
    }
}

impl std::fmt::Display for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// `request <op> policy`.
    fn apply(self, request: f64, policy: f64) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// An ARN pattern for the `Arn*` operators: each of the six colon-separated parts
/// is matched on its own (the last part keeps any further colons).
#[derive(Debug, Clone)]
pub(crate) enum ArnPattern {
    Parts(Box<[Pattern]>),
    /// No colon at all (e.g. `*`): matched as one string.
    Whole(Pattern),
    /// Colons but not six parts: matches no ARN.
    Never,
}

impl ArnPattern {
    fn compile(text: &str, syntax: Syntax) -> ArnPattern {
        let parts = split_arn(text);
        match parts.len() {
            6 => ArnPattern::Parts(parts.iter().map(|p| Pattern::compile(p, syntax)).collect()),
            1 => ArnPattern::Whole(Pattern::compile(text, syntax)),
            _ => ArnPattern::Never,
        }
    }

    fn matches(&self, value: &str, ctx: &BTreeMap<String, Vec<String>>) -> bool {
        match self {
            ArnPattern::Whole(p) => p.matches_in(value, ctx),
            ArnPattern::Never => false,
            ArnPattern::Parts(parts) => {
                let mut it = value.splitn(6, ':');
                for p in parts.iter() {
                    match it.next() {
                        Some(v) if p.matches_in(v, ctx) => {}
                        _ => return false,
                    }
                }
                true
            }
        }
    }
}

/// Splits an ARN pattern into at most six parts on the colons outside `${...}`.
fn split_arn(text: &str) -> Vec<&str> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    let mut in_var = false;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'$' if bytes.get(i + 1) == Some(&b'{') => in_var = true,
            b'}' => in_var = false,
            b':' if !in_var && parts.len() < 5 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A condition's values, compiled for its operator.
#[derive(Debug, Clone)]
pub(crate) enum Values {
    Str(Box<[Pattern]>),
    Arn(Box<[ArnPattern]>),
    Num(Cmp, Box<[f64]>),
    Date(Cmp, Box<[f64]>),
    Bool(Box<[bool]>),
    Binary(Box<[String]>),
    Ip(Box<[IpNet]>),
    Null(Box<[bool]>),
}

impl Values {
    /// Compiles `values` for `base`; on error, the index of the bad value and why.
    pub(crate) fn compile(
        base: BaseOperator,
        values: &[String],
        variables: bool,
    ) -> Result<Values, (usize, String)> {
        use BaseOperator::*;
        let strings = |wildcards: bool, case: Case| {
            let syntax = Syntax {
                wildcards,
                variables,
                case,
            };
            Ok(Values::Str(
                values.iter().map(|v| Pattern::compile(v, syntax)).collect(),
            ))
        };
        let numbers = |cmp: Cmp| -> Result<Values, (usize, String)> {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                match parse_number(v) {
                    Some(n) => out.push(n),
                    None => return Err((i, format!("`{v}` is not a number"))),
                }
            }
            Ok(Values::Num(cmp, out.into()))
        };
        let dates = |cmp: Cmp| -> Result<Values, (usize, String)> {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                match parse_date(v) {
                    Some(n) => out.push(n),
                    None => {
                        return Err((
                            i,
                            format!(
                                "`{v}` is not a date (ISO 8601, e.g. 2024-01-31T00:00:00Z, or epoch seconds)"
                            ),
                        ));
                    }
                }
            }
            Ok(Values::Date(cmp, out.into()))
        };
        let bools = |null: bool| -> Result<Values, (usize, String)> {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                match parse_bool(v) {
                    Some(b) => out.push(b),
                    None => return Err((i, format!("`{v}` is not `true` or `false`"))),
                }
            }
            Ok(if null {
                Values::Null(out.into())
            } else {
                Values::Bool(out.into())
            })
        };
        match base {
            StringEquals | StringNotEquals => strings(false, Case::Sensitive),
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => strings(false, Case::Unicode),
            StringLike | StringNotLike => strings(true, Case::Sensitive),
            NumericEquals | NumericNotEquals => numbers(Cmp::Eq),
            NumericLessThan => numbers(Cmp::Lt),
            NumericLessThanEquals => numbers(Cmp::Le),
            NumericGreaterThan => numbers(Cmp::Gt),
            NumericGreaterThanEquals => numbers(Cmp::Ge),
            DateEquals | DateNotEquals => dates(Cmp::Eq),
            DateLessThan => dates(Cmp::Lt),
            DateLessThanEquals => dates(Cmp::Le),
            DateGreaterThan => dates(Cmp::Gt),
            DateGreaterThanEquals => dates(Cmp::Ge),
            Bool => bools(false),
            Null => bools(true),
            BinaryEquals => Ok(Values::Binary(values.to_vec().into())),
            IpAddress | NotIpAddress => {
                let mut out = Vec::with_capacity(values.len());
                for (i, v) in values.iter().enumerate() {
                    match parse_net(v) {
                        Some(n) => out.push(n),
                        None => {
                            return Err((i, format!("`{v}` is not an IP address or CIDR block")));
                        }
                    }
                }
                Ok(Values::Ip(out.into()))
            }
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                let syntax = Syntax {
                    wildcards: true,
                    variables,
                    case: Case::Sensitive,
                };
                Ok(Values::Arn(
                    values
                        .iter()
                        .map(|v| ArnPattern::compile(v, syntax))
                        .collect(),
                ))
            }
        }
    }

    /// Whether one request value matches any policy value under the positive
    /// operator.
    fn any_matches(&self, value: &str, ctx: &BTreeMap<String, Vec<String>>) -> bool {
        match self {
            Values::Str(pats) => pats.iter().any(|p| p.matches_in(value, ctx)),
            Values::Arn(pats) => pats.iter().any(|p| p.matches(value, ctx)),
            Values::Num(cmp, ns) => {
                parse_number(value).is_some_and(|x| ns.iter().any(|&n| cmp.apply(x, n)))
            }
            Values::Date(cmp, ds) => {
                parse_date(value).is_some_and(|x| ds.iter().any(|&d| cmp.apply(x, d)))
            }
            Values::Bool(bs) => parse_bool(value).is_some_and(|b| bs.contains(&b)),
            Values::Binary(bs) => bs.iter().any(|b| b == value),
            Values::Ip(nets) => {
                parse_ip(value).is_some_and(|ip| nets.iter().any(|n| n.contains(&ip)))
            }
            // Null is decided on presence alone (see `Condition::matches`).
            Values::Null(_) => false,
        }
    }
}

/// One condition: an operator applied to one context key.
#[derive(Debug, Clone)]
pub struct Condition {
    pub operator: Operator,
    /// The key as written (key names are case-insensitive).
    pub key: String,
    /// The values as written (numbers and booleans as their JSON text).
    pub values: Vec<String>,
    /// `key` lower-cased, for lookups.
    pub(crate) lookup: String,
    pub(crate) compiled: Values,
}

impl Condition {
    /// Builds a condition; on error, the index of the bad value and why.
    pub fn new(
        operator: Operator,
        key: &str,
        values: Vec<String>,
        variables: bool,
    ) -> Result<Condition, (usize, String)> {
        let compiled = Values::compile(operator.base, &values, variables)?;
        Ok(Condition {
            operator,
            key: key.to_string(),
            lookup: key.to_lowercase(),
            values,
            compiled,
        })
    }

    /// Evaluates the condition against a context whose keys are lower-cased.
    pub fn matches(&self, ctx: &BTreeMap<String, Vec<String>>) -> bool {
        let present = ctx.get(&self.lookup).filter(|v| !v.is_empty());
        if let Values::Null(expect) = &self.compiled {
            let absent = present.is_none();
            return expect.contains(&absent);
        }
        let negated = self.operator.base.is_negated();
        let Some(vals) = present else {
            if self.operator.if_exists {
                return true;
            }
            return match self.operator.qualifier {
                Some(SetQualifier::ForAllValues) => true,
                Some(SetQualifier::ForAnyValue) => false,
                None => negated,
            };
        };
        let one = |v: &String| self.compiled.any_matches(v, ctx) != negated;
        match self.operator.qualifier {
            None => vals.iter().any(|v| self.compiled.any_matches(v, ctx)) != negated,
            Some(SetQualifier::ForAnyValue) => vals.iter().any(one),
            Some(SetQualifier::ForAllValues) => vals.iter().all(one),
        }
    }

    /// The numeric or date bounds, for cheap contradiction checks.
    pub(crate) fn bounds(&self) -> Option<(bool, Cmp, &[f64])> {
        match &self.compiled {
            Values::Num(c, v) => Some((false, *c, v)),
            Values::Date(c, v) => Some((true, *c, v)),
            _ => None,
        }
    }

    /// The literal (variable-free) string values of a string operator.
    pub(crate) fn literal_strings(&self) -> Option<Vec<&str>> {
        match &self.compiled {
            Values::Str(p) if p.iter().all(|p| !p.has_variables()) => {
                Some(p.iter().map(Pattern::as_str).collect())
            }
            _ => None,
        }
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let n: f64 = s.trim().parse().ok()?;
    n.is_finite().then_some(n)
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<IpNet>().ok().map(|n| n.addr()))
}

/// A date as seconds since the epoch: epoch seconds (`1700000000`), or ISO 8601
/// (`2024-01-31`, `2024-01-31T12:00Z`, `2024-01-31T12:00:00.5+02:00`).
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().map(|n| n as f64);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    let mut frac = 0.0;
    let mut rest = &s[10..];
    if let Some(t) = rest.strip_prefix(['T', 't', ' ']) {
        let h = t.get(0..2).and_then(|x| x.parse::<i64>().ok())?;
        if t.as_bytes().get(2) != Some(&b':') {
            return None;
        }
        let m = t.get(3..5).and_then(|x| x.parse::<i64>().ok())?;
        let mut sec = 0;
        rest = &t[5..];
        if let Some(r) = rest.strip_prefix(':') {
            sec = r.get(0..2).and_then(|x| x.parse::<i64>().ok())?;
            rest = &r[2..];
            if let Some(r) = rest.strip_prefix(['.', ',']) {
                let digits = r.bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return None;
                }
                frac = format!("0.{}", &r[..digits]).parse().ok()?;
                rest = &r[digits..];
            }
        }
        if h > 24 || m > 59 || sec > 60 {
            return None;
        }
        secs += h * 3600 + m * 60 + sec;
        if rest.is_empty() || rest == "Z" || rest == "z" {
            rest = "";
        } else {
            let sign = match rest.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let off = &rest[1..];
            let (oh, om) = match off.len() {
                5 if off.as_bytes()[2] == b':' => (off.get(0..2)?, off.get(3..5)?),
                4 => (off.get(0..2)?, off.get(2..4)?),
                2 => (off, "00"),
                _ => return None,
            };
            let (oh, om): (i64, i64) = (oh.parse().ok()?, om.parse().ok()?);
            secs -= sign * (oh * 3600 + om * 60);
            rest = "";
        }
    }
    rest.is_empty().then_some(secs as f64 + frac)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition::new(
            Operator::parse(op).unwrap(),
            key,
            values.iter().map(|v| v.to_string()).collect(),
            true,
        )
        .unwrap()
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, vs)| (k.to_lowercase(), vs.iter().map(|v| v.to_string()).collect()))
            .collect()
    }

    fn check(op: &str, values: &[&str], present: &[&str]) -> bool {
        cond(op, "k:x", values).matches(&ctx(&[("k:x", present)]))
    }

    fn missing(op: &str, values: &[&str]) -> bool {
        cond(op, "k:x", values).matches(&BTreeMap::new())
    }

    #[test]
    fn operator_names() {
        let op = Operator::parse("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!(op.base, BaseOperator::StringNotLike);
        assert_eq!(op.qualifier, Some(SetQualifier::ForAnyValue));
        assert!(op.if_exists);
        assert_eq!(op.name(), "ForAnyValue:StringNotLikeIfExists");
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("StringEqual").is_none());
        for b in BaseOperator::ALL {
            assert_eq!(Operator::parse(b.name()).map(|o| o.base), Some(b));
        }
    }

    #[test]
    fn string_operators() {
        assert!(check("StringEquals", &["a", "b"], &["b"]));
        assert!(!check("StringEquals", &["a"], &["A"]));
        assert!(!check("StringEquals", &["a*"], &["ab"]));
        assert!(check("StringEquals", &["a*"], &["a*"]));
        assert!(check("StringNotEquals", &["a", "b"], &["c"]));
        assert!(!check("StringNotEquals", &["a", "b"], &["b"]));
        assert!(check("StringEqualsIgnoreCase", &["JohnDoe"], &["johndoe"]));
        assert!(!check(
            "StringNotEqualsIgnoreCase",
            &["JohnDoe"],
            &["JOHNDOE"]
        ));
        assert!(check("StringLike", &["ml.t3.*"], &["ml.t3.medium"]));
        assert!(!check("StringLike", &["ml.t3.*"], &["ML.T3.medium"]));
        assert!(check(
            "StringNotLike",
            &["ml.t3.*", "ml.m5.*"],
            &["ml.p4d.24xlarge"]
        ));
        assert!(!check(
            "StringNotLike",
            &["ml.t3.*", "ml.m5.*"],
            &["ml.m5.large"]
        ));
    }

    #[test]
    fn missing_keys_and_if_exists() {
        for (op, v) in [
            ("StringEquals", "true"),
            ("StringLike", "true"),
            ("ArnLike", "*"),
            ("Bool", "true"),
            ("IpAddress", "10.0.0.0/8"),
        ] {
            assert!(!missing(op, &[v]), "{op}");
            assert!(missing(&format!("{op}IfExists"), &[v]), "{op}");
        }
        for op in [
            "StringNotEquals",
            "StringNotLike",
            "ArnNotLike",
            "NotIpAddress",
        ] {
            assert!(missing(op, &["10.0.0.0/8"]), "{op}");
            assert!(missing(&format!("{op}IfExists"), &["10.0.0.0/8"]), "{op}");
        }
        assert!(!missing("NumericLessThan", &["3"]));
        assert!(missing("NumericNotEquals", &["3"]));
        assert!(!missing("DateGreaterThan", &["2020-01-01"]));
        assert!(missing("DateNotEquals", &["2020-01-01"]));
        // IfExists on a present key checks the value.
        assert!(!check("StringEqualsIfExists", &["a"], &["b"]));
        assert!(check("StringNotEqualsIfExists", &["a"], &["b"]));
        // An empty list counts as absent.
        assert!(!check("StringEquals", &["a"], &[]));
        assert!(check("StringNotEquals", &["a"], &[]));
    }

    #[test]
    fn null_operator() {
        assert!(missing("Null", &["true"]));
        assert!(!missing("Null", &["false"]));
        assert!(!check("Null", &["true"], &["x"]));
        assert!(check("Null", &["false"], &["x"]));
        assert!(check("Null", &["TRUE"], &[]));
    }

    #[test]
    fn numeric_operators() {
        assert!(check("NumericEquals", &["10"], &["10.0"]));
        assert!(!check("NumericEquals", &["10"], &["11"]));
        assert!(check("NumericNotEquals", &["10"], &["11"]));
        assert!(check("NumericLessThan", &["10"], &["9"]));
        assert!(!check("NumericLessThan", &["10"], &["10"]));
        assert!(check("NumericLessThanEquals", &["10"], &["10"]));
        assert!(check("NumericGreaterThan", &["10"], &["10.5"]));
        assert!(!check("NumericGreaterThan", &["10"], &["10"]));
        assert!(check("NumericGreaterThanEquals", &["10"], &["10"]));
        assert!(!check("NumericEquals", &["10"], &["ten"]));
        assert!(Values::compile(BaseOperator::NumericEquals, &["x".into()], true).is_err());
    }

    #[test]
    fn date_operators() {
        let t = "2024-06-01T12:00:00Z";
        assert!(check("DateEquals", &[t], &["2024-06-01T14:00:00+02:00"]));
        assert!(check("DateEquals", &[t], &["1717243200"]));
        assert!(check("DateNotEquals", &[t], &["2024-06-01T12:00:01Z"]));
        assert!(check("DateLessThan", &[t], &["2024-05-31"]));
        assert!(!check("DateLessThan", &[t], &[t]));
        assert!(check("DateLessThanEquals", &[t], &[t]));
        assert!(check(
            "DateGreaterThan",
            &["2020-01-01"],
            &["2024-06-01T00:00:00.5Z"]
        ));
        assert!(check("DateGreaterThanEquals", &["1717243200"], &[t]));
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_date("2000-03-01"), Some(951_868_800.0));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("2024-01-01T10:00"), Some(1_704_103_200.0));
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn bool_binary_ip_operators() {
        assert!(check("Bool", &["true"], &["true"]));
        assert!(check("Bool", &["true"], &["True"]));
        assert!(!check("Bool", &["true"], &["false"]));
        assert!(check("BoolIfExists", &["false"], &["false"]));
        assert!(check("BinaryEquals", &["QmluYXJ5"], &["QmluYXJ5"]));
        assert!(!check("BinaryEquals", &["QmluYXJ5"], &["QmluYXJ6"]));
        assert!(check("IpAddress", &["203.0.113.0/24"], &["203.0.113.7"]));
        assert!(check("IpAddress", &["203.0.113.7"], &["203.0.113.7"]));
        assert!(!check("IpAddress", &["203.0.113.0/24"], &["198.51.100.1"]));
        assert!(check(
            "NotIpAddress",
            &["203.0.113.0/24"],
            &["198.51.100.1"]
        ));
        assert!(!check(
            "NotIpAddress",
            &["203.0.113.0/24", "198.51.100.0/24"],
            &["198.51.100.1"]
        ));
        assert!(check("IpAddress", &["2001:db8::/32"], &["2001:db8::1"]));
        assert!(!check("IpAddress", &["2001:db8::/32"], &["not-an-ip"]));
    }

    #[test]
    fn arn_operators() {
        let role = "arn:aws:iam::*:role/AWSControlTowerExecution";
        let arn = "arn:aws:iam::123456789012:role/AWSControlTowerExecution";
        assert!(check("ArnLike", &[role], &[arn]));
        assert!(check("ArnEquals", &[role], &[arn]));
        assert!(!check("ArnNotLike", &[role], &[arn]));
        assert!(check(
            "ArnNotLike",
            &[role],
            &["arn:aws:iam::123456789012:role/Dev"]
        ));
        assert!(check(
            "ArnNotEquals",
            &[role],
            &["arn:aws:iam::123456789012:user/x"]
        ));
        // Wildcards stay inside their part.
        assert!(!check("ArnLike", &["arn:aws:iam::*"], &[arn]));
        assert!(check("ArnLike", &["arn:aws:iam::*:*"], &[arn]));
        assert!(check(
            "ArnLike",
            &["arn:aws:s3:::b/*"],
            &["arn:aws:s3:::b/x:y"]
        ));
        // Case-sensitive; not-an-ARN values do not match six parts.
        assert!(!check("ArnLike", &[role], &[&arn.to_uppercase()]));
        assert!(!check(
            "ArnLike",
            &[role],
            &["role/AWSControlTowerExecution"]
        ));
        assert!(check("ArnLike", &["*"], &[arn]));
        assert!(check(
            "ArnLike",
            &["arn:aws:iam::*:root"],
            &["arn:aws:iam::111122223333:root"]
        ));
    }

    #[test]
    fn set_qualifiers() {
        let types = ["ml.t3.*", "ml.m5.*"];
        // ForAnyValue:StringNotLike: one value outside the list is enough.
        assert!(check(
            "ForAnyValue:StringNotLike",
            &types,
            &["ml.t3.medium", "ml.p3.2xlarge"]
        ));
        assert!(!check(
            "ForAnyValue:StringNotLike",
            &types,
            &["ml.t3.medium", "ml.m5.large"]
        ));
        assert!(!missing("ForAnyValue:StringNotLike", &types));
        // ForAllValues:StringLike: every value in the list (vacuously when absent).
        assert!(check(
            "ForAllValues:StringLike",
            &types,
            &["ml.t3.medium", "ml.m5.large"]
        ));
        assert!(!check(
            "ForAllValues:StringLike",
            &types,
            &["ml.t3.medium", "ml.p3.2xlarge"]
        ));
        assert!(missing("ForAllValues:StringLike", &types));
        assert!(check("ForAllValues:StringLike", &types, &[]));
        assert!(check("ForAnyValue:StringEquals", &["a"], &["b", "a"]));
        assert!(!missing("ForAnyValue:StringEquals", &["a"]));
        assert!(missing("ForAnyValue:StringEqualsIfExists", &["a"]));
        assert!(check("ForAllValues:StringNotEquals", &["a"], &["b", "c"]));
        assert!(!check("ForAllValues:StringNotEquals", &["a"], &["b", "a"]));
        // Without a qualifier, a multi-valued key: any value for positive operators,
        // none for negated ones.
        assert!(check("StringEquals", &["a"], &["b", "a"]));
        assert!(!check("StringNotEquals", &["a"], &["b", "a"]));
    }

    #[test]
    fn policy_variables_in_values() {
        let c = cond(
            "StringEquals",
            "aws:ResourceTag/team",
            &["${aws:PrincipalTag/team}"],
        );
        let mut x = ctx(&[
            ("aws:ResourceTag/team", &["ml"]),
            ("aws:PrincipalTag/team", &["ml"]),
        ]);
        assert!(c.matches(&x));
        x.insert("aws:principaltag/team".into(), vec!["web".into()]);
        assert!(!c.matches(&x));
        x.remove("aws:principaltag/team");
        assert!(!c.matches(&x));
        let n = cond(
            "StringNotEquals",
            "aws:ResourceTag/team",
            &["${aws:PrincipalTag/team}"],
        );
        assert!(
            n.matches(&x),
            "a missing variable matches no value, so NotEquals holds"
        );
        // Without Version 2012-10-17 variables are literal text.
        let lit = Condition::new(
            Operator::parse("StringEquals").unwrap(),
            "k:x",
            vec!["${a:b}".into()],
            false,
        )
        .unwrap();
        assert!(lit.matches(&ctx(&[("k:x", &["${a:b}"])])));
    }
}
