//! `[blueprint]` and `[project.NAME]`: an ML project expands, before the other
//! checks, into an account per stage (and a network and a KMS key per stage unless
//! the blueprint turns them off), so every rule of accounts, networks and keys
//! applies to what a project declares. The expanded declarations point at the
//! `[project.NAME]` table.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use ipnet::Ipv4Net;
use landfall_core::address::{Assignment, Principal};
use landfall_core::model::{DesiredState, IdentitySource};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::identity::{identity_source, personas};
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::raw::{
    RawAccount, RawAssignment, RawBlueprint, RawGroup, RawKmsKey, RawNetwork, RawProject,
    RawSubnet, RawTags,
};
use crate::rules;
use crate::sources::Loc;
use crate::suggest::did_you_mean;
use crate::validator::Validator;

/// The default email pattern of stage accounts.
pub const DEFAULT_EMAIL_PATTERN: &str = "aws+{project}-{stage}@example.com";
/// The default pool project VPCs are allocated from.
pub const DEFAULT_CIDR_POOL: &str = "10.64.0.0/10";

/// The blueprint in force: the `[blueprint]` table over the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blueprint {
    pub email_pattern: String,
    /// An IPv4 network address, e.g. `10.64.0.0/10`.
    pub cidr_pool: String,
    pub vpc_prefix: u8,
    pub subnet_prefix: u8,
    pub endpoints: Vec<String>,
    /// In order: the default stages first, then added ones.
    pub stages: Vec<Stage>,
    /// `personas`: the groups every project gets and where they work, in order.
    pub personas: Vec<PersonaAccess>,
}

/// One persona of `[blueprint] personas`: its group in each project gets, in each
/// stage listed, the declared permission set made from the persona named there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonaAccess {
    pub persona: String,
    /// Stage → permission set name.
    pub stages: BTreeMap<String, String>,
}

/// One stage of a project: an account in `ou`, with a network and a key unless off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    pub ou: String,
    pub scps: Vec<String>,
    pub network: bool,
    pub kms_key: bool,
}

impl Default for Blueprint {
    fn default() -> Self {
        let stage = |name: &str, ou: &str| Stage {
            name: name.into(),
            ou: ou.into(),
            scps: Vec::new(),
            network: true,
            kms_key: true,
        };
        Blueprint {
            email_pattern: DEFAULT_EMAIL_PATTERN.into(),
            cidr_pool: DEFAULT_CIDR_POOL.into(),
            vpc_prefix: 20,
            subnet_prefix: 24,
            endpoints: vec!["sagemaker".into()],
            stages: vec![
                stage("sandbox", "Sandbox"),
                stage("dev", "Workloads/Workloads_Dev"),
                stage("preprod", "Workloads/Workloads_Prod"),
                stage("prod", "Workloads/Workloads_Prod"),
                stage("automation", "Deployments/Deployments_Prod"),
            ],
            personas: Vec::new(),
        }
    }
}

impl Blueprint {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    pub fn stage_names(&self) -> Vec<String> {
        self.stages.iter().map(|s| s.name.clone()).collect()
    }
}

/// Why a project name is invalid (`[a-z0-9][a-z0-9-]{1,30}`), if it is.
pub fn project_name_problem(name: &str) -> Option<&'static str> {
    let len = name.chars().count();
    if !(2..=31).contains(&len) {
        return Some("a project name is 2 to 31 characters");
    }
    if !name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Some("a project name starts with a lowercase letter or a digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("a project name uses only lowercase letters, digits and `-`");
    }
    None
}

fn stage_name_problem(name: &str) -> Option<&'static str> {
    let ok = !name.is_empty()
        && name.len() <= 18
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (!ok).then_some("a stage name is 1 to 18 lowercase letters, digits and `-`")
}

