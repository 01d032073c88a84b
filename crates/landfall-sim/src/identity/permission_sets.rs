//! Permission sets and what they carry: AWS-managed policies, customer-managed policy
//! references, the inline policy, the permissions boundary and tags, with SSO Admin's
//! input rules (name, description, session duration, ARN shapes) and IAM Identity
//! Center's quotas. A change that reaches the IAM role in the accounts bumps the set's
//! version: the accounts it is provisioned to are outdated until it is provisioned
//! again (`PutInlinePolicyToPermissionSet`: "you will need to call
//! ProvisionPermissionSet after this action to apply the corresponding IAM policy
//! updates to all assigned accounts").

use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary, Tags};

use super::{
    MAX_INLINE_POLICY_BYTES, MAX_INLINE_POLICY_NON_WHITESPACE, MAX_PERMISSION_SET_TAGS,
    MAX_PERMISSION_SETS, MAX_POLICIES_PER_SET, PermissionSet, conflict, not_found, quota,
    validation,
};
use crate::ids::IdSource;
use crate::world::{Rule, World};

/// `[\w+=,.@-]`: the characters of permission set names and IAM policy names.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

fn check_set_name(name: &str) -> Rule<()> {
    if name.is_empty() || name.len() > 32 || !name.chars().all(is_name_char) {
        return Err(validation(format!(
            "permission set name {name:?} must be 1 to 32 characters of letters, digits and _+=,.@-"
        )));
    }
    Ok(())
}

fn check_description(description: Option<&str>) -> Rule<()> {
    let Some(d) = description else {
        return Ok(());
    };
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    if d.is_empty() || d.chars().count() > 700 || !d.chars().all(allowed) {
        return Err(validation(
            "a permission set description is 1 to 700 characters, printable Latin-1",
        ));
    }
    Ok(())
}

/// `PT1H` to `PT12H` (ISO 8601 hours and minutes; what the console and the API accept
/// for a permission set's session).
pub(crate) fn session_minutes(duration: &str) -> Option<u32> {
    let rest = duration.strip_prefix("PT")?;
    let (hours, rest) = match rest.split_once('H') {
        Some((h, rest)) => (h.parse::<u32>().ok()?, rest),
        None => (0, rest),
    };
    let minutes = match rest {
        "" => 0,
        m => m.strip_suffix('M')?.parse::<u32>().ok()?,
    };
    if rest.is_empty() && !duration.ends_with('H') {
        return None;
    }
    hours.checked_mul(60)?.checked_add(minutes)
}

fn check_session_duration(duration: &str) -> Rule<()> {
    match session_minutes(duration) {
        Some(m) if (60..=720).contains(&m) => Ok(()),
        _ => Err(validation(format!(
            "session duration {duration:?} must be an ISO 8601 duration from PT1H to PT12H"
        ))),
    }
}

fn check_tags(tags: &Tags) -> Rule<()> {
    if tags.len() > MAX_PERMISSION_SET_TAGS {
        return Err(validation(format!(
            "{} tags given; a permission set has at most {MAX_PERMISSION_SET_TAGS}",
            tags.len()
        )));
    }
    for (key, value) in tags {
        if key.is_empty() || key.chars().count() > 128 || key.starts_with("aws:") {
            return Err(validation(format!(
                "tag key {key:?} must be 1 to 128 characters and not start with `aws:`"
            )));
        }
        if value.chars().count() > 256 {
            return Err(validation(format!(
                "the value of tag {key:?} is longer than 256 characters"
            )));
        }
    }
    Ok(())
}

/// `arn:aws:iam::aws:policy/[PATH/]NAME`: the sim cannot ship AWS's list of managed
/// policies, so it checks the shape (an AWS-managed policy lives in account `aws`).
pub(crate) fn check_managed_policy_arn(arn: &str) -> Rule<()> {
    let well_formed = arn.len() <= 2048
        && arn
            .strip_prefix("arn:aws:iam::aws:policy/")
            .is_some_and(|rest| {
                rest.split('/').all(|part| {
                    !part.is_empty() && part.len() <= 128 && part.chars().all(is_name_char)
                })
            });
    if !well_formed {
        return Err(validation(format!(
            "{arn:?} is not an AWS managed policy ARN (arn:aws:iam::aws:policy/NAME)"
        )));
    }
    Ok(())
}

