//! The naming and format rules AWS (and Landfall) impose, one function per rule.
//! Each returns `None` when the value is fine or the reason it is not, so the
//! validator decides where to point and which code to use.

use ipnet::Ipv4Net;

/// The regions this Landfall knows, offered as "did you mean". Not a closed list: a
/// well-formed name outside it (and `[landing_zone] known_regions`) is accepted with a
/// warning, since AWS adds regions.
pub(crate) const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-east-2",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Region names look like `us-east-1`, `us-gov-west-1`, `ap-southeast-4`: a
/// two-letter area, one or two lowercase words, a number.
pub(crate) fn region_problem(region: &str) -> Option<String> {
    let parts: Vec<&str> = region.split('-').collect();
    let lower_word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let ok = (3..=4).contains(&parts.len())
        && parts[0].len() == 2
        && lower_word(parts[0])
        && parts[1..parts.len() - 1].iter().all(|p| lower_word(p))
        && parts.last().is_some_and(|n| {
            !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit())
        });
    (!ok).then(|| format!("`{region}` is not a region name (regions look like `us-east-1`)"))
}

/// `[a-z0-9][a-z0-9-]{0,62}`: it names the state file.
pub fn landing_zone_name_problem(name: &str) -> Option<String> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if name.is_empty() || name.len() > 63 {
        return Some("must be 1 to 63 characters".into());
    }
    if name.starts_with('-') || !name.chars().all(valid_char) {
        return Some(
            "only lowercase letters, digits and `-` are allowed, starting with a letter or digit"
                .into(),
        );
    }
    None
}

/// Networks and KMS keys: the same rule as landing zone names. No dots, so the
/// addresses `vpc.NAME` and `endpoint.NAME.SERVICE` stay unambiguous.
pub(crate) fn resource_name_problem(name: &str) -> Option<String> {
    landing_zone_name_problem(name)
}

/// Why a CIDR block is not usable.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CidrProblem {
    /// Not an IPv4 CIDR at all (the reason).
    Malformed(String),
    /// Host bits are set; the network address it probably means.
    HostBits(Ipv4Net),
}

/// Parses an IPv4 CIDR block whose host bits are zero (`10.20.0.0/16`).
pub(crate) fn parse_cidr(text: &str) -> Result<Ipv4Net, CidrProblem> {
    let net: Ipv4Net = match text.parse() {
        Ok(n) => n,
        Err(_) => {
            let reason = if text.contains(':') {
                "an IPv4 CIDR block is expected (IPv6 is not supported)".to_string()
            } else if !text.contains('/') {
                "no prefix length: a CIDR block looks like `10.20.0.0/16`".to_string()
            } else {
                "not an IPv4 CIDR block like `10.20.0.0/16`".to_string()
            };
            return Err(CidrProblem::Malformed(reason));
        }
    };
    if net.addr() != net.network() {
        return Err(CidrProblem::HostBits(net.trunc()));
    }
    Ok(net)
}

/// VPC and subnet prefix lengths AWS allows.
pub(crate) const MIN_PREFIX: u8 = 16;
pub(crate) const MAX_PREFIX: u8 = 28;

/// True when two CIDR blocks share an address.
pub(crate) fn cidrs_overlap(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

/// An availability zone name is its region plus a letter (`us-east-1a`), or a Local
/// Zone group suffix (`us-east-1-bos-1a`).
pub(crate) fn az_problem(az: &str, region: &str) -> Option<String> {
    let suffix = az.strip_prefix(region).unwrap_or("");
    let ok = az.starts_with(region)
        && suffix
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '-')
        && suffix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (!ok).then(|| format!("not an availability zone of `{region}`"))
}

/// KMS alias names: `alias/` and 1 or more of letters, digits, `/`, `_`, `-`; at most
/// 256 characters; `alias/aws/` is reserved for AWS managed keys.
pub(crate) fn kms_alias_problem(alias: &str) -> Option<String> {
    let Some(rest) = alias.strip_prefix("alias/") else {
        return Some("an alias starts with `alias/`".into());
    };
    if alias.starts_with("alias/aws/") {
        return Some("`alias/aws/` is reserved for AWS managed keys".into());
    }
    if rest.is_empty() {
        return Some("no name after `alias/`".into());
    }
    if alias.chars().count() > 256 {
        return Some("an alias is at most 256 characters".into());
    }
    let valid = |c: char| c.is_ascii_alphanumeric() || "/_-".contains(c);
    (!alias.chars().all(valid))
        .then(|| "an alias uses only letters, digits, `/`, `_` and `-`".into())
}