/// Allocates a VPC block of the blueprint's size from its pool for each stage of
/// `stages` that has a network: the lowest blocks overlapping no network of
/// `desired` (nor each other), in stage order. Returns `(stage, cidr)` pairs.
pub fn allocate_cidrs(
    desired: &DesiredState,
    blueprint: &Blueprint,
    stages: &[String],
) -> Result<Vec<(String, String)>, String> {
    let pool: Ipv4Net = blueprint
        .cidr_pool
        .parse()
        .map_err(|e| format!("the blueprint's cidr_pool `{}`: {e}", blueprint.cidr_pool))?;
    let mut used: Vec<Ipv4Net> = desired
        .networks
        .values()
        .filter_map(|n| n.cidr.parse::<Ipv4Net>().ok())
        .collect();
    let overlaps = |a: &Ipv4Net, b: &Ipv4Net| a.contains(&b.network()) || b.contains(&a.network());
    let mut out = Vec::new();
    for stage in stages {
        if !blueprint.stage(stage).is_some_and(|s| s.network) {
            continue;
        }
        let candidates = pool.subnets(blueprint.vpc_prefix).map_err(|_| {
            format!(
                "the pool {pool} is smaller than a /{} VPC",
                blueprint.vpc_prefix
            )
        })?;
        let free = candidates
            .into_iter()
            .find(|c| !used.iter().any(|u| overlaps(u, c)))
            .ok_or_else(|| {
                format!(
                    "the CIDR pool {pool} has no free /{} block left for stage `{stage}`",
                    blueprint.vpc_prefix
                )
            })?;
        used.push(free);
        out.push((stage.clone(), free.to_string()));
    }
    Ok(out)
}

/// A stage as the blueprint declares it, with the places of its settings.
struct StageAt {
    stage: Stage,
    /// Declared SCP names (undeclared ones are reported and left out).
    scps: Vec<String>,
}

/// What the projects expand into.
pub(crate) struct Expansion {
    pub blueprint: Blueprint,
    /// The declared projects, with where each is declared.
    pub projects: Vec<(String, Loc)>,
    /// The expanded declarations (a file of its own, merged after the real ones).
    pub file: ParsedFile,
    /// `(scp, account)`: the stages' SCP attachments.
    pub attachments: Vec<(String, String)>,
    /// Expanded account, network and key names → their project.
    pub accounts: BTreeMap<String, String>,
    pub networks: BTreeMap<String, String>,
    pub kms_keys: BTreeMap<String, String>,
    /// Expanded groups and assignments → their project (an organization-wide
    /// persona's group belongs to none).
    pub groups: BTreeMap<String, String>,
    pub assignments: BTreeMap<Assignment, String>,
}

/// Names declared in the files, with where (the first declaration).
fn declared<T>(
    files: &[ParsedFile],
    get: impl Fn(&ParsedFile) -> &Vec<Decl<T>>,
) -> BTreeMap<String, Loc> {
    let mut out = BTreeMap::new();
    for f in files {
        for d in get(f) {
            out.entry(d.name.clone()).or_insert_with(|| d.key.clone());
        }
    }
    out
}

fn sp<T>(span: &Range<usize>, value: T) -> Spanned<T> {
    Spanned::new(span.clone(), value)
}