pub(crate) fn check_customer_ref(policy: &CustomerPolicyRef) -> Rule<()> {
    let name_ok = !policy.name.is_empty()
        && policy.name.len() <= 128
        && policy.name.chars().all(is_name_char);
    let path = &policy.path;
    let path_ok = path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if !name_ok || !path_ok {
        return Err(validation(format!(
            "customer managed policy reference {policy} is not valid: a name of 1 to 128 \
             characters of letters, digits and _+=,.@-, and a path that starts and ends with /"
        )));
    }
    Ok(())
}

fn check_inline_policy(document: &str) -> Rule<()> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}');
    if document.is_empty() || !document.chars().all(allowed) {
        return Err(validation(
            "an inline policy is 1 or more characters of tab, newline, carriage return and U+0020 to U+00FF",
        ));
    }
    if document.len() > MAX_INLINE_POLICY_BYTES {
        return Err(validation(format!(
            "the inline policy is {} bytes; IAM Identity Center allows {MAX_INLINE_POLICY_BYTES}",
            document.len()
        )));
    }
    let non_whitespace = document.chars().filter(|c| !c.is_whitespace()).count();
    if non_whitespace > MAX_INLINE_POLICY_NON_WHITESPACE {
        return Err(validation(format!(
            "the inline policy has {non_whitespace} characters besides whitespace; IAM Identity Center allows {MAX_INLINE_POLICY_NON_WHITESPACE}"
        )));
    }
    match serde_json::from_str::<serde_json::Value>(document) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(validation(
            "the inline policy is not a JSON policy document",
        )),
    }
}

fn check_boundary(boundary: &PermissionsBoundary) -> Rule<()> {
    match boundary {
        PermissionsBoundary::Managed(arn) => check_managed_policy_arn(arn),
        PermissionsBoundary::Customer(policy) => check_customer_ref(policy),
    }
}

impl World {
    /// `CreatePermissionSet`; returns its ARN.
    pub fn create_permission_set(
        &mut self,
        name: &str,
        description: Option<&str>,
        session_duration: &str,
        tags: &Tags,
    ) -> Rule<String> {
        let instance = self.instance()?;
        check_set_name(name)?;
        check_description(description)?;
        check_session_duration(session_duration)?;
        check_tags(tags)?;
        if self
            .identity
            .permission_sets
            .values()
            .any(|s| s.name == name)
        {
            return Err(conflict(format!(
                "a permission set named {name} already exists"
            )));
        }
        if self.identity.permission_sets.len() >= MAX_PERMISSION_SETS {
            return Err(quota(format!(
                "the instance has {MAX_PERMISSION_SETS} permission sets, its quota"
            )));
        }
        let instance_id = instance
            .arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let arn = self.fresh(
            |ids: &mut IdSource| {
                format!(
                    "arn:aws:sso:::permissionSet/{instance_id}/{}",
                    ids.permission_set()
                )
            },
            |w, arn| w.identity.permission_sets.contains_key(arn),
        );
        self.identity.permission_sets.insert(
            arn.clone(),
            PermissionSet {
                arn: arn.clone(),
                name: name.to_string(),
                description: description.map(str::to_string),
                session_duration: session_duration.to_string(),
                managed_policies: Default::default(),
                customer_managed_policies: Default::default(),
                inline_policy: None,
                permissions_boundary: None,
                tags: tags.clone(),
                version: 1,
            },
        );
        Ok(arn)
    }

    /// `UpdatePermissionSet` (description and session duration); a new session
    /// duration reaches the role, so the accounts are outdated until provisioned.
    pub fn update_permission_set(
        &mut self,
        arn: &str,
        description: Option<&str>,
        session_duration: &str,
    ) -> Rule<()> {
        self.instance()?;
        check_description(description)?;
        check_session_duration(session_duration)?;
        let set = self.identity.set_mut(arn)?;
        if set.session_duration != session_duration {
            set.session_duration = session_duration.to_string();
            set.version += 1;
        }
        set.description = description.map(str::to_string);
        Ok(())
    }