/// IAM role names: 1–64 characters of letters, digits and `+=,.@_-`.
pub(crate) fn role_name_problem(name: &str) -> Option<String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.chars().count() > 64 {
        return Some("an IAM role name is 1 to 64 characters".into());
    }
    (!name.chars().all(valid))
        .then(|| "an IAM role name uses only letters, digits and `+=,.@_-`".into())
}

/// One OU path segment: 1–128 characters, no leading or trailing whitespace.
pub(crate) fn ou_segment_problem(segment: &str) -> Option<String> {
    if segment.is_empty() {
        return Some("an OU path has no empty segments".into());
    }
    if segment.chars().count() > 128 {
        return Some(format!(
            "the OU name `{segment}` is longer than 128 characters"
        ));
    }
    if segment.trim() != segment {
        return Some(format!(
            "the OU name `{segment}` starts or ends with whitespace"
        ));
    }
    if segment.chars().any(char::is_control) {
        return Some("an OU name cannot contain control characters".into());
    }
    None
}

/// Account names: 1–50 characters of letters, digits, `.`, `_`, `-`, starting with
/// a letter or digit (they double as addresses: `account.NAME`).
pub(crate) fn account_name_problem(name: &str) -> Option<String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if name.is_empty() || name.chars().count() > 50 {
        return Some("an account name is 1 to 50 characters".into());
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return Some("an account name starts with a letter or digit".into());
    }
    (!name.chars().all(valid))
        .then(|| "an account name uses only letters, digits, `.`, `_` and `-`".into())
}

/// A name as AWS stores it (`[account.X] name`, `[scp.X] name`): 1 to `max`
/// printable ASCII characters; `PutAccountName` also refuses `<` and `>`, so accounts
/// pass `angle_brackets = false`.
pub(crate) fn aws_name_problem(name: &str, max: usize, angle_brackets: bool) -> Option<String> {
    let count = name.chars().count();
    if count == 0 || count > max {
        return Some(format!("a name in AWS is 1 to {max} characters"));
    }
    if name.trim() != name {
        return Some("a name in AWS does not start or end with a space".into());
    }
    let bad = name
        .chars()
        .find(|c| !(' '..='~').contains(c) || (!angle_brackets && (*c == '<' || *c == '>')));
    bad.map(|c| {
        format!(
            "`{c}` is not allowed: printable ASCII characters only{}",
            if angle_brackets {
                ""
            } else {
                ", no `<` or `>`"
            }
        )
    })
}

/// The format part of AWS's email rule: `local@domain.tld`, no whitespace.
pub(crate) fn email_format_problem(email: &str) -> Option<String> {
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some("an email address has exactly one `@`".into());
    };
    if email.chars().any(char::is_whitespace) {
        return Some("an email address has no whitespace".into());
    }
    if local.is_empty() {
        return Some("nothing before the `@`".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Some(format!(
            "`{domain}` is not a domain name like `example.com`"
        ));
    }
    None
}

/// S3's bucket naming rules (general purpose buckets, "General purpose bucket naming
/// rules", Amazon S3 User Guide): 3–63 characters of lowercase letters, digits, dots
/// and hyphens, starting and ending with a letter or digit, no two dots in a row, not
/// shaped like an IP address, and none of the prefixes and suffixes S3 reserves.
pub(crate) fn bucket_problem(name: &str) -> Option<&'static str> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&name.len()) {
        Some("3 to 63 characters")
    } else if !name.chars().all(ok_char) {
        Some("lowercase letters, digits, dots and hyphens only")
    } else if !edge(name.chars().next()) || !edge(name.chars().last()) {
        Some("must start and end with a letter or digit")
    } else if name.contains("..") {
        Some("no two dots in a row")
    } else if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        Some("must not look like an IP address")
    } else if ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        Some("S3 reserves the prefixes `xn--`, `sthree-` and `amzn-s3-demo-`")
    } else if ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
        .iter()
        .any(|p| name.ends_with(p))
    {
        Some("S3 reserves the suffixes `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3` and `--table-s3`")
    } else {
        None
    }
}

/// SCP names: 1–128 characters of letters, digits and `+=,.@_-`.
pub(crate) fn scp_name_problem(name: &str) -> Option<String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.chars().count() > 128 {
        return Some("an SCP name is 1 to 128 characters".into());
    }
    (!name.chars().all(valid)).then(|| "an SCP name uses only letters, digits and `+=,.@_-`".into())
}

/// Tag keys and values: letters, digits, spaces and `_ . : / = + - @` (Unicode
/// letters and digits included, as AWS allows).
pub(crate) fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