impl Validator<'_> {
    pub(crate) fn expand_projects(&mut self, files: &[ParsedFile]) -> Expansion {
        let scp_names: BTreeSet<String> = declared(files, |f| &f.scps).into_keys().collect();
        let (blueprint, stages) = self.blueprint(files, &scp_names);
        let mut out = Expansion {
            blueprint,
            projects: Vec::new(),
            file: ParsedFile::empty(files.first().map_or(0, |f| f.source)),
            attachments: Vec::new(),
            accounts: BTreeMap::new(),
            networks: BTreeMap::new(),
            kms_keys: BTreeMap::new(),
            groups: BTreeMap::new(),
            assignments: BTreeMap::new(),
        };
        let (source, _) = identity_source(files);
        let mut taken_groups = declared(files, |f| &f.groups);
        let home = files
            .iter()
            .filter_map(|f| f.landing_zone.as_ref()?.body.as_ref())
            .map(|lz| lz.home_region.get_ref().clone())
            .next();
        let mut taken_accounts = declared(files, |f| &f.accounts);
        let mut taken_networks = declared(files, |f| &f.networks);
        let mut taken_keys = declared(files, |f| &f.kms_keys);

        let decls = self.merge(files, |f| &f.projects, "project", "project");
        for decl in &decls.first {
            let project = &decl.name;
            out.projects.push((project.clone(), decl.key.clone()));
            if let Some(problem) = project_name_problem(project) {
                self.push(
                    Diagnostic::error("LF800", format!("invalid project name `{project}`"))
                        .at(&decl.key, problem)
                        .help(
                            "project names are `[a-z0-9][a-z0-9-]{1,30}`, e.g. \
                             [project.fraud-detection]: they prefix the names of the \
                             project's accounts, networks and keys",
                        ),
                );
                continue;
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let kspan = decl.key.span.clone();
            let names = self.project_stages(decl, raw, &stages);
            let region = match &raw.region {
                Some(r) => r.clone(),
                None => sp(&kspan, home.clone().unwrap_or_default()),
            };
            let cidrs: BTreeMap<String, &Spanned<String>> = raw
                .cidrs
                .iter()
                .flatten()
                .map(|(k, v)| (k.get_ref().clone(), v))
                .collect();
            for (key, _) in raw.cidrs.iter().flatten() {
                let with_network = names
                    .iter()
                    .any(|s| &s.stage.name == key.get_ref() && s.stage.network);
                if !with_network {
                    let loc = self.loc(src, key);
                    self.push(
                        Diagnostic::error(
                            "LF804",
                            format!(
                                "project `{project}` has a CIDR for stage `{}`, which it does \
                                 not have or which has no network",
                                key.get_ref()
                            ),
                        )
                        .at(&loc, "no such stage with a network")
                        .help("remove this entry, or add the stage to `stages`"),
                    );
                }
            }
            let mut tags = RawTags::new();
            tags.insert(sp(&kspan, "project".into()), sp(&kspan, project.clone()));
            if let Some(owner) = &raw.owner {
                tags.insert(sp(&kspan, "owner".into()), owner.clone());
            }
            if let Some(cc) = &raw.cost_center {
                tags.insert(sp(&kspan, "cost-center".into()), cc.clone());
            }
            let mut stage_accounts: Vec<(String, String)> = Vec::new();
            for s in names {
                let stage = &s.stage;
                let name = format!("{project}-{}", stage.name);
                let mut tags = tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<RawTags>();
                tags.insert(
                    sp(&kspan, "environment".into()),
                    sp(&kspan, stage.name.clone()),
                );
                let account_ok = self.claim(&mut taken_accounts, &name, decl, "account");
                if account_ok {
                    let email = out
                        .blueprint
                        .email_pattern
                        .replace("{project}", project)
                        .replace("{stage}", &stage.name);
                    out.file.accounts.push(synthetic(
                        decl,
                        &name,
                        RawAccount {
                            name: None,
                            email: sp(&kspan, email),
                            ou: Some(sp(&kspan, stage.ou.clone())),
                            tags: Some(clone_tags(&tags)),
                            allow_close: None,
                            full_aws_access: None,
                            sso_user: None,
                        },
                    ));
                    out.accounts.insert(name.clone(), project.clone());
                    stage_accounts.push((stage.name.clone(), name.clone()));
                    for scp in &s.scps {
                        out.attachments.push((scp.clone(), name.clone()));
                    }
                }
                if stage.network {
                    let network = self.stage_network(
                        decl,
                        &name,
                        &stage.name,
                        cidrs.get(&stage.name).copied(),
                        &region,
                        &out.blueprint,
                        &tags,
                    );
                    if let Some(network) = network
                        && self.claim(&mut taken_networks, &name, decl, "network")
                    {
                        out.file.networks.push(network);
                        out.networks.insert(name.clone(), project.clone());
                    }
                }
                if stage.kms_key && self.claim(&mut taken_keys, &name, decl, "kms_key") {
                    out.file.kms_keys.push(synthetic(
                        decl,
                        &name,
                        RawKmsKey {
                            account: sp(&kspan, name.clone()),
                            region: region.clone(),
                            description: Some(sp(
                                &kspan,
                                format!("ML project {project}, stage {}", stage.name),
                            )),
                            policy: None,
                            policy_file: None,
                            rotation: Some(true),
                            alias: Some(sp(&kspan, format!("alias/{name}"))),
                            tags: Some(clone_tags(&tags)),
                            deletion_window_days: None,
                            bypass_lockout_check: None,
                        },
                    ));
                    out.kms_keys.insert(name.clone(), project.clone());
                }
            }
            self.project_access(decl, &stage_accounts, source, &mut taken_groups, &mut out);
        }
        out
    }

    /// A project's persona groups (`[group.PROJECT-GROUP]`, or the organization-wide
    /// group, declared once) and their assignments in its stage accounts.
    fn project_access(
        &mut self,
        decl: &Decl<RawProject>,
        stage_accounts: &[(String, String)],
        source: IdentitySource,
        taken_groups: &mut BTreeMap<String, Loc>,
        out: &mut Expansion,
    ) {
        let project = &decl.name;
        let kspan = decl.key.span.clone();
        for access in out.blueprint.personas.clone() {
            let Some(persona) = personas::get(&access.persona) else {
                continue;
            };
            let Some(group) = persona.group_name(project) else {
                continue;
            };
            let project_scoped = persona.scope == Some(personas::Scope::Project);
            // With an external identity source the IdP provisions the group; the
            // assignments name it as it exists.
            if source == IdentitySource::IdentityCenter {
                let description = if project_scoped {
                    format!("ML project {project}: persona {}", access.persona)
                } else {
                    format!("Persona {} (every ML project)", access.persona)
                };
                let create = if project_scoped {
                    if !self.claim(taken_groups, &group, decl, "group") {
                        continue;
                    }
                    out.groups.insert(group.clone(), project.clone());
                    true
                } else if taken_groups.contains_key(&group) {
                    // Declared in the files, or by an earlier project: one group.
                    false
                } else {
                    taken_groups.insert(group.clone(), decl.key.clone());
                    true
                };
                if create {
                    out.file.groups.push(synthetic(
                        decl,
                        &group,
                        RawGroup {
                            description: Some(sp(&kspan, description)),
                        },
                    ));
                }
            }
            for (stage, account) in stage_accounts {
                let Some(set) = access.stages.get(stage) else {
                    continue;
                };
                out.assignments.insert(
                    Assignment {
                        permission_set: set.clone(),
                        principal: Principal::Group(group.clone()),
                        account: account.clone(),
                    },
                    project.clone(),
                );
                out.file.assignments.push(synthetic(
                    decl,
                    "assignment",
                    RawAssignment {
                        permission_set: sp(&kspan, set.clone()),
                        group: Some(sp(&kspan, group.clone())),
                        user: None,
                        targets: sp(&kspan, vec![sp(&kspan, format!("account:{account}"))]),
                    },
                ));
            }
        }
    }

    /// Records an expanded name; reports it when something else already has it.
    fn claim(
        &mut self,
        taken: &mut BTreeMap<String, Loc>,
        name: &str,
        decl: &Decl<RawProject>,
        section: &str,
    ) -> bool {
        if let Some(other) = taken.get(name) {
            let other = other.clone();
            let what = if other == decl.key {
                "this project again".to_string()
            } else {
                format!("[{section}.{}] is declared here", toml_key(name))
            };
            self.push(
                Diagnostic::error(
                    "LF805",
                    format!(
                        "project `{}` would declare [{section}.{}], which already exists",
                        decl.name,
                        toml_key(name)
                    ),
                )
                .at(&decl.key, format!("expands into {section} `{name}`"))
                .at(&other, what)
                .help(
                    "a project's resources are named PROJECT-STAGE: rename the project or \
                     the other declaration",
                ),
            );
            return false;
        }
        taken.insert(name.to_string(), decl.key.clone());
        true
    }

    /// The stages a project has, checked against the blueprint.
    fn project_stages<'s>(
        &mut self,
        decl: &Decl<RawProject>,
        raw: &RawProject,
        stages: &'s [StageAt],
    ) -> Vec<&'s StageAt> {
        let Some(list) = &raw.stages else {
            return stages.iter().collect();
        };
        let src = decl.key.source;
        if list.get_ref().is_empty() {
            let loc = self.loc(src, list);
            self.push(
                Diagnostic::error("LF802", format!("project `{}` has no stage", decl.name))
                    .at(&loc, "empty")
                    .help("list at least one stage, or leave `stages` out for all of them"),
            );
        }
        let all: Vec<&str> = stages.iter().map(|s| s.stage.name.as_str()).collect();
        let mut out: Vec<&StageAt> = Vec::new();
        for item in list.get_ref() {
            let loc = self.loc(src, item);
            let name = item.get_ref();
            match stages.iter().find(|s| &s.stage.name == name) {
                Some(_) if out.iter().any(|s| &s.stage.name == name) => self.push(
                    Diagnostic::error(
                        "LF802",
                        format!("project `{}` lists stage `{name}` twice", decl.name),
                    )
                    .at(&loc, "listed again here")
                    .help("remove one of them"),
                ),
                Some(s) => out.push(s),
                None => self.push(
                    Diagnostic::error(
                        "LF802",
                        format!("project `{}` has an unknown stage `{name}`", decl.name),
                    )
                    .at(&loc, "not a stage of the blueprint")
                    .maybe_help(did_you_mean(name, all.iter().copied()))
                    .help(format!(
                        "the stages are {}; add others with [blueprint.stage.NAME]",
                        all.iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                ),
            }
        }
        out
    }

    /// The network of one stage, or `None` (reported) when its CIDR is missing or
    /// unusable.
    #[expect(
        clippy::too_many_arguments,
        reason = "one stage's inputs, each a different part of the project declaration"
    )]
    fn stage_network(
        &mut self,
        decl: &Decl<RawProject>,
        name: &str,
        stage: &str,
        cidr: Option<&Spanned<String>>,
        region: &Spanned<String>,
        blueprint: &Blueprint,
        tags: &RawTags,
    ) -> Option<Decl<RawNetwork>> {
        let project = &decl.name;
        let kspan = decl.key.span.clone();
        let Some(cidr) = cidr else {
            self.push(
                Diagnostic::error(
                    "LF803",
                    format!("project `{project}` has no CIDR for stage `{stage}`"),
                )
                .at(&decl.key, format!("`cidrs.{stage}` is missing"))
                .help(format!(
                    "add `{stage} = \"A.B.C.D/{}\"` to the project's `cidrs` (a block no other \
                     network uses), or remove the project and run `landfall project new \
                     {project}`, which allocates them from the blueprint's pool",
                    blueprint.vpc_prefix
                )),
            );
            return None;
        };
        let loc = self.loc(decl.key.source, cidr);
        let bad = |why: String| {
            Diagnostic::error(
                "LF804",
                format!("the CIDR of stage `{stage}` of project `{project}` is not usable"),
            )
            .at(&loc, why)
        };
        let vpc = match rules::parse_cidr(cidr.get_ref()) {
            Ok(v) => v,
            Err(rules::CidrProblem::Malformed(why)) => {
                self.push(bad(why).help("e.g. `10.64.0.0/20`"));
                return None;
            }
            Err(rules::CidrProblem::HostBits(net)) => {
                self.push(bad("host bits are set".into()).help(format!("did you mean `{net}`?")));
                return None;
            }
        };
        let subnets: Vec<Ipv4Net> = vpc
            .subnets(blueprint.subnet_prefix)
            .map(|it| it.take(2).collect())
            .unwrap_or_default();
        if subnets.len() < 2 || !(16..=28).contains(&vpc.prefix_len()) {
            self.push(bad(format!(
                "a stage VPC is a /16 to /28 block with room for two /{} subnets",
                blueprint.subnet_prefix
            )));
            return None;
        }
        let region_name = region.get_ref();
        let subnets = subnets
            .iter()
            .zip(["a", "b"])
            .map(|(net, az)| RawSubnet {
                az: sp(&kspan, format!("{region_name}{az}")),
                cidr: sp(&kspan, net.to_string()),
            })
            .collect();
        let endpoints = blueprint
            .endpoints
            .iter()
            .map(|e| sp(&kspan, e.clone()))
            .collect();
        Some(synthetic(
            decl,
            name,
            RawNetwork {
                account: sp(&kspan, name.to_string()),
                region: region.clone(),
                cidr: cidr.clone(),
                tags: Some(clone_tags(tags)),
                subnets: sp(&kspan, subnets),
                endpoints: Some(sp(&kspan, endpoints)),
                private_dns: None,
                endpoint_policy: None,
                endpoint_policy_file: None,
                endpoint: None,
            },
        ))
    }

    /// The blueprint in force, and its stages' declared SCPs.
    fn blueprint(
        &mut self,
        files: &[ParsedFile],
        scps: &BTreeSet<String>,
    ) -> (Blueprint, Vec<StageAt>) {
        let decls: Vec<&Decl<RawBlueprint>> =
            files.iter().filter_map(|f| f.blueprint.as_ref()).collect();
        self.singleton(&decls, "LF801", "[blueprint]");
        let mut bp = Blueprint::default();
        let mut stage_scps: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let Some((decl, raw)) = decls.first().and_then(|d| d.body.as_ref().map(|b| (*d, b))) else {
            let stages = bp
                .stages
                .iter()
                .map(|s| StageAt {
                    stage: s.clone(),
                    scps: Vec::new(),
                })
                .collect();
            return (bp, stages);
        };
        let src = decl.key.source;
        let invalid = |what: String| Diagnostic::error("LF807", what);
        if let Some(p) = &raw.email_pattern {
            let loc = self.loc(src, p);
            if !p.get_ref().contains("{project}") || !p.get_ref().contains("{stage}") {
                self.push(
                    invalid("`email_pattern` must contain `{project}` and `{stage}`".into())
                        .at(&loc, "one email per project and stage")
                        .help(format!("e.g. `{DEFAULT_EMAIL_PATTERN}`")),
                );
            }
            bp.email_pattern = p.get_ref().clone();
        }
        if let Some(pool) = &raw.cidr_pool {
            let loc = self.loc(src, pool);
            match rules::parse_cidr(pool.get_ref()) {
                Ok(net) => bp.cidr_pool = net.to_string(),
                Err(e) => {
                    let why = match e {
                        rules::CidrProblem::Malformed(why) => why,
                        rules::CidrProblem::HostBits(net) => {
                            format!("host bits are set (did you mean `{net}`?)")
                        }
                    };
                    self.push(
                        invalid(format!(
                            "`cidr_pool` `{}` is not an IPv4 network address",
                            pool.get_ref()
                        ))
                        .at(&loc, why)
                        .help(format!("e.g. `{DEFAULT_CIDR_POOL}`")),
                    );
                }
            }
        }
        if let Some(v) = &raw.vpc_prefix {
            let loc = self.loc(src, v);
            match u8::try_from(*v.get_ref()) {
                Ok(n) if (16..=28).contains(&n) => bp.vpc_prefix = n,
                _ => self.push(
                    invalid(format!("`vpc_prefix` {} is not 16 to 28", v.get_ref()))
                        .at(&loc, "AWS VPCs are /16 to /28"),
                ),
            }
        }
        if let Some(v) = &raw.subnet_prefix {
            let loc = self.loc(src, v);
            match u8::try_from(*v.get_ref()) {
                Ok(n) if n > bp.vpc_prefix && n <= 28 => bp.subnet_prefix = n,
                _ => self.push(
                    invalid(format!(
                        "`subnet_prefix` {} does not fit two subnets in a /{} VPC",
                        v.get_ref(),
                        bp.vpc_prefix
                    ))
                    .at(&loc, format!("must be {} to 28", bp.vpc_prefix + 1)),
                ),
            }
        } else if bp.subnet_prefix <= bp.vpc_prefix {
            bp.subnet_prefix = (bp.vpc_prefix + 1).min(28);
        }
        if let Some(list) = &raw.endpoints {
            bp.endpoints = list.iter().map(|e| e.get_ref().clone()).collect();
        }
        for (key, stage) in raw.stage.iter().flatten() {
            let name = key.get_ref();
            let key_loc = self.loc(src, key);
            if let Some(problem) = stage_name_problem(name) {
                self.push(
                    invalid(format!("invalid stage name `{name}`"))
                        .at(&key_loc, problem)
                        .help("e.g. [blueprint.stage.qa]"),
                );
                continue;
            }
            let existing = bp.stages.iter().position(|s| &s.name == name);
            let ou = match (&stage.ou, existing) {
                (Some(ou), _) => ou.get_ref().clone(),
                (None, Some(i)) => bp.stages[i].ou.clone(),
                (None, None) => {
                    self.push(
                        invalid(format!("stage `{name}` has no `ou`"))
                            .at(&key_loc, "a new stage needs an OU")
                            .help("add `ou = \"PATH\"`: the OU of the stage's accounts"),
                    );
                    continue;
                }
            };
            let mut declared_scps = Vec::new();
            for scp in stage.scps.iter().flatten() {
                if scps.contains(scp.get_ref()) {
                    declared_scps.push(scp.get_ref().clone());
                } else {
                    let loc = self.loc(src, scp);
                    self.push(
                        Diagnostic::error(
                            "LF806",
                            format!(
                                "stage `{name}` attaches SCP `{}`, which is not declared",
                                scp.get_ref()
                            ),
                        )
                        .at(&loc, "no such SCP")
                        .maybe_help(did_you_mean(scp.get_ref(), scps.iter().map(String::as_str)))
                        .help(format!("declare it with [scp.{}]", toml_key(scp.get_ref()))),
                    );
                }
            }
            let new = Stage {
                name: name.clone(),
                ou,
                scps: stage
                    .scps
                    .iter()
                    .flatten()
                    .map(|s| s.get_ref().clone())
                    .collect(),
                network: stage
                    .network
                    .unwrap_or_else(|| existing.is_none_or(|i| bp.stages[i].network)),
                kms_key: stage
                    .kms_key
                    .unwrap_or_else(|| existing.is_none_or(|i| bp.stages[i].kms_key)),
            };
            stage_scps.insert(name.clone(), declared_scps);
            match existing {
                Some(i) => bp.stages[i] = new,
                None => bp.stages.push(new),
            }
        }
        bp.personas = self.blueprint_personas(files, src, raw, &bp);
        let stages = bp
            .stages
            .iter()
            .map(|s| StageAt {
                stage: s.clone(),
                scps: stage_scps.get(&s.name).cloned().unwrap_or_default(),
            })
            .collect();
        (bp, stages)
    }
}

