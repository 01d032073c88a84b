//! Identifiers shaped like AWS's own (`r-ab12`, `ou-ab12-3k9x0q1z`, `123456789012`,
//! `p-7h2k9d0a`, `car-<32 hex>`; EC2's `vpc-`/`subnet-`/`rtb-`/`sg-`/`vpce-` and 17
//! hex digits; KMS key ids as UUIDs), so plans, state files and messages produced
//! against the sim read exactly like the real thing.
//!
//! Ids are derived from the world's seed and a counter stored in the world, never
//! from a clock or an OS random source: two fresh worlds with the same seed that
//! receive the same calls hand out the same ids, which keeps test snapshots and
//! benchmark runs reproducible.

use serde::{Deserialize, Serialize};

const ALNUM: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Deterministic id source: `seed` fixes the sequence, `counter` is how far along it
/// the world is. Both are persisted so a reopened world never reissues an id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdSource {
    pub seed: u64,
    pub counter: u64,
}

impl IdSource {
    pub fn new(seed: u64) -> Self {
        IdSource { seed, counter: 0 }
    }

    /// The next 64 pseudo-random bits (SplitMix64 over seed + counter: cheap, and
    /// well mixed even for consecutive counters).
    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        let mut z = self
            .seed
            .wrapping_add(self.counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `len` lowercase letters and digits.
    fn alnum(&mut self, len: usize) -> String {
        let mut bits = self.next_u64();
        let mut out = String::with_capacity(len);
        for i in 0..len {
            // 8 base-36 digits need ~41 bits; refill if a caller ever asks for more.
            if i > 0 && i % 12 == 0 {
                bits = self.next_u64();
            }
            out.push(char::from(ALNUM[(bits % 36) as usize]));
            bits /= 36;
        }
        out
    }

    /// A root id: `r-` and 4 lowercase letters or digits.
    pub fn root(&mut self) -> String {
        format!("r-{}", self.alnum(4))
    }

    /// An OU id: `ou-`, the root's 4 characters, `-`, 8 lowercase letters or digits.
    pub fn ou(&mut self, root_id: &str) -> String {
        let root4 = root_id.strip_prefix("r-").unwrap_or(root_id);
        format!("ou-{root4}-{}", self.alnum(8))
    }

    /// An account id: 12 decimal digits.
    pub fn account(&mut self) -> String {
        format!("{:012}", self.next_u64() % 1_000_000_000_000)
    }

    /// A customer-managed policy id: `p-` and 8 lowercase letters or digits.
    pub fn policy(&mut self) -> String {
        format!("p-{}", self.alnum(8))
    }

    /// A create-account request id: `car-` and 32 hex digits.
    pub fn create_account_request(&mut self) -> String {
        format!("car-{:016x}{:016x}", self.next_u64(), self.next_u64())
    }

    /// 17 lowercase hex digits, the suffix of EC2 resource ids.
    fn hex17(&mut self) -> String {
        let high = self.next_u64() & 0xf;
        format!("{high:x}{:016x}", self.next_u64())
    }

    /// A VPC id: `vpc-` and 17 hex digits.
    pub fn vpc(&mut self) -> String {
        format!("vpc-{}", self.hex17())
    }

    /// A subnet id: `subnet-` and 17 hex digits.
    pub fn subnet(&mut self) -> String {
        format!("subnet-{}", self.hex17())
    }

    /// A route table id: `rtb-` and 17 hex digits.
    pub fn route_table(&mut self) -> String {
        format!("rtb-{}", self.hex17())
    }

    /// A security group id: `sg-` and 17 hex digits.
    pub fn security_group(&mut self) -> String {
        format!("sg-{}", self.hex17())
    }

    /// A VPC endpoint id: `vpce-` and 17 hex digits.
    pub fn vpc_endpoint(&mut self) -> String {
        format!("vpce-{}", self.hex17())
    }

    /// A Service Catalog portfolio id: `port-` and 13 lowercase letters or digits.
    pub fn portfolio(&mut self) -> String {
        format!("port-{}", self.alnum(13))
    }

    /// A Service Catalog provisioned product id: `pp-` and 13 lowercase letters or digits.
    pub fn provisioned_product(&mut self) -> String {
        format!("pp-{}", self.alnum(13))
    }

    /// A Service Catalog record id: `rec-` and 13 lowercase letters or digits.
    pub fn record(&mut self) -> String {
        format!("rec-{}", self.alnum(13))
    }

    /// An organization-node portfolio share token: `share-` and 13 lowercase letters
    /// or digits.
    pub fn share_token(&mut self) -> String {
        format!("share-{}", self.alnum(13))
    }

    /// The id part of an enabled control's ARN: 16 uppercase letters or digits.
    pub fn enabled_control(&mut self) -> String {
        self.alnum(16).to_ascii_uppercase()
    }

    /// A Control Tower operation id: a version-4 UUID.
    pub fn control_operation(&mut self) -> String {
        self.uuid()
    }

    /// The id part of a permission set's ARN: `ps-` and 16 lowercase hex digits.
    pub fn permission_set(&mut self) -> String {
        format!("ps-{:016x}", self.next_u64())
    }

    /// An Identity Store user or group id: the identity store's 10 hex digits, `-`, and
    /// a version-4 UUID (`([0-9a-f]{10}-|)` then a UUID, as the Identity Store API
    /// documents).
    pub fn identity_store_resource(&mut self, identity_store_id: &str) -> String {
        let store = identity_store_id
            .strip_prefix("d-")
            .unwrap_or(identity_store_id);
        format!("{store}-{}", self.uuid())
    }

    /// An IAM Identity Center request id (`RequestId` of an assignment or provisioning
    /// status): a version-4 UUID.
    pub fn identity_request(&mut self) -> String {
        self.uuid()
    }

    /// A KMS key id: a version-4 UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`).
    pub fn kms_key(&mut self) -> String {
        self.uuid()
    }

    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .hyphenated()
            .to_string()
    }
}

