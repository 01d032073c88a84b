//! Tags on member resources: the rules EC2 and KMS share (key and value lengths, no
//! `aws:` keys, 50 per resource) with each service's error codes, and `CreateTags` /
//! `DeleteTags` on any EC2 resource.

use landfall_core::model::Tags;
use landfall_engine::provider::ErrorKind;

use super::{Member, not_found};
use crate::world::{Denied, Rule};

/// EC2 and KMS allow at most 50 tags per resource.
pub const MAX_MEMBER_TAGS: usize = 50;

impl Member<'_> {
    fn ec2_tags_mut(&mut self, resource_id: &str) -> Rule<&mut Tags> {
        let d = &mut *self.data;
        if let Some(r) = d.vpcs.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.subnets.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.route_tables.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.security_groups.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.endpoints.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        let code = match resource_id.split_once('-').map(|(p, _)| p) {
            Some("vpc") => "InvalidVpcID.NotFound",
            Some("subnet") => "InvalidSubnetID.NotFound",
            Some("rtb") => "InvalidRouteTableID.NotFound",
            Some("sg") => "InvalidGroup.NotFound",
            Some("vpce") => "InvalidVpcEndpointId.NotFound",
            _ => "InvalidID",
        };
        Err(not_found(
            code,
            format!("The ID '{resource_id}' does not exist"),
        ))
    }

    /// `CreateTags` on a VPC, subnet, route table, security group or endpoint.
    pub fn tag_ec2(&mut self, resource_id: &str, tags: &Tags) -> Rule<()> {
        let current = self.ec2_tags_mut(resource_id)?;
        check_ec2_tags(current, tags)?;
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    /// `DeleteTags`: keys that are not present are ignored.
    pub fn untag_ec2(&mut self, resource_id: &str, keys: &[String]) -> Rule<()> {
        let current = self.ec2_tags_mut(resource_id)?;
        for key in keys {
            current.remove(key);
        }
        Ok(())
    }
}

/// Tag rules shared by EC2 and KMS, with each service's error for a bad tag and for
/// too many tags.
fn check_tags(current: &Tags, adding: &Tags, invalid: ErrorKind, limit: ErrorKind) -> Rule<()> {
    for (key, value) in adding {
        let key_len = key.chars().count();
        if key_len == 0 || key_len > 128 || key.to_ascii_lowercase().starts_with("aws:") {
            return Err(Denied::new(
                invalid,
                format!("tag key {key:?} must be 1 to 128 characters and not start with `aws:`"),
            ));
        }
        if value.chars().count() > 256 {
            return Err(Denied::new(
                invalid,
                format!("the value of tag {key:?} is longer than 256 characters"),
            ));
        }
    }
    let total = current.len() + adding.keys().filter(|k| !current.contains_key(*k)).count();
    if total > MAX_MEMBER_TAGS {
        return Err(Denied::new(
            limit,
            format!("the resource would have {total} tags; the limit is {MAX_MEMBER_TAGS}"),
        ));
    }
    Ok(())
}

pub(super) fn check_ec2_tags(current: &Tags, adding: &Tags) -> Rule<()> {
    check_tags(
        current,
        adding,
        ErrorKind::InvalidInput,
        ErrorKind::Other("TagLimitExceeded".into()),
    )
}

pub(super) fn check_kms_tags(current: &Tags, adding: &Tags) -> Rule<()> {
    check_tags(
        current,
        adding,
        ErrorKind::Other("TagException".into()),
        ErrorKind::Other("LimitExceededException".into()),
    )
}
