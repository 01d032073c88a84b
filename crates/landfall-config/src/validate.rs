//! Stage 2: the declarations of every file, merged and checked into a
//! [`DesiredState`]. Every rule runs even after others failed, so one run reports
//! every problem; the desired state is only built when there was no error.
//!
//! Declarations in a file with TOML syntax errors, or whose table could not be read,
//! are known by name only: references to them resolve (so one typo does not cascade
//! into "undeclared" errors elsewhere) but their contents are not checked.
//!
//! This module runs the checks in order and builds the desired state; each
//! submodule owns one part: `landing_zone` (and the `Settings` other checks read),
//! `quotas`, `sim`, `ous` (tree and depth), `accounts`, `references` (to declared
//! OUs and accounts), `scps`, `policy_source` (inline or file documents),
//! `attachments` (implicit `FullAWSAccess`, SCPs per target), `tags`, `drift`. The
//! `Validator` itself and the merge of files are in `crate::validator`; the other
//! organization policy types are `crate::org_policies`, `[logging]` and
//! `[security_services]` are `crate::security`.

mod accounts;
mod attachments;
mod drift;
mod import;
pub(crate) mod landing_zone;
mod moved;
mod ous;
mod policy_source;
mod quotas;
mod references;
mod scps;
mod sim;
mod state;
mod tags;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use landfall_core::model::{DesiredState, SimSettings};
use landfall_core::{Attachment, OuPath, Target};

use crate::DeclaredProject;
use crate::diagnostics::{Diagnostic, Sink};
use crate::parse::{Decl, ParsedFile};
use crate::project::{Blueprint, Expansion};
use crate::raw::{RawLandingZone, RawSim, RawState};
use crate::sources::{Loc, SourceMap};
use crate::validator::Validator;

use attachments::LzAccess;
pub(crate) use landing_zone::Settings;
pub(crate) use policy_source::PolicySource;
use state::StateSetting;

/// Checks the parsed files; returns the desired state when there was no error.
/// `unread_files`: some file could not be read, so "nothing declares X" is not
/// known to be true.
pub(crate) fn validate(
    mut files: Vec<ParsedFile>,
    unread_files: bool,
    sources: &mut SourceMap,
    base_dir: &Path,
    sink: &mut Sink,
    read: &mut Vec<PathBuf>,
) -> (Option<DesiredState>, Blueprint, Vec<DeclaredProject>) {
    let mut v = Validator {
        sources,
        sink,
        base_dir,
        read,
        extra_regions: Vec::new(),
    };
    // Projects expand first, so every rule applies to what they declare.
    let mut expansion = v.expand_projects(&files);
    let synthetic = std::mem::replace(&mut expansion.file, empty_file());
    files.push(synthetic);
    let desired = v.run(&files, unread_files, &expansion);
    let projects = expansion
        .projects
        .iter()
        .map(|(name, loc)| {
            let (line, col) = v.sources.line_col(loc.source, loc.span.start);
            let file = v
                .sources
                .get(loc.source)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            DeclaredProject {
                name: name.clone(),
                declared_at: format!("{file}:{line}:{col}"),
            }
        })
        .collect();
    (desired, expansion.blueprint, projects)
}

fn empty_file() -> ParsedFile {
    ParsedFile::empty(0)
}

