//! Security groups: names unique per VPC, TCP 443 ingress rules from IPv4 CIDRs
//! (authorize, revoke, the per-group quota), deletion refused while an endpoint uses
//! the group.

use std::collections::BTreeSet;

use landfall_core::live::LiveSecurityGroup;
use landfall_core::model::Tags;
use landfall_engine::provider::ErrorKind;

use super::Member;
use super::cidr::parse_rule_cidr;
use super::tags::check_ec2_tags;
use crate::ids::IdSource;
use crate::world::{Denied, Rule};

/// Inbound rules per security group (AWS default quota).
pub const MAX_INGRESS_RULES: usize = 60;

impl Member<'_> {
    /// `CreateSecurityGroup` + `AuthorizeSecurityGroupIngress` (TCP 443 from
    /// `ingress_cidr`). Names are unique per VPC.
    pub fn create_security_group(
        &mut self,
        vpc_id: &str,
        name: &str,
        description: &str,
        ingress_cidr: &str,
        tags: &Tags,
    ) -> Rule<String> {
        check_ec2_tags(&Tags::new(), tags)?;
        self.vpc(vpc_id)?;
        check_group_text("group name", name)?;
        check_group_text("group description", description)?;
        if name.to_ascii_lowercase().starts_with("sg-") {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("InvalidParameterValue: group name {name:?} cannot start with `sg-`"),
            ));
        }
        if name == "default" {
            return Err(Denied::new(
                ErrorKind::Other("InvalidGroup.Reserved".into()),
                "InvalidGroup.Reserved: the name `default` is reserved for the VPC's default group",
            ));
        }
        if self
            .data
            .security_groups
            .values()
            .any(|g| g.vpc_id == vpc_id && g.name == name)
        {
            return Err(Denied::new(
                ErrorKind::Other("InvalidGroup.Duplicate".into()),
                format!(
                    "InvalidGroup.Duplicate: The security group '{name}' already exists for VPC '{vpc_id}'"
                ),
            ));
        }
        let block = parse_rule_cidr(ingress_cidr)?;
        let id = self.fresh_ec2(IdSource::security_group);
        self.data.security_groups.insert(
            id.clone(),
            LiveSecurityGroup {
                id: id.clone(),
                vpc_id: vpc_id.to_string(),
                name: name.to_string(),
                ingress_443: BTreeSet::from([block.to_string()]),
                tags: tags.clone(),
            },
        );
        Ok(id)
    }

    /// `AuthorizeSecurityGroupIngress` / `RevokeSecurityGroupIngress` for TCP 443:
    /// adding a rule that exists is `InvalidPermission.Duplicate`, removing one that
    /// does not is `InvalidPermission.NotFound`, as on AWS.
    pub fn set_security_group_ingress(
        &mut self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Rule<()> {
        let group = self.group(group_id)?;
        let mut adding = BTreeSet::new();
        for cidr in add {
            adding.insert(parse_rule_cidr(cidr)?.to_string());
        }
        let removing: BTreeSet<String> = remove.iter().cloned().collect();
        if let Some(both) = adding.intersection(&removing).next() {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "InvalidParameterValue: {both} is both added to and removed from {group_id}"
                ),
            ));
        }
        if let Some(dup) = adding.iter().find(|c| group.ingress_443.contains(*c)) {
            return Err(Denied::new(
                ErrorKind::Other("InvalidPermission.Duplicate".into()),
                format!(
                    "InvalidPermission.Duplicate: the specified rule \"peer: {dup}, TCP, from port: \
                     443, to port: 443, ALLOW\" already exists in {group_id}"
                ),
            ));
        }
        if let Some(missing) = removing.iter().find(|c| !group.ingress_443.contains(*c)) {
            return Err(Denied::new(
                ErrorKind::Other("InvalidPermission.NotFound".into()),
                format!(
                    "InvalidPermission.NotFound: {group_id} has no rule allowing TCP 443 from {missing}"
                ),
            ));
        }
        let total = (group.ingress_443.len() + adding.len()).saturating_sub(removing.len());
        if total > MAX_INGRESS_RULES {
            return Err(Denied::new(
                ErrorKind::Other("RulesPerSecurityGroupLimitExceeded".into()),
                format!(
                    "RulesPerSecurityGroupLimitExceeded: {group_id} would have {total} inbound rules; \
                     the limit is {MAX_INGRESS_RULES}"
                ),
            ));
        }
        if let Some(group) = self.data.security_groups.get_mut(group_id) {
            group.ingress_443.retain(|c| !removing.contains(c));
            group.ingress_443.extend(adding);
        }
        Ok(())
    }

    /// `DeleteSecurityGroup`: refused while an endpoint uses the group.
    pub fn delete_security_group(&mut self, group_id: &str) -> Rule<()> {
        self.group(group_id)?;
        if let Some(e) = self
            .data
            .endpoints
            .values()
            .find(|e| e.security_group_ids.contains(group_id))
        {
            return Err(Denied::new(
                ErrorKind::DependencyViolation,
                format!(
                    "DependencyViolation: resource {group_id} has a dependent object (endpoint {})",
                    e.id
                ),
            ));
        }
        self.data.security_groups.remove(group_id);
        Ok(())
    }
}

fn check_group_text(what: &str, text: &str) -> Rule<()> {
    let len = text.chars().count();
    if len == 0 || len > 255 || !text.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!("InvalidParameterValue: {what} {text:?} must be 1 to 255 ASCII characters"),
        ));
    }
    Ok(())
}
