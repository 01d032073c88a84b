//! IAM Identity Center: `[identity_center]`, `[permission_set.NAME]`, `[group.NAME]`
//! and `[[assignment]]`, checked against Identity Center's documented rules and quotas
//! and turned into the desired state's identity part. One idea per submodule:
//! `permission_sets` (names, description, session duration, policy counts, boundary),
//! `managed_policies` (the shipped AWS-managed policy list), `inline_policy` (the
//! document, its lint and size), `personas` (the presets), `groups`, `assignments`
//! (OU expansion).

pub(crate) mod assignments;
pub(crate) mod groups;
pub(crate) mod inline_policy;
pub(crate) mod managed_policies;
pub(crate) mod permission_sets;
pub(crate) mod personas;

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::OuPath;
use landfall_core::address::Assignment;
use landfall_core::model::{
    AssignmentSpec, GroupSpec, IdentityCenterSettings, IdentitySource, PermissionSetSpec,
};

use crate::parse::{Decl, ParsedFile};
use crate::raw::{RawIdentityCenter, RawIdentitySource};
use crate::sources::Loc;
use crate::validator::Validator;

/// The identity part of the desired state.
#[derive(Default)]
pub(crate) struct Identity {
    /// `Some` whenever anything of identity is declared.
    pub settings: Option<IdentityCenterSettings>,
    pub permission_sets: BTreeMap<String, PermissionSetSpec>,
    pub groups: BTreeMap<String, GroupSpec>,
    pub assignments: Vec<AssignmentSpec>,
}

/// What identity checks read from the rest of the configuration.
pub(crate) struct Context<'a> {
    pub home_region: Option<&'a str>,
    pub ous: &'a BTreeSet<String>,
    pub accounts: &'a BTreeSet<String>,
    pub account_ous: &'a BTreeMap<String, Option<OuPath>>,
    /// Groups and assignments projects expand into, and their project.
    pub group_projects: &'a BTreeMap<String, String>,
    pub assignment_projects: &'a BTreeMap<Assignment, String>,
}

/// The identity source the first `[identity_center]` declares (the default when none
/// does), and where it says so. Read by the project expansion too (no groups are
/// created for an external source).
pub(crate) fn identity_source(files: &[ParsedFile]) -> (IdentitySource, Option<Loc>) {
    let first = files
        .iter()
        .filter_map(|f| f.identity_center.as_ref())
        .find_map(|d| Some((d.key.source, d.body.as_ref()?)));
    match first.and_then(|(src, raw)| Some((src, raw.identity_source.as_ref()?))) {
        Some((src, s)) => {
            let source = match s.get_ref() {
                RawIdentitySource::IdentityCenter => IdentitySource::IdentityCenter,
                RawIdentitySource::External => IdentitySource::External,
            };
            (source, Some(Loc::new(src, s.span())))
        }
        None => (IdentitySource::IdentityCenter, None),
    }
}

impl Validator<'_> {
    pub(crate) fn identity(&mut self, files: &[ParsedFile], cx: &Context<'_>) -> Identity {
        let ic_decls: Vec<&Decl<RawIdentityCenter>> = files
            .iter()
            .filter_map(|f| f.identity_center.as_ref())
            .collect();
        self.singleton(&ic_decls, "LF870", "[identity_center]");
        let region = ic_decls
            .first()
            .and_then(|d| Some((d.key.source, d.body.as_ref()?.region.as_ref()?)));
        let region_ok = match region {
            Some((src, r)) => self.region(src, r),
            None => true,
        };
        let (source, source_at) = identity_source(files);

        let set_decls = self.merge(
            files,
            |f| &f.permission_sets,
            "permission set",
            "permission_set",
        );
        let group_decls = self.merge(files, |f| &f.groups, "group", "group");
        let permission_sets = self.permission_sets(&set_decls);
        let groups = self.groups(&group_decls, source, source_at.as_ref(), cx.group_projects);
        let declared = assignments::Declared {
            permission_sets: &set_decls.names,
            groups: &group_decls.names,
            ous: cx.ous,
            accounts: cx.accounts,
            account_ous: cx.account_ous,
            projects: cx.assignment_projects,
        };
        let (assignments, used) = self.assignments(files, &declared);
        self.unused_groups(&group_decls, &used);

        let anything = !ic_decls.is_empty()
            || !set_decls.names.is_empty()
            || !group_decls.names.is_empty()
            || files.iter().any(|f| !f.assignments.is_empty());
        let settings = anything.then(|| IdentityCenterSettings {
            region: match region {
                Some((_, r)) if region_ok => r.get_ref().clone(),
                _ => cx.home_region.unwrap_or_default().to_string(),
            },
            identity_source: source,
            // Where identity is declared: `[identity_center]`, or the first permission
            // set, group or assignment.
            origin: self.origin(
                &ic_decls
                    .first()
                    .map(|d| d.key.clone())
                    .or_else(|| set_decls.first.first().map(|d| d.key.clone()))
                    .or_else(|| group_decls.first.first().map(|d| d.key.clone()))
                    .or_else(|| {
                        files
                            .iter()
                            .find_map(|f| f.assignments.first().map(|d| d.table.clone()))
                    })
                    .unwrap_or_else(|| Loc::new(0, 0..0)),
            ),
        });
        Identity {
            settings,
            permission_sets,
            groups,
            assignments,
        }
    }
}