impl Validator<'_> {
    /// `[blueprint] personas` and `access`: each persona's stages resolved to the
    /// declared permission sets made from the personas they name.
    fn blueprint_personas(
        &mut self,
        files: &[ParsedFile],
        src: crate::sources::SourceId,
        raw: &RawBlueprint,
        bp: &Blueprint,
    ) -> Vec<PersonaAccess> {
        let invalid = |what: String| Diagnostic::error("LF890", what);
        // Persona → the declared permission sets made from it, in name order.
        let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in files {
            for d in &f.permission_sets {
                if let Some(p) = d.body.as_ref().and_then(|b| b.persona.as_ref()) {
                    sets.entry(p.get_ref().clone())
                        .or_default()
                        .insert(d.name.clone());
                }
            }
        }
        let stage_names: Vec<&str> = bp.stages.iter().map(|s| s.name.as_str()).collect();
        let mut out = Vec::new();
        let mut listed: BTreeMap<String, Loc> = BTreeMap::new();
        for item in raw.personas.iter().flatten() {
            let key = item.get_ref();
            let loc = self.loc(src, item);
            let Some(persona) = personas::get(key) else {
                self.push(
                    invalid(format!(
                        "the blueprint names persona `{key}`, which is not a preset"
                    ))
                    .at(&loc, "no such persona")
                    .maybe_help(did_you_mean(key, personas::keys()))
                    .help(format!("the personas are {}", personas::known_list())),
                );
                continue;
            };
            if persona.scope.is_none() {
                self.push(
                    invalid(format!("persona `{key}` has no group of its own"))
                        .at(&loc, "a companion permission set")
                        .help(
                            "other personas' groups get it in some stages (see their `stages` \
                             in personas.toml, or set them with [blueprint.access.PERSONA]); \
                             remove it from `personas`",
                        ),
                );
                continue;
            }
            if let Some(first) = listed.get(key) {
                self.push(
                    invalid(format!("the blueprint lists persona `{key}` twice"))
                        .at(&loc, "listed again here")
                        .at(first, "first listed here")
                        .help("remove one of them"),
                );
                continue;
            }
            listed.insert(key.clone(), loc.clone());
            // Stage → persona: the blueprint's `access` for this persona, or the preset's.
            let mut stages: Vec<(String, String, Loc)> = persona
                .stages
                .iter()
                .filter(|(stage, _)| stage_names.contains(&stage.as_str()))
                .map(|(stage, p)| (stage.clone(), p.clone(), loc.clone()))
                .collect();
            let overrides = raw
                .access
                .iter()
                .flatten()
                .find(|(k, _)| k.get_ref() == key);
            if let Some((_, map)) = overrides {
                stages.clear();
                for (stage, p) in map {
                    let stage_loc = self.loc(src, stage);
                    let p_loc = self.loc(src, p);
                    if !stage_names.contains(&stage.get_ref().as_str()) {
                        self.push(
                            invalid(format!(
                                "persona `{key}` is given access in stage `{}`, which the blueprint does not have",
                                stage.get_ref()
                            ))
                            .at(&stage_loc, "no such stage")
                            .maybe_help(did_you_mean(stage.get_ref(), stage_names.iter().copied()))
                            .help(format!("the stages are {}", stage_names.join(", "))),
                        );
                        continue;
                    }
                    if personas::get(p.get_ref()).is_none() {
                        self.push(
                            invalid(format!("`{}` is not a persona", p.get_ref()))
                                .at(&p_loc, "no such persona")
                                .maybe_help(did_you_mean(p.get_ref(), personas::keys()))
                                .help(format!(
                                    "a stage names the persona whose permission set the group gets there: {}",
                                    personas::known_list()
                                )),
                        );
                        continue;
                    }
                    stages.push((stage.get_ref().clone(), p.get_ref().clone(), p_loc));
                }
            }
            let mut resolved = BTreeMap::new();
            let mut missing: BTreeMap<String, (Vec<String>, Loc)> = BTreeMap::new();
            for (stage, p, at) in stages {
                let preferred = personas::get(&p).map(|x| x.permission_set.as_str());
                let candidates = sets.get(&p);
                let chosen = match candidates {
                    Some(c) if c.len() == 1 => c.iter().next().cloned(),
                    Some(c) => preferred.filter(|n| c.contains(*n)).map(str::to_string),
                    None => None,
                };
                match chosen {
                    Some(set) => {
                        resolved.insert(stage, set);
                    }
                    None => {
                        let entry = missing.entry(p).or_insert_with(|| (Vec::new(), at));
                        entry.0.push(stage);
                    }
                }
            }
            for (p, (stages, at)) in missing {
                let suggested = personas::get(&p).map_or("NAME", |x| x.permission_set.as_str());
                let several = sets.get(&p).filter(|c| c.len() > 1);
                let d = match several {
                    Some(c) => invalid(format!(
                        "persona `{key}`'s group gets persona `{p}`'s permission set in {}, and several are declared: {}",
                        stages.join(", "),
                        c.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                    ))
                    .at(&at, "which one is ambiguous")
                    .help(format!(
                        "the blueprint uses the one named as the preset suggests, `{suggested}`: \
                         rename one of them so, or keep one with `persona = \"{p}\"`"
                    )),
                    None => invalid(format!(
                        "persona `{key}`'s group gets persona `{p}`'s permission set in {}, but no permission set is made from it",
                        stages.join(", ")
                    ))
                    .at(&at, format!("needs a [permission_set] with `persona = \"{p}\"`"))
                    .help(format!(
                        "declare it once for the organization: [permission_set.{suggested}] with \
                         `persona = \"{p}\"`"
                    )),
                };
                self.push(d);
            }
            out.push(PersonaAccess {
                persona: key.clone(),
                stages: resolved,
            });
        }
        for (k, _) in raw.access.iter().flatten() {
            if !listed.contains_key(k.get_ref()) {
                let loc = self.loc(src, k);
                self.push(
                    invalid(format!(
                        "[blueprint.access.{}] is for a persona `personas` does not list",
                        k.get_ref()
                    ))
                    .at(&loc, "not in `personas`")
                    .help(format!(
                        "add \"{}\" to `personas`, or remove this table",
                        k.get_ref()
                    )),
                );
            }
        }
        out
    }
}

fn clone_tags(tags: &RawTags) -> RawTags {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn synthetic<T>(decl: &Decl<RawProject>, name: &str, body: T) -> Decl<T> {
    Decl {
        name: name.to_string(),
        key: decl.key.clone(),
        table: decl.table.clone(),
        body: Some(body),
        dropped: Vec::new(),
    }
}
