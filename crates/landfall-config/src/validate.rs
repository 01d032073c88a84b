//! Stage 2: the declarations of every file, merged and checked into a
//! [`DesiredState`]. Every rule runs even after others failed, so one run reports
//! every problem; the desired state is only built when there was no error.
//!
//! Declarations in a file with TOML syntax errors, or whose table could not be read,
//! are known by name only: references to them resolve (so one typo does not cascade
//! into "undeclared" errors elsewhere) but their contents are not checked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use landfall_core::FULL_AWS_ACCESS;
use landfall_core::model::{
    AccountRemoval, AccountSpec, BackendKind, DesiredState, LandingZone, Origin, OuSpec,
    PolicySpec, Quotas, SimSettings, Tags,
};
use landfall_core::{Attachment, OuPath, Target};
use serde_spanned::Spanned;

use crate::DeclaredProject;
use crate::diagnostics::{Diagnostic, Sink};
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::policy_doc;
use crate::project::{Blueprint, Expansion};
use crate::raw::{
    RawAccount, RawBackend, RawLandingZone, RawOu, RawQuotas, RawRemovalMode, RawScp, RawSim,
    RawTags,
};
use crate::rules;
use crate::scp;
use crate::sources::{Loc, SourceId, SourceMap, resolve_relative};
use crate::suggest::{closest, did_you_mean};
use crate::toml_string;

pub(crate) const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
const MAX_DESCRIPTION: usize = 512;

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

/// The validator: `network.rs` and `kms.rs` add its checks of member-account
/// resources.
pub(crate) struct Validator<'a> {
    pub(crate) sources: &'a mut SourceMap,
    pub(crate) sink: &'a mut Sink,
    base_dir: &'a Path,
    read: &'a mut Vec<PathBuf>,
}

/// The landing zone's settings other checks depend on (defaults when it is missing
/// or unreadable, so the other checks still run).
pub(crate) struct Settings {
    pub(crate) quotas: Quotas,
    full_aws_access: bool,
    /// The governed regions; `None` when the landing zone is missing or unreadable
    /// (then regions are not checked against it).
    pub(crate) governed: Option<Vec<String>>,
    /// The role Landfall assumes in member accounts.
    pub(crate) access_role: String,
}

/// The declarations that count (first of each name, from readable files), plus every
/// name declared anywhere (for resolving references).
pub(crate) struct Merged<'f, T> {
    pub(crate) first: Vec<&'f Decl<T>>,
    pub(crate) names: BTreeSet<String>,
}

