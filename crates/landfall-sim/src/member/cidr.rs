//! IPv4 blocks as EC2 accepts them: canonical CIDRs, the /16 to /28 bounds of VPC and
//! subnet blocks, security group rule sources, and overlap.

use ipnet::Ipv4Net;
use landfall_engine::provider::ErrorKind;

use crate::world::{Denied, Rule};

/// Smallest and largest VPC and subnet blocks.
const BLOCK_PREFIXES: std::ops::RangeInclusive<u8> = 16..=28;

/// A canonical IPv4 CIDR (`10.0.0.0/16`; not `10.0.0.1/16`, not `10.0.0.0`).
fn parse_cidr(cidr: &str) -> Option<Ipv4Net> {
    let net: Ipv4Net = cidr.parse().ok()?;
    (net.addr() == net.network()).then_some(net)
}

/// A VPC or subnet block: canonical, /16 to /28.
pub(super) fn parse_block(cidr: &str, range_code: &str) -> Rule<Ipv4Net> {
    let Some(net) = parse_cidr(cidr) else {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "InvalidParameterValue: Value ({cidr}) for parameter cidrBlock is invalid. This is \
                 not a valid CIDR block."
            ),
        ));
    };
    if !BLOCK_PREFIXES.contains(&net.prefix_len()) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "{range_code}: The CIDR '{cidr}' is invalid: the block size must be between /{} \
                 and /{}",
                BLOCK_PREFIXES.start(),
                BLOCK_PREFIXES.end()
            ),
        ));
    }
    Ok(net)
}

/// A block the sim stored itself (always canonical); anything else is a corrupt world.
pub(super) fn stored_block(cidr: &str) -> Rule<Ipv4Net> {
    parse_cidr(cidr).ok_or_else(|| {
        Denied::new(
            ErrorKind::Other("SimWorldCorrupt".into()),
            format!("the sim world holds an invalid CIDR {cidr:?}"),
        )
    })
}

/// A security group rule's source: any canonical IPv4 CIDR.
pub(super) fn parse_rule_cidr(cidr: &str) -> Rule<Ipv4Net> {
    parse_cidr(cidr).ok_or_else(|| {
        Denied::new(
            ErrorKind::InvalidInput,
            format!("InvalidParameterValue: CIDR block {cidr} is malformed"),
        )
    })
}

pub(super) fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_must_be_canonical_ipv4_between_16_and_28() {
        assert_eq!(
            parse_block("10.0.0.0/16", "R").unwrap().to_string(),
            "10.0.0.0/16"
        );
        assert!(parse_block("10.0.0.16/28", "R").is_ok());
        for bad in [
            "10.0.0.0/15",
            "10.0.0.0/29",
            "10.0.0.1/16",
            "10.0.0.0",
            "::/16",
            "",
        ] {
            assert_eq!(
                parse_block(bad, "R").unwrap_err().kind,
                ErrorKind::InvalidInput
            );
        }
        assert!(
            parse_block("10.0.0.0/8", "R")
                .unwrap_err()
                .message
                .starts_with("R:")
        );
        assert!(parse_rule_cidr("0.0.0.0/0").is_ok());
        assert!(parse_rule_cidr("10.1.2.3/32").is_ok());
        assert!(parse_rule_cidr("10.1.2.3/24").is_err());
    }

    #[test]
    fn overlap_is_containment_either_way() {
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        assert!(overlaps(&net("10.0.0.0/16"), &net("10.0.5.0/24")));
        assert!(overlaps(&net("10.0.5.0/24"), &net("10.0.0.0/16")));
        assert!(overlaps(&net("10.0.5.0/24"), &net("10.0.5.0/24")));
        assert!(!overlaps(&net("10.0.5.0/24"), &net("10.0.6.0/24")));
    }
}