/// The organization's IAM Identity Center instance ARN and identity store id, derived
/// from the world's seed without drawing from its id sequence (so worlds created
/// before Identity Center existed in the sim, and every other id a seed gives, stay
/// as they were): `arn:aws:sso:::instance/ssoins-` and 16 hex digits, `d-` and 10.
pub fn identity_instance(seed: u64) -> (String, String) {
    let mut ids = IdSource::new(seed ^ 0x1DC3_47E2);
    let instance = format!("arn:aws:sso:::instance/ssoins-{:016x}", ids.next_u64());
    let store = format!("d-{:010x}", ids.next_u64() & 0xff_ffff_ffff);
    (instance, store)
}

/// A fresh world id: `sim-` and 12 hex digits of a random UUID. Unlike resource ids it
/// is random on purpose: it is what a state file is bound to, so two worlds must
/// never share it, whatever their seeds.
pub fn world_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("sim-{}", hex.chars().take(12).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_lower_alnum(s: &str) -> bool {
        s.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    }

    #[test]
    fn ids_have_aws_shapes() {
        let mut ids = IdSource::new(42);
        let root = ids.root();
        assert!(root.starts_with("r-") && root.len() == 6 && is_lower_alnum(&root[2..]));
        let ou = ids.ou(&root);
        assert_eq!(&ou[..8], &format!("ou-{}-", &root[2..]));
        assert_eq!(ou.len(), 16);
        assert!(is_lower_alnum(&ou[8..]));
        let account = ids.account();
        assert!(account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
        let policy = ids.policy();
        assert!(policy.starts_with("p-") && policy.len() == 10 && is_lower_alnum(&policy[2..]));
        let car = ids.create_account_request();
        assert!(car.starts_with("car-") && car.len() == 36);
        assert!(car[4..].chars().all(|c| c.is_ascii_hexdigit()));
        let world = world_id();
        assert!(world.starts_with("sim-") && world.len() == 16);
        for (id, prefix) in [
            (ids.vpc(), "vpc-"),
            (ids.subnet(), "subnet-"),
            (ids.route_table(), "rtb-"),
            (ids.security_group(), "sg-"),
            (ids.vpc_endpoint(), "vpce-"),
        ] {
            let hex = id.strip_prefix(prefix).unwrap();
            assert_eq!(hex.len(), 17, "{id}");
            assert!(
                hex.chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{id}"
            );
        }
        let key = ids.kms_key();
        let parsed = uuid::Uuid::parse_str(&key).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(parsed.hyphenated().to_string(), key);
    }

    #[test]
    fn same_seed_same_sequence_different_seed_different_sequence() {
        let run = |seed| {
            let mut ids = IdSource::new(seed);
            (0..20).map(|_| ids.policy()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let all = run(7);
        let unique: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
    }
}