/// Where a resource policy document is written.
#[derive(Clone, Copy)]
pub(crate) enum PolicySource<'r> {
    /// Inline: `policy = "{...}"`.
    Inline(&'r Spanned<String>),
    /// A JSON file: `policy_file = "policies/x.json"`.
    File(&'r Spanned<String>),
}

/// Where the landing zone turns `full_aws_access` off, if it does.
struct LzAccess {
    key: Loc,
    setting: Option<Loc>,
}

/// One root, OU or account whose SCP count is checked.
struct TargetCheck {
    target: Target,
    /// Whether `FullAWSAccess` is attached implicitly.
    on: bool,
    /// Its own `full_aws_access` setting, when written.
    setting: Option<Loc>,
    declared_at: Loc,
}

/// Who refers to an OU, for messages.
#[derive(Clone, Copy)]
enum OuRef<'a> {
    Account(&'a str),
    Quarantine,
}

struct CheckedOu {
    spec: OuSpec,
    full_aws_access: Option<(bool, Loc)>,
    key: Loc,
}

struct CheckedAccount {
    spec: AccountSpec,
    full_aws_access: Option<(bool, Loc)>,
    key: Loc,
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
        let settings = Settings {
            quotas: lz_first
                .and_then(|raw| raw.quotas.as_ref())
                .map(effective_quotas)
                .unwrap_or_default(),
            full_aws_access: lz_first
                .and_then(|raw| raw.full_aws_access.as_ref())
                .is_none_or(|f| *f.get_ref()),
            governed: lz_first.map(|raw| match &raw.governed_regions {
                Some(list) => list.get_ref().iter().map(|r| r.get_ref().clone()).collect(),
                None => vec![raw.home_region.get_ref().clone()],
            }),
            access_role: lz_first
                .and_then(|raw| raw.access_role.as_ref())
                .map(|r| r.get_ref().clone())
                .unwrap_or_else(|| DEFAULT_ACCESS_ROLE.to_string()),
        };

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
        let expectations = self.expectations(files, &ou_decls.names, &account_decls.names);

        if self.sink.has_errors() {
            return None;
        }
        let (mut landing_zone, _, _) = landing_zones.into_iter().next()?;
        landing_zone.account_factory = account_factory;
        landing_zone.control_tower = control_tower.settings;
        landing_zone.sim = sims.into_iter().next().unwrap_or(SimSettings {
            account_creation_polls: 1,
            ..SimSettings::default()
        });
        Some(DesiredState {
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
        })
    }

    /// `[drift] ignore` from every file, each pattern checked as a glob.
    fn drift_ignore(&mut self, files: &[ParsedFile]) -> Vec<String> {
        let mut out = Vec::new();
        for d in files.iter().filter_map(|f| f.drift.as_ref()) {
            let Some(raw) = &d.body else { continue };
            for p in raw.ignore.iter().flatten() {
                let pattern = p.get_ref();
                match globset::Glob::new(pattern) {
                    Ok(_) => out.push(pattern.clone()),
                    Err(e) => self.push(
                        Diagnostic::error("LF212", format!("`{pattern}` is not a valid glob: {}", e.kind()))
                            .at(&Loc::new(d.key.source, p.span()), "not a glob")
                            .help("patterns match addresses, e.g. `account.sandbox-*` or `endpoint.*.kms`"),
                    ),
                }
            }
        }
        out
    }

    /// Whether the OU or account a target names is declared (the root always is);
    /// reports `code` at `loc` when it is not. `subject` begins the message, e.g.
    /// "SCP `x` targets" or "portfolio `x` is shared with".
    pub(crate) fn target_declared(
        &mut self,
        code: &'static str,
        subject: &str,
        target: &Target,
        loc: &Loc,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> bool {
        match target {
            Target::Root => true,
            Target::Ou(p) => {
                let ok = ous.contains(p.as_str());
                if !ok {
                    self.push(
                        Diagnostic::error(
                            code,
                            format!("{subject} OU `{p}`, which is not declared"),
                        )
                        .at(loc, "no such OU")
                        .maybe_help(
                            closest(p.as_str(), ous.iter().map(String::as_str))
                                .map(|c| format!("did you mean `ou:{c}`?")),
                        )
                        .help(format!("declare it with [ou.{}]", toml_key(p.as_str()))),
                    );
                }
                ok
            }
            Target::Account(a) => {
                let ok = accounts.contains(a);
                if !ok {
                    self.push(
                        Diagnostic::error(
                            code,
                            format!("{subject} account `{a}`, which is not declared"),
                        )
                        .at(loc, "no such account")
                        .maybe_help(did_you_mean(a, accounts.iter().map(String::as_str)))
                        .help(format!("declare it with [account.{}]", toml_key(a))),
                    );
                }
                ok
            }
        }
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.sink.push(d);
    }

    pub(crate) fn origin(&self, loc: &Loc) -> Origin {
        let (line, column) = self.sources.line_col(loc.source, loc.span.start);
        Origin {
            file: self.sources.name(loc.source).to_string(),
            line,
            column,
        }
    }

    pub(crate) fn loc<T>(&self, source: SourceId, s: &Spanned<T>) -> Loc {
        Loc::new(source, s.span())
    }

    /// `[landing_zone]` and `[sim]`: at most one declaration across all files.
    pub(crate) fn singleton<T>(&mut self, decls: &[&Decl<T>], code: &'static str, what: &str) {
        let Some((first, rest)) = decls.split_first() else {
            return;
        };
        for again in rest {
            self.push(
                Diagnostic::error(code, format!("{what} is declared more than once"))
                    .at(&again.table, "declared again here")
                    .at(&first.table, "first declared here")
                    .help(format!("keep exactly one {what} across all files")),
            );
        }
    }

    /// Collects one kind of keyed declaration across files, reporting duplicates.
    pub(crate) fn merge<'f, T>(
        &mut self,
        files: &'f [ParsedFile],
        get: impl Fn(&'f ParsedFile) -> &'f Vec<Decl<T>>,
        what: &str,
        section: &str,
    ) -> Merged<'f, T> {
        let mut first: Vec<&Decl<T>> = Vec::new();
        let mut seen: HashMap<&str, &Decl<T>> = HashMap::new();
        let mut names = BTreeSet::new();
        for file in files {
            for decl in get(file) {
                names.insert(decl.name.clone());
                if file.broken {
                    continue;
                }
                match seen.get(decl.name.as_str()) {
                    Some(earlier) => {
                        let header = format!("[{section}.{}]", toml_key(&decl.name));
                        self.push(
                            Diagnostic::error(
                                "LF104",
                                format!("{what} `{}` is declared twice", decl.name),
                            )
                            .at(&decl.key, "declared again here")
                            .at(&earlier.key, "first declared here")
                            .help(format!(
                                "{header} can appear in only one file; remove or rename one"
                            )),
                        );
                    }
                    None => {
                        seen.insert(&decl.name, decl);
                        first.push(decl);
                    }
                }
            }
        }
        Merged { first, names }
    }

    // ----- landing zone and sim -------------------------------------------------

    fn landing_zone(&mut self, src: SourceId, raw: &RawLandingZone) -> LandingZone {
        let name = raw.name.get_ref();
        if let Some(problem) = rules::landing_zone_name_problem(name) {
            let loc = self.loc(src, &raw.name);
            self.push(
                Diagnostic::error("LF203", format!("invalid landing zone name `{name}`"))
                    .at(&loc, problem)
                    .help("the name becomes the state file name: use e.g. `ml-platform`"),
            );
        }
        let home = raw.home_region.get_ref();
        let home_ok = self.region(src, &raw.home_region);
        let mut governed = Vec::new();
        match &raw.governed_regions {
            None => governed.push(home.clone()),
            Some(list) => {
                let mut seen: HashMap<&str, Loc> = HashMap::new();
                for r in list.get_ref() {
                    self.region(src, r);
                    let loc = self.loc(src, r);
                    if let Some(first) = seen.get(r.get_ref().as_str()) {
                        self.push(
                            Diagnostic::error(
                                "LF206",
                                format!(
                                    "region `{}` is listed twice in `governed_regions`",
                                    r.get_ref()
                                ),
                            )
                            .at(&loc, "listed again here")
                            .at(first, "first listed here")
                            .help("remove one of them"),
                        );
                    } else {
                        seen.insert(r.get_ref(), loc);
                        governed.push(r.get_ref().clone());
                    }
                }
                if home_ok && !governed.contains(home) {
                    let list_loc = self.loc(src, list);
                    let home_loc = self.loc(src, &raw.home_region);
                    self.push(
                        Diagnostic::error(
                            "LF205",
                            format!("home region `{home}` is not in `governed_regions`"),
                        )
                        .at(&list_loc, format!("`{home}` is missing here"))
                        .at(&home_loc, "home region")
                        .help(format!("add \"{home}\" to `governed_regions`")),
                    );
                }
            }
        }
        let access_role = match &raw.access_role {
            Some(role) => {
                if let Some(problem) = rules::role_name_problem(role.get_ref()) {
                    let loc = self.loc(src, role);
                    self.push(
                        Diagnostic::error("LF209", format!("invalid `access_role` `{}`", role.get_ref()))
                            .at(&loc, problem)
                            .help(format!("the usual roles are `{DEFAULT_ACCESS_ROLE}` and `AWSControlTowerExecution`")),
                    );
                }
                role.get_ref().clone()
            }
            None => DEFAULT_ACCESS_ROLE.to_string(),
        };
        if let Some(path) = &raw.state_path
            && path.get_ref().trim().is_empty()
        {
            let loc = self.loc(src, path);
            self.push(
                Diagnostic::error("LF102", "`state_path` is empty")
                    .at(&loc, "empty path")
                    .help("remove `state_path` to use `state/<name>.state.json`"),
            );
        }
        let quotas = raw
            .quotas
            .as_ref()
            .map(|q| self.quotas(src, q))
            .unwrap_or_default();
        let account_removal = self.account_removal(src, raw);
        LandingZone {
            name: name.clone(),
            home_region: home.clone(),
            governed_regions: governed,
            backend: match raw.backend {
                Some(RawBackend::Aws) => BackendKind::Aws,
                Some(RawBackend::Sim) | None => BackendKind::Sim,
            },
            state_path: raw.state_path.as_ref().map(|p| PathBuf::from(p.get_ref())),
            quotas,
            prune_unmanaged: raw.prune_unmanaged.unwrap_or(false),
            account_removal,
            access_role,
            sim: SimSettings::default(),
            account_factory: Default::default(),
            control_tower: None,
        }
    }

    /// Checks a region name; true when it is well-formed.
    pub(crate) fn region(&mut self, src: SourceId, region: &Spanned<String>) -> bool {
        let Some(problem) = rules::region_problem(region.get_ref()) else {
            return true;
        };
        // `US_EAST_1` → `us-east-1`: offer the fixed form when that is well-formed.
        let normalized = region
            .get_ref()
            .trim()
            .to_lowercase()
            .replace(['_', ' '], "-");
        let suggestion = if rules::region_problem(&normalized).is_none() {
            Some(format!("did you mean `{normalized}`?"))
        } else {
            did_you_mean(&normalized, rules::KNOWN_REGIONS.iter().copied())
        };
        let loc = self.loc(src, region);
        self.push(
            Diagnostic::error("LF204", format!("malformed region `{}`", region.get_ref()))
                .at(&loc, problem)
                .maybe_help(suggestion),
        );
        false
    }

    fn quotas(&mut self, src: SourceId, raw: &RawQuotas) -> Quotas {
        for (key, value) in quota_fields(raw) {
            if let Some(v) = value
                && *v.get_ref() == 0
            {
                let loc = self.loc(src, v);
                self.push(
                    Diagnostic::error("LF207", format!("quota `{key}` cannot be 0"))
                        .at(&loc, "must be at least 1")
                        .help("remove the key to use the AWS default"),
                );
            }
        }
        effective_quotas(raw)
    }

    fn account_removal(&mut self, src: SourceId, raw: &RawLandingZone) -> AccountRemoval {
        let Some(removal) = &raw.account_removal else {
            return AccountRemoval::Forget;
        };
        let mode = removal.mode.as_ref().map(|m| *m.get_ref());
        match (mode, &removal.ou) {
            (Some(RawRemovalMode::Quarantine), Some(ou)) => match OuPath::parse(ou.get_ref()) {
                Ok(path) => AccountRemoval::Quarantine { ou: path },
                // Reported by `quarantine_ou`.
                Err(_) => AccountRemoval::Forget,
            },
            (Some(RawRemovalMode::Quarantine), None) => {
                if let Some(m) = &removal.mode {
                    let loc = self.loc(src, m);
                    self.push(
                        Diagnostic::error("LF208", "`mode = \"quarantine\"` needs an `ou`")
                            .at(&loc, "quarantine where?")
                            .help("add `ou = \"Quarantine\"` (a declared OU) to [landing_zone.account_removal]"),
                    );
                }
                AccountRemoval::Forget
            }
            (_, Some(ou)) => {
                let loc = self.loc(src, ou);
                self.push(
                    Diagnostic::warning(
                        "LF903",
                        "`account_removal.ou` is ignored unless `mode = \"quarantine\"`",
                    )
                    .at(&loc, "ignored")
                    .help("add `mode = \"quarantine\"`, or remove `ou`"),
                );
                AccountRemoval::Forget
            }
            (_, None) => AccountRemoval::Forget,
        }
    }

    /// The quarantine OU must be a declared OU (checked once OUs are known).
    fn quarantine_ou(&mut self, src: SourceId, raw: &RawLandingZone, declared: &BTreeSet<String>) {
        let Some(removal) = &raw.account_removal else {
            return;
        };
        if removal.mode.as_ref().map(|m| *m.get_ref()) != Some(RawRemovalMode::Quarantine) {
            return;
        }
        if let Some(ou) = &removal.ou {
            let loc = self.loc(src, ou);
            self.ou_reference(ou.get_ref(), &loc, declared, OuRef::Quarantine);
        }
    }

    fn sim(&mut self, src: SourceId, raw: &RawSim) -> SimSettings {
        let throttle_rate = raw
            .throttle_rate
            .as_ref()
            .map(|t| *t.get_ref())
            .unwrap_or(0.0);
        if let Some(t) = &raw.throttle_rate
            && !(0.0..=1.0).contains(t.get_ref())
        {
            let loc = self.loc(src, t);
            self.push(
                Diagnostic::error(
                    "LF210",
                    format!("`throttle_rate` {} is not between 0 and 1", t.get_ref()),
                )
                .at(&loc, "a fraction of calls: 0.0 to 1.0")
                .help("e.g. `throttle_rate = 0.2` throttles one call in five"),
            );
        }
        if let Some(f) = &raw.fail_at
            && *f.get_ref() == 0
        {
            let loc = self.loc(src, f);
            self.push(
                Diagnostic::error("LF211", "`fail_at` counts from 1")
                    .at(&loc, "0 would never fail")
                    .help("`fail_at = 1` fails the first mutating call; remove `fail_at` to inject no failure"),
            );
        }
        if let Some(f) = &raw.fail_after_effect
            && *f.get_ref()
            && raw.fail_at.is_none()
        {
            let loc = self.loc(src, f);
            self.push(
                Diagnostic::warning(
                    "LF902",
                    "`fail_after_effect` has no effect without `fail_at`",
                )
                .at(&loc, "ignored")
                .help("set `fail_at = N` to choose the call that fails"),
            );
        }
        SimSettings {
            latency_ms: raw.latency_ms.unwrap_or(0),
            throttle_rate,
            fail_at: raw.fail_at.as_ref().map(|f| *f.get_ref()),
            fail_after_effect: raw.fail_after_effect.as_ref().is_some_and(|f| *f.get_ref()),
            account_creation_polls: raw.account_creation_polls.unwrap_or(1),
            seed: raw.seed.unwrap_or(0),
        }
    }

    // ----- OUs and accounts -----------------------------------------------------

    fn ous(&mut self, decls: &Merged<'_, RawOu>, settings: &Settings) -> Vec<CheckedOu> {
        let mut out = Vec::new();
        for decl in &decls.first {
            let Some(raw) = &decl.body else { continue };
            let name = &decl.name;
            let path = match OuPath::parse(name) {
                Ok(p) => p,
                Err(e) => {
                    self.push(
                        Diagnostic::error("LF300", format!("invalid OU path `{name}`"))
                            .at(&decl.key, e)
                            .help("OU paths are written below the root, e.g. [ou.\"Workloads/Workloads_Dev\"]"),
                    );
                    continue;
                }
            };
            let mut valid = true;
            for segment in name.split('/') {
                if let Some(problem) = rules::ou_segment_problem(segment) {
                    valid = false;
                    self.push(
                        Diagnostic::error("LF300", format!("invalid OU name in `{name}`"))
                            .at(&decl.key, problem)
                            .help(
                                "OU names are 1 to 128 characters with no leading or trailing spaces",
                            ),
                    );
                }
            }
            let max_depth = settings.quotas.ou_max_depth;
            if path.depth() > max_depth {
                self.push(
                    Diagnostic::error(
                        "LF302",
                        format!("OU `{name}` is {} levels deep; the limit is {max_depth}", path.depth()),
                    )
                    .at(&decl.key, format!("{} levels below the root", path.depth()))
                    .help(format!(
                        "AWS allows {max_depth} levels of OUs below the root (`ou_max_depth`); flatten the hierarchy"
                    )),
                );
            }
            if let Some(parent) = path.parent()
                && valid
                && !decls.names.contains(parent.as_str())
            {
                let mut missing = Vec::new();
                let mut p = Some(parent.clone());
                while let Some(q) = p {
                    if !decls.names.contains(q.as_str()) {
                        missing.push(format!("[ou.{}]", toml_key(q.as_str())));
                    }
                    p = q.parent();
                }
                missing.reverse();
                self.push(
                    Diagnostic::error(
                        "LF301",
                        format!("the parent OU `{parent}` of `{name}` is not declared"),
                    )
                    .at(&decl.key, format!("`{parent}` is not declared"))
                    .maybe_help(did_you_mean(
                        parent.as_str(),
                        decls
                            .names
                            .iter()
                            .map(String::as_str)
                            .filter(|c| !OuPath::new(*c).is_within(&path)),
                    ))
                    .help(format!(
                        "declare every parent: add {}",
                        missing.join(" and ")
                    )),
                );
            }
            let tags = self.tags(decl.key.source, raw.tags.as_ref(), &format!("ou.{name}"));
            out.push(CheckedOu {
                spec: OuSpec {
                    path,
                    tags,
                    origin: self.origin(&decl.key),
                },
                full_aws_access: raw
                    .full_aws_access
                    .as_ref()
                    .map(|f| (*f.get_ref(), self.loc(decl.key.source, f))),
                key: decl.key.clone(),
            });
        }
        out
    }

    fn accounts(
        &mut self,
        decls: &Merged<'_, RawAccount>,
        ous: &BTreeSet<String>,
        settings: &Settings,
    ) -> Vec<CheckedAccount> {
        let mut out = Vec::new();
        let mut emails: HashMap<String, Loc> = HashMap::new();
        let max = settings.quotas.max_accounts;
        for (i, decl) in decls.first.iter().enumerate() {
            let name = &decl.name;
            if i == max {
                self.push(
                    Diagnostic::error(
                        "LF308",
                        format!("{} accounts are declared; the limit is {max}", decls.first.len()),
                    )
                    .at(&decl.key, format!("account number {}", max + 1))
                    .help("raise `max_accounts` in [landing_zone.quotas] once AWS has raised your quota"),
                );
            }
            if let Some(problem) = rules::account_name_problem(name) {
                self.push(
                    Diagnostic::error("LF303", format!("invalid account name `{name}`"))
                        .at(&decl.key, problem)
                        .help("e.g. [account.ml-fraud-dev]"),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let email = raw.email.get_ref();
            let email_loc = self.loc(src, &raw.email);
            let length = email.chars().count();
            if !(6..=64).contains(&length) {
                self.push(
                    Diagnostic::error(
                        "LF305",
                        format!("the email of account `{name}` is {length} characters long"),
                    )
                    .at(&email_loc, "must be 6 to 64 characters")
                    .help("AWS accepts root emails of 6 to 64 characters"),
                );
            } else if let Some(problem) = rules::email_format_problem(email) {
                self.push(
                    Diagnostic::error(
                        "LF304",
                        format!("invalid email `{email}` for account `{name}`"),
                    )
                    .at(&email_loc, problem)
                    .help("e.g. `aws+log-archive@example.com`"),
                );
            }
            match emails.get(&email.to_lowercase()) {
                Some(first) => self.push(
                    Diagnostic::error("LF306", format!("email `{email}` is used by two accounts"))
                        .at(&email_loc, "used again here")
                        .at(first, "first used here")
                        .help("every account needs its own root email (compared case-insensitively); plus-addressing helps: `aws+name@example.com`"),
                ),
                None => {
                    emails.insert(email.to_lowercase(), email_loc);
                }
            }
            let ou = match &raw.ou {
                Some(ou) => {
                    let loc = self.loc(src, ou);
                    self.ou_reference(ou.get_ref(), &loc, ous, OuRef::Account(name))
                }
                None => None,
            };
            let tags = self.tags(src, raw.tags.as_ref(), &format!("account.{name}"));
            out.push(CheckedAccount {
                spec: AccountSpec {
                    name: name.clone(),
                    email: email.clone(),
                    ou,
                    tags,
                    allow_close: raw.allow_close.unwrap_or(false),
                    origin: self.origin(&decl.key),
                    project: None,
                    sso_user: None,
                },
                full_aws_access: raw
                    .full_aws_access
                    .as_ref()
                    .map(|f| (*f.get_ref(), self.loc(src, f))),
                key: decl.key.clone(),
            });
        }
        out
    }

    /// Resolves a reference to an OU by path; reports it when it is malformed or
    /// undeclared.
    fn ou_reference(
        &mut self,
        value: &str,
        loc: &Loc,
        declared: &BTreeSet<String>,
        by: OuRef<'_>,
    ) -> Option<OuPath> {
        let path = match OuPath::parse(value) {
            Ok(p) => p,
            Err(e) => {
                let message = match by {
                    OuRef::Account(a) => format!("account `{a}` has an invalid `ou`"),
                    OuRef::Quarantine => "the quarantine `ou` is not a valid OU path".to_string(),
                };
                self.push(
                    Diagnostic::error("LF307", message)
                        .at(loc, e)
                        .help(root_hint(value)),
                );
                return None;
            }
        };
        if declared.contains(value) {
            return Some(path);
        }
        let message = match by {
            OuRef::Account(a) => {
                format!("account `{a}` is placed in OU `{value}`, which is not declared")
            }
            OuRef::Quarantine => format!("the quarantine OU `{value}` is not declared"),
        };
        let mut d = Diagnostic::error("LF307", message).at(loc, "no such OU");
        // `ou = "ou:Security"`: the target syntax where a plain path belongs.
        let unprefixed = value
            .strip_prefix("ou:")
            .or_else(|| value.strip_prefix("ou."))
            .filter(|p| declared.contains(*p));
        if let Some(path) = unprefixed {
            d = d.help(format!("write the OU path alone: `ou = \"{path}\"`"));
        } else {
            d = d.maybe_help(did_you_mean(value, declared.iter().map(String::as_str)));
        }
        if value.eq_ignore_ascii_case("root") {
            d = d.help(root_hint(value));
        } else {
            d = d.help(format!("declare it with [ou.{}]", toml_key(value)));
        }
        self.push(d);
        None
    }

    // ----- SCPs -------------------------------------------------------------------

    fn scps(
        &mut self,
        decls: &Merged<'_, RawScp>,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        settings: &Settings,
        attachments: &mut BTreeSet<Attachment>,
    ) -> BTreeMap<String, PolicySpec> {
        let mut out = BTreeMap::new();
        for decl in &decls.first {
            let name = &decl.name;
            if name == FULL_AWS_ACCESS {
                self.push(
                    Diagnostic::error("LF400", format!("`{FULL_AWS_ACCESS}` is a reserved SCP name"))
                        .at(&decl.key, "AWS-managed policy")
                        .help("Landfall attaches FullAWSAccess itself: see `full_aws_access` on [landing_zone], OUs and accounts"),
                );
            } else if let Some(problem) = rules::scp_name_problem(name) {
                self.push(
                    Diagnostic::error("LF400", format!("invalid SCP name `{name}`"))
                        .at(&decl.key, problem)
                        .help("e.g. [scp.deny-leave-org]"),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let description = raw
                .description
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_default();
            if let Some(d) = &raw.description
                && d.get_ref().chars().count() > MAX_DESCRIPTION
            {
                let loc = self.loc(src, d);
                self.push(
                    Diagnostic::error(
                        "LF409",
                        format!(
                            "the description of SCP `{name}` is {} characters long",
                            d.get_ref().chars().count()
                        ),
                    )
                    .at(&loc, format!("at most {MAX_DESCRIPTION} characters"))
                    .help("shorten it; details belong in comments or the policy's documentation"),
                );
            }
            let content = self.scp_document(decl, raw, settings);
            let tags = self.tags(src, raw.tags.as_ref(), &format!("scp.{name}"));
            let targets = self.scp_targets(decl, raw, ous, accounts);
            for target in targets {
                attachments.insert(Attachment {
                    policy: name.clone(),
                    target,
                });
            }
            if let Some(content) = content {
                out.insert(
                    name.clone(),
                    PolicySpec {
                        name: name.clone(),
                        description,
                        content,
                        tags,
                        origin: self.origin(&decl.key),
                    },
                );
            }
        }
        out
    }

    /// Reads the document (inline or from its file) and checks it; the minified
    /// document when it is valid.
    fn scp_document(
        &mut self,
        decl: &Decl<RawScp>,
        raw: &RawScp,
        settings: &Settings,
    ) -> Option<String> {
        let src = decl.key.source;
        let name = &decl.name;
        let max = settings.quotas.scp_max_chars;
        match (&raw.content, &raw.file) {
            (Some(content), Some(file)) => {
                let file_loc = self.loc(src, file);
                let content_loc = self.loc(src, content);
                self.push(
                    Diagnostic::error(
                        "LF401",
                        format!("SCP `{name}` has both `content` and `file`"),
                    )
                    .at(&file_loc, "a file here")
                    .at(&content_loc, "and inline content here")
                    .help("keep one of them"),
                );
                None
            }
            (None, None) if decl.dropped("content") || decl.dropped("file") => None,
            (None, None) => {
                self.push(
                    Diagnostic::error("LF401", format!("SCP `{name}` has no policy document"))
                        .at(&decl.table, "neither `content` nor `file`")
                        .help("add `file = \"policies/NAME.json\"` or `content = '''{ ... }'''`"),
                );
                None
            }
            (Some(content), None) => {
                let declared_at = self.loc(src, content);
                let locate = self.inline_locator(src, content);
                let doc = scp::Document {
                    name,
                    text: content.get_ref(),
                    locate: &locate,
                    declared_at: &declared_at,
                };
                scp::check(&doc, max, self.sink)
            }
            (None, Some(file)) => {
                let declared_at = self.loc(src, file);
                let json_source = self.policy_file(
                    src,
                    file,
                    &format!("SCP `{name}`"),
                    "LF402",
                    "`file` is relative to the TOML file that declares the SCP",
                )?;
                let text = self.sources.text(json_source).to_string();
                let locate = |span: Range<usize>| Loc::new(json_source, span);
                let doc = scp::Document {
                    name,
                    text: &text,
                    locate: &locate,
                    declared_at: &declared_at,
                };
                scp::check(&doc, max, self.sink)
            }
        }
    }

    /// Maps byte ranges of an inline document (the value of a TOML string) to places
    /// in the TOML file, escapes and multi-line strings included; the whole string
    /// when the mapping is unknown.
    pub(crate) fn inline_locator(
        &self,
        src: SourceId,
        content: &Spanned<String>,
    ) -> impl Fn(Range<usize>) -> Loc + use<> {
        let declared_at = self.loc(src, content);
        let raw_text = self.sources.slice(&declared_at).to_string();
        let offsets = toml_string::offsets(&raw_text, content.get_ref());
        let start = declared_at.span.start;
        move |span: Range<usize>| -> Loc {
            let mapped = offsets.as_ref().and_then(|o| {
                let a = *o.get(span.start)?;
                let b = *o.get(span.end)?;
                Some(start + a..start + b.max(a))
            });
            match mapped {
                Some(s) => Loc::new(src, s),
                None => declared_at.clone(),
            }
        }
    }

    /// Reads and checks a resource policy document (VPC endpoint, KMS key), inline
    /// or from a file; the minified document when it is valid. Messages call it "the
    /// `kind` of `owner`" ("the key policy of KMS key `x`").
    pub(crate) fn resource_policy(
        &mut self,
        src: SourceId,
        source: PolicySource<'_>,
        owner: &str,
        kind: &str,
        rules: &policy_doc::Rules,
        region: &str,
    ) -> Option<policy_doc::Checked> {
        let what = &format!("the {kind} of {owner}");
        match source {
            PolicySource::Inline(content) => {
                let declared_at = self.loc(src, content);
                let locate = self.inline_locator(src, content);
                let doc = policy_doc::PolicyDoc {
                    what,
                    text: content.get_ref(),
                    locate: &locate,
                    declared_at: &declared_at,
                    region,
                };
                policy_doc::check(&doc, rules, self.sink)
            }
            PolicySource::File(file) => {
                let declared_at = self.loc(src, file);
                let json_source = self.policy_file(
                    src,
                    file,
                    owner,
                    rules.file_missing,
                    "policy files are relative to the TOML file that names them",
                )?;
                let text = self.sources.text(json_source).to_string();
                let locate = |span: Range<usize>| Loc::new(json_source, span);
                let doc = policy_doc::PolicyDoc {
                    what,
                    text: &text,
                    locate: &locate,
                    declared_at: &declared_at,
                    region,
                };
                policy_doc::check(&doc, rules, self.sink)
            }
        }
    }

    /// Reads a policy file (once, however many declarations use it) as a new source.
    /// `owner` names what the policy belongs to ("SCP `x`").
    fn policy_file(
        &mut self,
        src: SourceId,
        file: &Spanned<String>,
        owner: &str,
        code: &'static str,
        help: &str,
    ) -> Option<SourceId> {
        let path = resolve_relative(self.base_dir, self.sources.name(src), file.get_ref());
        let display = path.display().to_string();
        if let Some(id) = self.sources.find(&display) {
            return Some(id);
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                self.read.push(path);
                Some(self.sources.add(display, text))
            }
            Err(e) => {
                let loc = self.loc(src, file);
                let (message, label) = if e.kind() == std::io::ErrorKind::NotFound {
                    (
                        format!("policy file of {owner} not found"),
                        format!("no file at `{display}`"),
                    )
                } else {
                    (
                        format!("cannot read the policy file of {owner}"),
                        format!("`{display}`: {e}"),
                    )
                };
                self.push(Diagnostic::error(code, message).at(&loc, label).help(help));
                None
            }
        }
    }

    /// Parses and resolves `targets`; the valid ones.
    fn scp_targets(
        &mut self,
        decl: &Decl<RawScp>,
        raw: &RawScp,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> Vec<Target> {
        let src = decl.key.source;
        let name = &decl.name;
        let list = raw.targets.as_deref().unwrap_or_default();
        if list.is_empty() && name != FULL_AWS_ACCESS && !decl.dropped("targets") {
            self.push(
                Diagnostic::warning("LF900", format!("SCP `{name}` is declared but attached nowhere"))
                    .at(&decl.key, "no `targets`")
                    .help("add `targets = [\"ou:PATH\"]` (or `\"root\"`, `\"account:NAME\"`), or remove the SCP"),
            );
        }
        let mut out = Vec::new();
        let mut seen: HashMap<Target, Loc> = HashMap::new();
        for item in list {
            let loc = self.loc(src, item);
            let target = match Target::parse(item.get_ref()) {
                Ok(t) => t,
                Err(e) => {
                    // `Target::parse` explains the syntax; keep its specific complaints
                    // (an empty OU path segment) as the label.
                    let label = if e.contains("is not a target") {
                        "not a target".to_string()
                    } else {
                        e
                    };
                    self.push(
                        Diagnostic::error("LF410", format!("`{}` is not a target", item.get_ref()))
                            .at(&loc, label)
                            .help("a target is `root`, `ou:PATH` (e.g. `ou:Workloads/Workloads_Dev`) or `account:NAME`"),
                    );
                    continue;
                }
            };
            let resolved = self.target_declared(
                "LF411",
                &format!("SCP `{name}` targets"),
                &target,
                &loc,
                ous,
                accounts,
            );
            if let Some(first) = seen.get(&target) {
                self.push(
                    Diagnostic::warning(
                        "LF901",
                        format!("SCP `{name}` lists target `{}` twice", item.get_ref()),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.insert(target.clone(), loc);
            if resolved {
                out.push(target);
            }
        }
        out
    }

    // ----- attachments per target ---------------------------------------------

    /// Adds the implicit `FullAWSAccess` attachments, then checks every target has
    /// between 1 and `scps_per_target` SCPs.
    fn implicit_attachments(
        &mut self,
        ous: &[CheckedOu],
        accounts: &[CheckedAccount],
        landing_zone: Option<LzAccess>,
        settings: &Settings,
        attachments: &mut BTreeSet<Attachment>,
    ) {
        let mut targets: Vec<TargetCheck> = Vec::new();
        if let Some(lz) = &landing_zone {
            targets.push(TargetCheck {
                target: Target::Root,
                on: settings.full_aws_access,
                setting: lz.setting.clone(),
                declared_at: lz.setting.clone().unwrap_or_else(|| lz.key.clone()),
            });
        }
        let members = ous
            .iter()
            .map(|o| (Target::Ou(o.spec.path.clone()), &o.full_aws_access, &o.key))
            .chain(accounts.iter().map(|a| {
                (
                    Target::Account(a.spec.name.clone()),
                    &a.full_aws_access,
                    &a.key,
                )
            }));
        for (target, own, key) in members {
            targets.push(TargetCheck {
                target,
                on: own.as_ref().map_or(settings.full_aws_access, |(on, _)| *on),
                setting: own.as_ref().map(|(_, loc)| loc.clone()),
                declared_at: key.clone(),
            });
        }
        let max = settings.quotas.scps_per_target;
        let mut explicit: HashMap<Target, Vec<String>> = HashMap::new();
        for a in attachments.iter() {
            explicit
                .entry(a.target.clone())
                .or_default()
                .push(a.policy.clone());
        }
        for t in targets {
            let mut attached: Vec<&str> = Vec::new();
            if t.on {
                attachments.insert(Attachment {
                    policy: FULL_AWS_ACCESS.to_string(),
                    target: t.target.clone(),
                });
                attached.push(FULL_AWS_ACCESS);
            }
            if let Some(list) = explicit.get(&t.target) {
                attached.extend(list.iter().map(String::as_str));
            }
            let what = match &t.target {
                Target::Root => "the root".to_string(),
                other => format!("`{other}`"),
            };
            if attached.is_empty() {
                let mut d =
                    Diagnostic::error("LF413", format!("{what} would have no SCP attached"));
                // Point at the `full_aws_access = false` that applies: the target's own,
                // or (for the root, or a target that inherits it) the landing zone's
                // when the target has no declaration line of its own to blame.
                d = match (&t.target, &t.setting) {
                    (Target::Root, _) | (_, Some(_)) => d.at(
                        t.setting.as_ref().unwrap_or(&t.declared_at),
                        format!("`full_aws_access` is off and no SCP targets {what}"),
                    ),
                    (_, None) => d.at(
                        &t.declared_at,
                        "no SCP targets this, and the landing zone's `full_aws_access` is off",
                    ),
                };
                self.push(d.help(format!(
                    "AWS requires at least one SCP on every root, OU and account: attach one \
                     (`targets = [\"{}\"]`) or keep `full_aws_access = true`",
                    target_syntax(&t.target)
                )));
            } else if attached.len() > max {
                let list: Vec<String> = attached
                    .iter()
                    .map(|p| {
                        if *p == FULL_AWS_ACCESS {
                            format!("{p} (implicit)")
                        } else {
                            (*p).to_string()
                        }
                    })
                    .collect();
                self.push(
                    Diagnostic::error(
                        "LF412",
                        format!(
                            "{what} would have {} SCPs attached; the limit is {max}",
                            attached.len()
                        ),
                    )
                    .at(
                        &t.declared_at,
                        format!("{} SCPs attached here", attached.len()),
                    )
                    .help(format!(
                        "attached: {}.\nMerge policies, or attach some to a parent OU instead \
                         (SCPs are inherited); `scps_per_target` counts FullAWSAccess",
                        list.join(", ")
                    )),
                );
            }
        }
    }

    // ----- tags -------------------------------------------------------------------

    pub(crate) fn tags(&mut self, src: SourceId, raw: Option<&RawTags>, owner: &str) -> Tags {
        let Some(raw) = raw else {
            return Tags::new();
        };
        if raw.len() > rules::MAX_TAGS
            && let Some((key, _)) = raw.iter().nth(rules::MAX_TAGS)
        {
            let loc = self.loc(src, key);
            self.push(
                Diagnostic::error(
                    "LF500",
                    format!(
                        "`{owner}` has {} tags; AWS allows {}",
                        raw.len(),
                        rules::MAX_TAGS
                    ),
                )
                .at(&loc, format!("tag number {}", rules::MAX_TAGS + 1))
                .help("remove some tags"),
            );
        }
        let mut out = Tags::new();
        for (key, value) in raw {
            let k = key.get_ref();
            let key_loc = self.loc(src, key);
            let len = k.chars().count();
            if len == 0 || len > rules::MAX_TAG_KEY {
                self.push(
                    Diagnostic::error(
                        "LF501",
                        format!("tag key of `{owner}` is {len} characters long"),
                    )
                    .at(
                        &key_loc,
                        format!("must be 1 to {} characters", rules::MAX_TAG_KEY),
                    ),
                );
            } else if !rules::tag_chars_ok(k) {
                self.push(
                    Diagnostic::error(
                        "LF501",
                        format!("tag key `{k}` of `{owner}` has characters AWS does not allow"),
                    )
                    .at(&key_loc, "invalid characters")
                    .help("tag keys and values use letters, digits, spaces and `_ . : / = + - @`"),
                );
            }
            if k.to_lowercase().starts_with("aws:") {
                self.push(
                    Diagnostic::error(
                        "LF503",
                        format!("tag key `{k}` of `{owner}` uses the reserved `aws:` prefix"),
                    )
                    .at(&key_loc, "reserved for AWS")
                    .help("choose another prefix, e.g. your organization's name"),
                );
            }
            let v = value.get_ref();
            let value_loc = self.loc(src, value);
            let vlen = v.chars().count();
            if vlen > rules::MAX_TAG_VALUE {
                self.push(
                    Diagnostic::error(
                        "LF502",
                        format!("tag `{k}` of `{owner}` has a {vlen}-character value"),
                    )
                    .at(
                        &value_loc,
                        format!("at most {} characters", rules::MAX_TAG_VALUE),
                    ),
                );
            } else if !rules::tag_chars_ok(v) {
                self.push(
                    Diagnostic::error(
                        "LF502",
                        format!("tag `{k}` of `{owner}` has characters AWS does not allow"),
                    )
                    .at(&value_loc, "invalid characters")
                    .help("tag keys and values use letters, digits, spaces and `_ . : / = + - @`"),
                );
            }
            out.insert(k.clone(), v.clone());
        }
        out
    }
}

/// The quotas in force: the file's values, with the AWS default for any missing or
/// invalid (0) one, so a bad quota does not make every other check fail too.
fn effective_quotas(raw: &RawQuotas) -> Quotas {
    let defaults = Quotas::default();
    let pick = |v: &Option<Spanned<u64>>, default: usize| {
        v.as_ref()
            .map(|v| *v.get_ref())
            .filter(|v| *v > 0)
            .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
            .unwrap_or(default)
    };
    Quotas {
        scp_max_chars: pick(&raw.scp_max_chars, defaults.scp_max_chars),
        scps_per_target: pick(&raw.scps_per_target, defaults.scps_per_target),
        ou_max_depth: pick(&raw.ou_max_depth, defaults.ou_max_depth),
        max_accounts: pick(&raw.max_accounts, defaults.max_accounts),
        interface_endpoints_per_vpc: pick(
            &raw.interface_endpoints_per_vpc,
            defaults.interface_endpoints_per_vpc,
        ),
        endpoint_policy_max_chars: pick(
            &raw.endpoint_policy_max_chars,
            defaults.endpoint_policy_max_chars,
        ),
        key_policy_max_bytes: pick(&raw.key_policy_max_bytes, defaults.key_policy_max_bytes),
    }
}

fn quota_fields(raw: &RawQuotas) -> [(&'static str, &Option<Spanned<u64>>); 7] {
    [
        ("scp_max_chars", &raw.scp_max_chars),
        ("scps_per_target", &raw.scps_per_target),
        ("ou_max_depth", &raw.ou_max_depth),
        ("max_accounts", &raw.max_accounts),
        (
            "interface_endpoints_per_vpc",
            &raw.interface_endpoints_per_vpc,
        ),
        ("endpoint_policy_max_chars", &raw.endpoint_policy_max_chars),
        ("key_policy_max_bytes", &raw.key_policy_max_bytes),
    ]
}

fn root_hint(value: &str) -> String {
    if value.is_empty() || value.eq_ignore_ascii_case("root") || value == "/" {
        "to place an account directly under the root, leave out `ou`".to_string()
    } else {
        "OU paths look like `Workloads/Workloads_Dev`".to_string()
    }
}

/// A target as written in `targets`.
fn target_syntax(target: &Target) -> String {
    match target {
        Target::Root => "root".to_string(),
        Target::Ou(p) => format!("ou:{p}"),
        Target::Account(a) => format!("account:{a}"),
    }
}
