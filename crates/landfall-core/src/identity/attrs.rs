//! The identity family's attributes — declared, recorded and live (`apply
//! --refresh-only`) — and its ids: how a recorded permission set, group or assignment
//! is found live.

use serde_json::{Value, json};

use crate::address::{Address, Assignment};
use crate::attrs::{Attrs, tags_value};
use crate::kind::IdentityKind;
use crate::live::{LiveAssignment, LiveGroup, LiveIdentity, LivePermissionSet, PrincipalType};
use crate::model::{
    CustomerPolicyRef, DesiredState, GroupSpec, PermissionSetSpec, PermissionsBoundary, Tags,
    canonical_json,
};
use crate::state::ResourceRecord;

/// The state id of an account assignment.
pub fn assignment_id(
    account_id: &str,
    permission_set_arn: &str,
    principal_type: PrincipalType,
    principal_id: &str,
) -> String {
    let t = match principal_type {
        PrincipalType::Group => "GROUP",
        PrincipalType::User => "USER",
    };
    format!("{account_id}|{permission_set_arn}|{t}|{principal_id}")
}

/// The live assignment a state id names; `None` for an id of another shape.
pub fn parse_assignment_id(id: &str) -> Option<LiveAssignment> {
    let mut parts = id.split('|');
    let account_id = parts.next()?.to_string();
    let permission_set_arn = parts.next()?.to_string();
    let principal_type = match parts.next()? {
        "GROUP" => PrincipalType::Group,
        "USER" => PrincipalType::User,
        _ => return None,
    };
    let principal_id = parts.next()?.to_string();
    if parts.next().is_some() {
        return None;
    }
    Some(LiveAssignment {
        permission_set_arn,
        principal_type,
        principal_id,
        account_id,
    })
}

fn boundary_text(boundary: Option<&PermissionsBoundary>) -> Value {
    boundary.map_or(Value::Null, |b| json!(b.to_string()))
}

// One shape for declared and live sets; the arguments are its attributes.
#[allow(clippy::too_many_arguments)]
fn set_attrs(
    name: &str,
    description: Option<&str>,
    session_duration: &str,
    managed: impl Iterator<Item = String>,
    customer: impl Iterator<Item = String>,
    inline: Option<String>,
    boundary: Option<&PermissionsBoundary>,
    tags: &Tags,
) -> Attrs {
    let managed: Vec<String> = managed.collect();
    let customer: Vec<String> = customer.collect();
    Attrs::from([
        ("name".into(), json!(name)),
        ("description".into(), json!(description)),
        ("session_duration".into(), json!(session_duration)),
        ("managed_policies".into(), json!(managed)),
        ("customer_managed_policies".into(), json!(customer)),
        ("inline_policy".into(), json!(inline)),
        ("permissions_boundary".into(), boundary_text(boundary)),
        ("tags".into(), tags_value(tags)),
    ])
}

/// The attributes recorded for a permission set.
pub fn permission_set_attrs(spec: &PermissionSetSpec) -> Attrs {
    set_attrs(
        &spec.name,
        spec.description.as_deref(),
        &spec.session_duration,
        spec.managed_policies.iter().cloned(),
        spec.customer_managed_policies
            .iter()
            .map(CustomerPolicyRef::to_string),
        spec.inline_policy.as_deref().map(canonical_json),
        spec.permissions_boundary.as_ref(),
        &spec.tags,
    )
}

/// A live permission set's attributes, in the shape [`permission_set_attrs`] records.
pub fn live_permission_set_attrs(live: &LivePermissionSet) -> Attrs {
    set_attrs(
        &live.name,
        live.description.as_deref(),
        &live.session_duration,
        live.managed_policies.iter().cloned(),
        live.customer_managed_policies
            .iter()
            .map(CustomerPolicyRef::to_string),
        live.inline_policy
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(canonical_json),
        live.permissions_boundary.as_ref(),
        &live.tags,
    )
}

pub fn group_attrs(spec: &GroupSpec) -> Attrs {
    Attrs::from([
        ("display_name".into(), json!(spec.name)),
        ("description".into(), json!(spec.description)),
    ])
}

pub fn live_group_attrs(live: &LiveGroup) -> Attrs {
    Attrs::from([
        ("display_name".into(), json!(live.display_name)),
        ("description".into(), json!(live.description)),
    ])
}

/// The attributes recorded for an assignment: who gets which set where. (Not which
/// target of the file it came from: an account moving to another OU the assignment
/// also covers changes nothing in AWS.)
pub fn assignment_attrs(assignment: &Assignment) -> Attrs {
    Attrs::from([
        ("permission_set".into(), json!(assignment.permission_set)),
        ("principal".into(), json!(assignment.principal.to_string())),
        (
            "account".into(),
            json!(format!("account.{}", assignment.account)),
        ),
    ])
}

/// The declared attributes of an identity address, `None` when it is not declared.
pub fn declared_attrs(desired: &DesiredState, address: &Address) -> Option<Attrs> {
    match address.identity_kind()? {
        IdentityKind::PermissionSet(name) => {
            desired.permission_sets.get(name).map(permission_set_attrs)
        }
        IdentityKind::Group(name) => desired.groups.get(name).map(group_attrs),
        IdentityKind::Assignment(a) => desired.assignment(a).map(|_| assignment_attrs(a)),
    }
}

/// Whether the recorded resource still exists live.
pub fn exists_live(live: &LiveIdentity, address: &Address, id: &str) -> bool {
    match address.identity_kind() {
        Some(IdentityKind::PermissionSet(_)) => live.permission_sets.contains_key(id),
        Some(IdentityKind::Group(_)) => live.groups.values().any(|g| g.id == id),
        Some(IdentityKind::Assignment(_)) => {
            parse_assignment_id(id).is_some_and(|a| live.assignments.contains(&a))
        }
        None => false,
    }
}

/// For `--refresh-only`: the live attributes of a recorded identity resource, `None`
/// when it is gone. An assignment has nothing to accept but its existence.
pub fn live_attrs(live: &LiveIdentity, address: &Address, rec: &ResourceRecord) -> Option<Attrs> {
    match address.identity_kind()? {
        IdentityKind::PermissionSet(_) => live
            .permission_sets
            .get(&rec.id)
            .filter(|s| s.detailed)
            .map(live_permission_set_attrs),
        IdentityKind::Group(_) => live
            .groups
            .values()
            .find(|g| g.id == rec.id)
            .map(live_group_attrs),
        IdentityKind::Assignment(_) => {
            exists_live(live, address, &rec.id).then(|| rec.attributes.clone())
        }
    }
}