pub(crate) const MAX_TAGS: usize = 50;
pub(crate) const MAX_TAG_KEY: usize = 128;
pub(crate) const MAX_TAG_VALUE: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-4",
            "cn-northwest-1",
        ] {
            assert_eq!(region_problem(ok), None, "{ok}");
        }
        for bad in [
            "us_east_1",
            "US-EAST-1",
            "useast1",
            "us-east",
            "us-east-1a",
            "u-east-1",
            "",
        ] {
            assert!(region_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn landing_zone_names() {
        assert_eq!(landing_zone_name_problem("ml-platform"), None);
        assert!(landing_zone_name_problem("ML").is_some());
        assert!(landing_zone_name_problem("-x").is_some());
        assert!(landing_zone_name_problem(&"a".repeat(64)).is_some());
    }

    #[test]
    fn account_names() {
        assert_eq!(account_name_problem("log-archive"), None);
        assert_eq!(account_name_problem("ml.fraud_dev-1"), None);
        assert!(account_name_problem("-x").is_some());
        assert!(account_name_problem("has space").is_some());
        assert!(account_name_problem(&"a".repeat(51)).is_some());
    }

    #[test]
    fn emails() {
        assert_eq!(email_format_problem("aws+log@example.com"), None);
        for bad in [
            "no-at.example.com",
            "a@b",
            "a@@b.c",
            "@b.co",
            "a b@c.de",
            "a@b..c",
        ] {
            assert!(email_format_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ou_segments() {
        assert_eq!(ou_segment_problem("Workloads_Dev"), None);
        assert!(ou_segment_problem(" Dev").is_some());
        assert!(ou_segment_problem(&"x".repeat(129)).is_some());
    }

    #[test]
    fn scp_and_role_names() {
        assert_eq!(scp_name_problem("deny-leave-org"), None);
        assert!(scp_name_problem("deny leave").is_some());
        assert_eq!(role_name_problem("OrganizationAccountAccessRole"), None);
        assert!(role_name_problem("a/b").is_some());
    }

    #[test]
    fn tag_characters() {
        assert!(tag_chars_ok("cost-centre: ML/1 @x"));
        assert!(tag_chars_ok("équipe"));
        assert!(!tag_chars_ok("a*b"));
    }

    #[test]
    fn cidrs() {
        assert_eq!(parse_cidr("10.20.0.0/16").map(|n| n.prefix_len()), Ok(16));
        assert!(matches!(
            parse_cidr("10.20.1.0/16"),
            Err(CidrProblem::HostBits(n)) if n.to_string() == "10.20.0.0/16"
        ));
        for bad in [
            "10.20.0.0",
            "10.20.0.0/33",
            "10.300.0.0/16",
            "fd00::/8",
            "",
            "x/16",
        ] {
            assert!(
                matches!(parse_cidr(bad), Err(CidrProblem::Malformed(_))),
                "{bad}"
            );
        }
        let vpc = parse_cidr("10.0.0.0/16").ok();
        let a = parse_cidr("10.0.1.0/24").ok();
        let b = parse_cidr("10.0.1.128/25").ok();
        let c = parse_cidr("10.0.2.0/24").ok();
        let (Some(vpc), Some(a), Some(b), Some(c)) = (vpc, a, b, c) else {
            panic!("valid CIDRs")
        };
        assert!(cidrs_overlap(&a, &b) && cidrs_overlap(&b, &a));
        assert!(!cidrs_overlap(&a, &c));
        assert!(vpc.contains(&a));
    }

    #[test]
    fn availability_zones() {
        assert_eq!(az_problem("us-east-1a", "us-east-1"), None);
        assert_eq!(az_problem("us-east-1-bos-1a", "us-east-1"), None);
        assert!(az_problem("us-east-1", "us-east-1").is_some());
        assert!(az_problem("us-west-2a", "us-east-1").is_some());
        assert!(az_problem("use1-az1", "us-east-1").is_some());
        assert!(az_problem("us-east-11a", "us-east-1").is_some());
    }

    #[test]
    fn kms_aliases() {
        assert_eq!(kms_alias_problem("alias/ml-fraud/dev_1"), None);
        for bad in [
            "ml-fraud",
            "alias/",
            "alias/aws/s3",
            "alias/has space",
            "alias/a.b",
        ] {
            assert!(kms_alias_problem(bad).is_some(), "{bad}");
        }
        assert!(kms_alias_problem(&format!("alias/{}", "a".repeat(251))).is_some());
        assert_eq!(
            kms_alias_problem(&format!("alias/{}", "a".repeat(250))),
            None
        );
    }
}
