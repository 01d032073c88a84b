//! `landfall import`: a live organization written as configuration, the inverse of
//! loading. Pure: the CLI reads the world; this module decides every byte of the
//! files — the same organization gives the same bytes — and the CLI validates them,
//! checks that the first plan is empty, and writes them with the state.
//!
//! What is written: `[landing_zone]` (home region, governed regions inferred from a
//! region-deny SCP), every OU by path with its tags, every active member account with
//! its email, OU and tags, every customer-managed SCP as `policies/NAME.json` with its
//! description, tags and targets, `full_aws_access` wherever `FullAWSAccess` is not
//! where the landing zone's default puts it, every customer-managed resource control,
//! tag and AI services opt-out policy as `policies/TYPE/NAME.json` with its
//! description, tags and targets, and the Control Tower landing zone's
//! registrations and controls when it was read. What is not (the management account,
//! suspended accounts, AWS-managed SCPs other than `FullAWSAccess`, mandatory
//! controls) is named in comments and warnings.

mod control_tower;
mod members;
mod names;
mod org_policies;
mod organization;
mod security;
mod text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use landfall_core::live::{LiveState, WorldIdentity};
use landfall_core::model::{BackendKind, S3State};

pub use organization::governed_regions_of;

/// What to import and how to write it.
pub struct ImportRequest<'a> {
    pub live: &'a LiveState,
    pub world: &'a WorldIdentity,
    /// The landing zone's name (valid: the CLI checks it).
    pub name: String,
    pub home_region: String,
    pub backend: BackendKind,
    /// One file per top-level OU (`ous/NAME.toml`) instead of one file.
    pub split: bool,
    /// `[sim] world`: the sim world file, relative to the output directory.
    pub sim_world: Option<String>,
    /// `[state]` when the state is written to S3.
    pub s3_state: Option<S3State>,
    /// Control Tower was read (`live.governance` holds its landing zone, baselines and
    /// controls): write what it has.
    pub control_tower: bool,
    /// `--members`: the regions whose VPCs and KMS keys were read (`live.members`).
    pub member_regions: Vec<String>,
    /// Member accounts and regions that could not be read: (account id, region, why).
    pub member_failures: Vec<(String, String, String)>,
    /// The role Landfall assumes in member accounts (the key-policy lockout check).
    pub access_role: String,
}

/// The files of an imported landing zone.
#[derive(Debug)]
pub struct ImportedZone {
    /// Paths relative to the output directory → contents.
    pub files: BTreeMap<PathBuf, String>,
    /// What was left out or renamed, for the terminal (also in the files' comments).
    pub warnings: Vec<String>,
    /// The live id of each OU, account, SCP and member resource written, with the
    /// member resource's `ACCOUNT/REGION`: the state records them, so a resource whose
    /// name had to change is still the same resource (the plan renames it rather than
    /// creating another), and a VPC or key Landfall did not tag is found.
    pub ids: BTreeMap<landfall_core::Address, (String, Option<String>)>,
    pub counts: ImportCounts,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub ous: usize,
    pub accounts: usize,
    pub scps: usize,
    /// Resource control, tag and AI services opt-out policies.
    pub org_policies: usize,
    pub controls: usize,
    pub registrations: usize,
    pub networks: usize,
    pub kms_keys: usize,
    /// Accounts and policies named in comments instead of declared.
    pub skipped: usize,
}

/// The text of one TOML file being written, section by section.
#[derive(Default)]
struct Doc {
    text: String,
}