    /// `DeletePermissionSet`: refused while it is provisioned to an account or named
    /// by an assignment or a request still running ("Before you can delete a permission
    /// set from IAM Identity Center, you must remove it from all AWS accounts that use
    /// the permission set"; AWS answers `ConflictException: Could not delete because
    /// PermissionSet has ApplicationProfile associated with it`).
    pub fn delete_permission_set(&mut self, arn: &str) -> Rule<()> {
        self.instance()?;
        self.identity.set(arn)?;
        let provisioned = self
            .identity
            .provisioned
            .get(arn)
            .is_some_and(|accounts| !accounts.is_empty());
        let assigned = self
            .identity
            .assignments
            .iter()
            .any(|a| a.permission_set_arn == arn);
        let running = self
            .identity
            .requests
            .values()
            .any(|r| !r.finished && r.permission_set_arn == arn);
        if provisioned || assigned || running {
            return Err(conflict(format!(
                "Could not delete because PermissionSet has ApplicationProfile associated with it \
                 ({arn} is still provisioned to accounts or assigned: delete its account assignments first)"
            )));
        }
        self.identity.permission_sets.remove(arn);
        self.identity.provisioned.remove(arn);
        Ok(())
    }

    fn policy_count(set: &PermissionSet) -> usize {
        set.managed_policies.len() + set.customer_managed_policies.len()
    }

    /// `AttachManagedPolicyToPermissionSet`.
    pub fn attach_managed_policy(&mut self, arn: &str, policy_arn: &str) -> Rule<()> {
        self.instance()?;
        check_managed_policy_arn(policy_arn)?;
        let set = self.identity.set_mut(arn)?;
        if set.managed_policies.contains(policy_arn) {
            return Err(conflict(format!(
                "{policy_arn} is already attached to permission set {}",
                set.name
            )));
        }
        if Self::policy_count(set) >= MAX_POLICIES_PER_SET {
            return Err(quota(format!(
                "permission set {} already has {MAX_POLICIES_PER_SET} AWS managed and customer managed policies",
                set.name
            )));
        }
        set.managed_policies.insert(policy_arn.to_string());
        set.version += 1;
        Ok(())
    }

    /// `DetachManagedPolicyFromPermissionSet`.
    pub fn detach_managed_policy(&mut self, arn: &str, policy_arn: &str) -> Rule<()> {
        self.instance()?;
        let set = self.identity.set_mut(arn)?;
        if !set.managed_policies.remove(policy_arn) {
            return Err(not_found(format!(
                "{policy_arn} is not attached to permission set {}",
                set.name
            )));
        }
        set.version += 1;
        Ok(())
    }

    /// `AttachCustomerManagedPolicyReferenceToPermissionSet`: a reference by name and
    /// path; whether the policy exists is checked in each account when provisioning.
    pub fn attach_customer_policy(&mut self, arn: &str, policy: &CustomerPolicyRef) -> Rule<()> {
        self.instance()?;
        check_customer_ref(policy)?;
        let set = self.identity.set_mut(arn)?;
        if set.customer_managed_policies.contains(policy) {
            return Err(conflict(format!(
                "customer managed policy {policy} is already attached to permission set {}",
                set.name
            )));
        }
        if Self::policy_count(set) >= MAX_POLICIES_PER_SET {
            return Err(quota(format!(
                "permission set {} already has {MAX_POLICIES_PER_SET} AWS managed and customer managed policies",
                set.name
            )));
        }
        set.customer_managed_policies.insert(policy.clone());
        set.version += 1;
        Ok(())
    }

    /// `DetachCustomerManagedPolicyReferenceFromPermissionSet`.
    pub fn detach_customer_policy(&mut self, arn: &str, policy: &CustomerPolicyRef) -> Rule<()> {
        self.instance()?;
        let set = self.identity.set_mut(arn)?;
        if !set.customer_managed_policies.remove(policy) {
            return Err(not_found(format!(
                "customer managed policy {policy} is not attached to permission set {}",
                set.name
            )));
        }
        set.version += 1;
        Ok(())
    }

    /// `PutInlinePolicyToPermissionSet` (replaces the one there), within the inline
    /// policy quotas.
    pub fn put_inline_policy(&mut self, arn: &str, document: &str) -> Rule<()> {
        self.instance()?;
        check_inline_policy(document)?;
        let set = self.identity.set_mut(arn)?;
        if set.inline_policy.as_deref() != Some(document) {
            set.inline_policy = Some(document.to_string());
            set.version += 1;
        }
        Ok(())
    }