impl Validator<'_> {
    fn run(
        &mut self,
        files: &[ParsedFile],
        unread_files: bool,
        expansion: &Expansion,
    ) -> Option<DesiredState> {
        let incomplete = unread_files || files.iter().any(|f| f.broken);

        let lz_decls: Vec<&Decl<RawLandingZone>> = files
            .iter()
            .filter_map(|f| f.landing_zone.as_ref())
            .collect();
        self.singleton(&lz_decls, "LF201", "[landing_zone]");
        if lz_decls.is_empty()
            && !incomplete
            && let Some(first) = files.first()
        {
            self.push(
                Diagnostic::error("LF200", "no [landing_zone] is declared")
                    .at(&Loc::new(first.source, 0..0), "")
                    .help(
                        "declare it once, in any file: [landing_zone] with at least \
                         `name` and `home_region`",
                    ),
            );
        }
        let sim_decls: Vec<&Decl<RawSim>> = files.iter().filter_map(|f| f.sim.as_ref()).collect();
        self.singleton(&sim_decls, "LF202", "[sim]");
        let state_decls: Vec<&Decl<RawState>> =
            files.iter().filter_map(|f| f.state.as_ref()).collect();
        self.singleton(&state_decls, "LF213", "[state]");
        let lz_state_path = lz_decls
            .first()
            .and_then(|d| d.body.as_ref())
            .and_then(|raw| raw.state_path.as_ref())
            .is_some();
        let state = state_decls
            .first()
            .and_then(|d| d.body.as_ref().map(|raw| (d.key.source, raw)))
            .map(|(src, raw)| self.state(src, raw, lz_state_path));

        let mut landing_zones = Vec::new();
        for d in &lz_decls {
            if let Some(raw) = &d.body {
                landing_zones.push((self.landing_zone(d.key.source, raw), raw, *d));
            }
        }
        let mut sims = Vec::new();
        for d in &sim_decls {
            if let Some(raw) = &d.body {
                sims.push(self.sim(d.key.source, raw));
            }
        }
        // The first declaration wins; the others are errors already.
        let lz_first = lz_decls.first().and_then(|d| d.body.as_ref());
        let settings = Settings::new(lz_first);

        let ou_decls = self.merge(files, |f| &f.ous, "OU", "ou");
        let account_decls = self.merge(files, |f| &f.accounts, "account", "account");
        let scp_decls = self.merge(files, |f| &f.scps, "SCP", "scp");
        let network_decls = self.merge(files, |f| &f.networks, "network", "network");
        let key_decls = self.merge(files, |f| &f.kms_keys, "KMS key", "kms_key");

        let ous = self.ous(&ou_decls, &settings);
        let accounts = self.accounts(&account_decls, &ou_decls.names, &settings);
        let control_tower = self.control_tower(files, &ou_decls.names);
        let account_factory = self.account_factory(&lz_decls, &control_tower);
        let sso_users = self.sso_users(&account_decls, account_factory, &control_tower);
        let home_region = lz_decls
            .iter()
            .find_map(|d| d.body.as_ref())
            .map(|raw| raw.home_region.get_ref().clone());
        let controls = self.controls(
            files,
            &control_tower,
            &ou_decls.names,
            home_region.as_deref(),
        );
        let portfolios = self.portfolios(
            files,
            &ou_decls.names,
            &account_decls.names,
            &expansion.accounts,
        );
        let mut attachments = BTreeSet::new();
        let policies = self.scps(
            &scp_decls,
            &ou_decls.names,
            &account_decls.names,
            &settings,
            &mut attachments,
        );
        for (scp, account) in &expansion.attachments {
            if policies.contains_key(scp) && accounts.iter().any(|a| &a.spec.name == account) {
                attachments.insert(Attachment {
                    policy: scp.clone(),
                    target: Target::Account(account.clone()),
                });
            }
        }
        for (_, raw, d) in &landing_zones {
            self.quarantine_ou(d.key.source, raw, &ou_decls.names);
        }
        let lz_access = lz_decls.first().and_then(|d| {
            d.body.as_ref().map(|raw| LzAccess {
                key: d.key.clone(),
                setting: raw
                    .full_aws_access
                    .as_ref()
                    .filter(|f| !*f.get_ref())
                    .map(|f| Loc::new(d.key.source, f.span())),
            })
        });
        self.implicit_attachments(&ous, &accounts, lz_access, &settings, &mut attachments);
        let mut networks = self.networks(&network_decls, &account_decls.names, &settings);
        let mut kms_keys = self.kms_keys(&key_decls, &account_decls.names, &settings);
        let mut accounts = accounts;
        for a in &mut accounts {
            a.spec.project = expansion.accounts.get(&a.spec.name).cloned();
            a.spec.sso_user = sso_users.get(&a.spec.name).cloned();
        }
        for (name, n) in &mut networks {
            n.project = expansion.networks.get(name).cloned();
        }
        for (name, k) in &mut kms_keys {
            k.project = expansion.kms_keys.get(name).cloned();
        }
        let drift_ignore = self.drift_ignore(files);
        let account_ous: BTreeMap<String, Option<OuPath>> = accounts
            .iter()
            .map(|a| (a.spec.name.clone(), a.spec.ou.clone()))
            .collect();
        let identity = self.identity(
            files,
            &crate::identity::Context {
                home_region: home_region.as_deref(),
                ous: &ou_decls.names,
                accounts: &account_decls.names,
                account_ous: &account_ous,
                group_projects: &expansion.groups,
                assignment_projects: &expansion.assignments,
            },
        );
        let set_names: BTreeSet<String> = files
            .iter()
            .flat_map(|f| f.permission_sets.iter().map(|d| d.name.clone()))
            .collect();
        let (expectations, tag_expectations) =
            self.expectations(files, &ou_decls.names, &account_decls.names, &set_names);
        let org_policies = self.org_policies(files, &ou_decls.names, &account_decls.names);
        let security = self.security(
            files,
            &crate::security::Context {
                home_region: home_region.as_deref(),
                accounts: &account_decls.names,
                kms_keys: &key_decls.names,
                settings: &settings,
            },
        );
        kms_keys.extend(security.kms_keys);

        let (mut landing_zone, _, _) = landing_zones.into_iter().next()?;
        landing_zone.account_factory = account_factory;
        landing_zone.control_tower = control_tower.settings;
        if let Some(state) = state {
            match state {
                StateSetting::Local(Some(path)) => landing_zone.state_path = Some(path),
                StateSetting::Local(None) => {}
                StateSetting::S3(s3) => landing_zone.s3_state = Some(s3),
            }
        }
        let (sim, sim_world) = sims.into_iter().next().unwrap_or((
            SimSettings {
                account_creation_polls: 1,
                ..SimSettings::default()
            },
            None,
        ));
        landing_zone.sim = sim;
        landing_zone.sim_world = sim_world;
        let mut desired = DesiredState {
            landing_zone,
            ous: ous
                .into_iter()
                .map(|o| (o.spec.path.clone(), o.spec))
                .collect(),
            accounts: accounts
                .into_iter()
                .map(|a| (a.spec.name.clone(), a.spec))
                .collect(),
            policies,
            attachments,
            networks,
            kms_keys,
            drift_ignore,
            controls,
            portfolios,
            expectations,
            moved: Vec::new(),
            imports: Vec::new(),
            identity_center: identity.settings,
            permission_sets: identity.permission_sets,
            groups: identity.groups,
            assignments: identity.assignments,
            tag_expectations,
            org_policies: org_policies.policies,
            org_policy_attachments: org_policies.attachments,
            service_access: security.service_access,
            delegated_admins: security.delegated_admins,
            buckets: security.buckets,
            trails: security.trails,
            config_aggregators: security.config_aggregators,
            access_analyzers: security.access_analyzers,
        };
        // Checked against what is declared, so after the rest is assembled; reported
        // with every other problem.
        desired.moved = self.moved(files, &desired.addresses());
        desired.imports = self.imports(files, &desired);
        if self.sink.has_errors() {
            return None;
        }
        Some(desired)
    }
}