impl Doc {
    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    fn blank(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn comment(&mut self, text: &str) {
        for l in text.lines() {
            self.line(format!("# {l}").trim_end());
        }
    }

    fn finish(mut self) -> String {
        while self.text.ends_with("\n\n") {
            self.text.pop();
        }
        self.text
    }
}

/// Writes the landing zone the live organization is.
pub fn import(req: &ImportRequest<'_>) -> ImportedZone {
    let mut warnings = Vec::new();
    let mut org = organization::read(req, &mut warnings);
    let mut policies_left_out = Vec::new();
    let org_policies = org_policies::read(req, &org, &mut policies_left_out, &mut warnings);
    org.skipped.extend(policies_left_out);
    let members = (!req.member_regions.is_empty()).then(|| members::read(req, &org, &mut warnings));
    let ct = req
        .control_tower
        .then(|| control_tower::read(req, &org, &mut warnings))
        .flatten();

    let mut main = Doc::default();
    header(&mut main, req, &org);
    organization::write_landing_zone(&mut main, req, &org);
    let mut files = BTreeMap::new();
    if req.split {
        // landfall.toml: the landing zone, the accounts under the root, the SCPs and
        // Control Tower; ous/NAME.toml: one top-level OU with everything below it.
        let tops: BTreeSet<String> = org
            .ous
            .iter()
            .map(|o| {
                o.path
                    .as_str()
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        organization::write_accounts(&mut main, &org, |a| a.ou.is_none());
        for top in &tops {
            let mut doc = Doc::default();
            doc.comment(&format!(
                "The OU {top} and everything below it (imported; see ../landfall.toml)."
            ));
            doc.blank();
            organization::write_ous(&mut doc, &org, Some(top));
            let top_path = landfall_core::OuPath::new(top.clone());
            organization::write_accounts(&mut doc, &org, |a| {
                a.ou.as_ref().is_some_and(|ou| ou.is_within(&top_path))
            });
            files.insert(
                PathBuf::from("ous").join(format!("{}.toml", file_stem(top))),
                doc.finish(),
            );
        }
    } else {
        organization::write_ous(&mut main, &org, None);
        organization::write_accounts(&mut main, &org, |_| true);
    }
    organization::write_scps(&mut main, &org);
    org_policies::write(&mut main, &org_policies);
    security::write(&mut main, &security::lines(req, &org));
    if let Some(m) = &members {
        members::write(&mut main, m, &req.member_regions);
        for (path, text) in &m.documents {
            files.insert(PathBuf::from(path), text.clone());
        }
    }
    if let Some(ct) = &ct {
        control_tower::write(&mut main, ct);
    }
    organization::write_skipped(&mut main, &org);
    for scp in &org.scps {
        files.insert(PathBuf::from(&scp.file), scp.document.clone());
    }
    for p in &org_policies {
        files.insert(PathBuf::from(&p.file), p.document.clone());
    }
    files.insert(PathBuf::from("landfall.toml"), main.finish());

    let counts = ImportCounts {
        ous: org.ous.len(),
        accounts: org.accounts.len(),
        scps: org.scps.len(),
        org_policies: org_policies.len(),
        controls: ct.as_ref().map_or(0, |c| c.control_count()),
        registrations: ct.as_ref().map_or(0, |c| c.registered),
        networks: members.as_ref().map_or(0, |m| m.networks.len()),
        kms_keys: members.as_ref().map_or(0, |m| m.keys.len()),
        skipped: org.skipped.len(),
    };
    let mut ids = BTreeMap::new();
    for ou in &org.ous {
        ids.insert(
            landfall_core::Address::Ou(ou.path.clone()),
            (ou.id.clone(), None),
        );
    }
    for a in &org.accounts {
        ids.insert(
            landfall_core::Address::Account(a.name.clone()),
            (a.id.clone(), None),
        );
    }
    for s in &org.scps {
        ids.insert(
            landfall_core::Address::Scp(s.name.clone()),
            (s.id.clone(), None),
        );
    }
    for p in &org_policies {
        ids.insert(
            landfall_core::Address::OrgPolicy(p.policy_type, p.name.clone()),
            (p.id.clone(), None),
        );
    }
    for (address, (id, member)) in members.iter().flat_map(|m| &m.ids) {
        ids.insert(address.clone(), (id.clone(), Some(member.clone())));
    }
    ImportedZone {
        files,
        warnings,
        ids,
        counts,
    }
}

/// A file name for an OU name: its characters that are safe in file names.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        format!("ou{stem}")
    } else {
        stem
    }
}

fn header(doc: &mut Doc, req: &ImportRequest<'_>, org: &organization::Org) {
    let live = req.live;
    doc.comment(&format!(
        "{} — imported by `landfall import` from the {} (root {}).",
        req.name, req.world, live.root_id
    ));
    doc.comment(
        "Every resource below is recorded in the state as adopted: Landfall manages it from\n\
         now on but will never delete it. `landfall plan` shows no changes until this file\n\
         is edited; ids are in comments.",
    );
    match &org.management {
        Some(m) => doc.comment(&format!(
            "The management account {} ({}, {}) is not declared: Landfall does not manage it.",
            m.id, m.name, m.email
        )),
        None => doc.comment(&format!(
            "The management account {} is not declared: Landfall does not manage it.",
            live.management_account_id
        )),
    }
    if !req.control_tower {
        doc.comment(
            "Control Tower was not read (--skip-control-tower): no controls or OU registrations.",
        );
    }
    doc.comment(
        "Not imported: Service Catalog portfolios, trusted access and delegated administrators,\n\
         trails, Config aggregators and Access Analyzer analyzers ([logging] and\n\
         [security_services] declare Landfall's own).",
    );
    doc.blank();
}