    /// `DeleteInlinePolicyFromPermissionSet` (none there: nothing to do).
    pub fn delete_inline_policy(&mut self, arn: &str) -> Rule<()> {
        self.instance()?;
        let set = self.identity.set_mut(arn)?;
        if set.inline_policy.take().is_some() {
            set.version += 1;
        }
        Ok(())
    }

    /// `PutPermissionsBoundaryToPermissionSet` (replaces the one there).
    pub fn put_permissions_boundary(
        &mut self,
        arn: &str,
        boundary: &PermissionsBoundary,
    ) -> Rule<()> {
        self.instance()?;
        check_boundary(boundary)?;
        let set = self.identity.set_mut(arn)?;
        if set.permissions_boundary.as_ref() != Some(boundary) {
            set.permissions_boundary = Some(boundary.clone());
            set.version += 1;
        }
        Ok(())
    }

    /// `DeletePermissionsBoundaryFromPermissionSet`.
    pub fn delete_permissions_boundary(&mut self, arn: &str) -> Rule<()> {
        self.instance()?;
        let set = self.identity.set_mut(arn)?;
        if set.permissions_boundary.take().is_none() {
            return Err(not_found(format!(
                "permission set {} has no permissions boundary",
                set.name
            )));
        }
        set.version += 1;
        Ok(())
    }

    /// SSO Admin `TagResource` on a permission set (tags do not reach the role).
    pub fn tag_permission_set(&mut self, arn: &str, tags: &Tags) -> Rule<()> {
        self.instance()?;
        let set = self.identity.set(arn)?;
        let mut merged = set.tags.clone();
        merged.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        check_tags(&merged)?;
        self.identity.set_mut(arn)?.tags = merged;
        Ok(())
    }

    /// SSO Admin `UntagResource` on a permission set.
    pub fn untag_permission_set(&mut self, arn: &str, keys: &[String]) -> Rule<()> {
        self.instance()?;
        let set = self.identity.set_mut(arn)?;
        for key in keys {
            set.tags.remove(key);
        }
        Ok(())
    }

    /// Out of band: a console user replaces (or, with `None`, deletes) a set's inline
    /// policy, by the set's name; the accounts it is provisioned to are outdated until
    /// provisioned, as after the API call.
    pub fn edit_inline_policy(&mut self, name: &str, document: Option<&str>) -> Rule<()> {
        let arn = self
            .identity
            .permission_sets
            .values()
            .find(|s| s.name == name)
            .map(|s| s.arn.clone())
            .ok_or_else(|| not_found(format!("no permission set named {name}")))?;
        match document {
            Some(d) => self.put_inline_policy(&arn, d),
            None => self.delete_inline_policy(&arn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_durations() {
        assert_eq!(session_minutes("PT1H"), Some(60));
        assert_eq!(session_minutes("PT12H"), Some(720));
        assert_eq!(session_minutes("PT1H30M"), Some(90));
        assert_eq!(session_minutes("PT90M"), Some(90));
        for bad in ["", "PT", "P1D", "PT1", "1H", "PTH", "PT1H30"] {
            assert_eq!(session_minutes(bad), None, "{bad}");
        }
        assert!(check_session_duration("PT30M").is_err());
        assert!(check_session_duration("PT13H").is_err());
        assert!(check_session_duration("PT8H").is_ok());
    }

    #[test]
    fn managed_policy_arns_and_customer_refs() {
        for ok in [
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
            "arn:aws:iam::aws:policy/service-role/AWSConfigRole",
        ] {
            assert!(check_managed_policy_arn(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ReadOnlyAccess",
            "arn:aws:iam::123456789012:policy/Mine",
            "arn:aws:iam::aws:policy/",
            "arn:aws:iam::aws:policy//x",
            "arn:aws:iam::aws:policy/has space",
        ] {
            assert!(check_managed_policy_arn(bad).is_err(), "{bad}");
        }
        let r = |name: &str, path: &str| CustomerPolicyRef {
            name: name.into(),
            path: path.into(),
        };
        assert!(check_customer_ref(&r("ml-data", "/")).is_ok());
        assert!(check_customer_ref(&r("ml-data", "/team/")).is_ok());
        assert!(check_customer_ref(&r("", "/")).is_err());
        assert!(check_customer_ref(&r("x", "team/")).is_err());
        assert!(check_customer_ref(&r("x y", "/")).is_err());
    }
}
