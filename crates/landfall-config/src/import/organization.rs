//! The organization layer of an import: OUs, accounts, SCPs and their targets,
//! `FullAWSAccess`, governed regions and quotas, read from the live organization and
//! written as the example file lays them out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::FULL_AWS_ACCESS;
use landfall_core::address::OuPath;
use landfall_core::live::{AccountStatus, LiveAccount};
use landfall_core::model::{BackendKind, Tags};

use super::names::{Mapped, Names};
use super::text::{banner, inline_strings, key, pretty_policy, string, string_array};
use super::{Doc, ImportRequest};
use crate::rules::region_problem;

pub(super) struct OuOut {
    pub id: String,
    pub path: OuPath,
    pub original: Option<String>,
    pub tags: Tags,
    pub full_aws_access: Option<bool>,
}

pub(super) struct AccountOut {
    pub id: String,
    pub name: String,
    pub original: Option<String>,
    pub email: String,
    pub ou: Option<OuPath>,
    pub tags: Tags,
    pub full_aws_access: Option<bool>,
}

pub(super) struct ScpOut {
    pub id: String,
    pub name: String,
    pub original: Option<String>,
    pub description: String,
    pub tags: Tags,
    /// `policies/NAME.json`.
    pub file: String,
    /// The document: pretty JSON, keys in canonical order.
    pub document: String,
    pub targets: Vec<String>,
    /// Targets it is attached to that are not declared.
    pub not_declared: Vec<String>,
}

/// The organization as it will be written.
pub(super) struct Org {
    pub ous: Vec<OuOut>,
    /// Live OU id → the path written.
    pub ou_paths: HashMap<String, OuPath>,
    pub accounts: Vec<AccountOut>,
    pub scps: Vec<ScpOut>,
    /// Comment lines: what was left out, and why.
    pub skipped: Vec<String>,
    /// `[drift] ignore` patterns: accounts left out are known, not drift.
    pub drift_ignore: Vec<String>,
    pub management: Option<LiveAccount>,
    pub governed_regions: Vec<String>,
    pub governed_comment: String,
    pub full_aws_access: bool,
    /// `[landing_zone.quotas]` raised above AWS's defaults to fit the organization.
    pub quotas: Vec<(&'static str, u64, String)>,
}

impl Org {
    /// The declared name of account `id`.
    pub fn account_name(&self, id: &str) -> Option<&str> {
        self.accounts
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.as_str())
    }

    /// (name, id) of every declared account, in file order.
    pub fn accounts_in_order(&self) -> Vec<(String, String)> {
        self.accounts
            .iter()
            .map(|a| (a.name.clone(), a.id.clone()))
            .collect()
    }

    /// The declared targets of a policy attached to `attached` (sorted as the example
    /// lists them), and those not declared (the management account with `why`).
    pub(super) fn targets_of<'t>(
        &self,
        attached: impl IntoIterator<Item = &'t str>,
        live: &landfall_core::live::LiveState,
        accounts: &HashMap<String, String>,
        why: &str,
    ) -> (Vec<String>, Vec<String>) {
        let mut targets = Vec::new();
        let mut not_declared = Vec::new();
        for target in attached {
            match self.target_of(target, &live.root_id, accounts) {
                Some(t) => targets.push(t),
                None if target == live.management_account_id => {
                    not_declared.push(format!("the management account {target} ({why})"))
                }
                None => not_declared.push(target.to_string()),
            }
        }
        sort_targets(&mut targets);
        (targets, not_declared)
    }

    /// The target text (`root`, `ou:PATH`, `account:NAME`) of a live target id, when
    /// it is declared.
    fn target_of(
        &self,
        id: &str,
        root_id: &str,
        accounts: &HashMap<String, String>,
    ) -> Option<String> {
        if id == root_id {
            return Some("root".into());
        }
        if let Some(path) = self.ou_paths.get(id) {
            return Some(format!("ou:{path}"));
        }
        accounts.get(id).map(|name| format!("account:{name}"))
    }
}

/// The regions a region-deny SCP allows: the values of `aws:RequestedRegion` under a
/// `StringNotEquals`-like condition of a `Deny` statement (the pattern AWS's and
/// Control Tower's region deny use). `None` when the document has no such statement.
pub fn governed_regions_of(document: &str) -> Option<Vec<String>> {
    let doc: serde_json::Value = serde_json::from_str(document).ok()?;
    let statements = match doc.get("Statement")? {
        serde_json::Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    let mut regions = BTreeSet::new();
    let mut found = false;
    for st in &statements {
        if st.get("Effect").and_then(|e| e.as_str()) != Some("Deny") {
            continue;
        }
        let Some(conditions) = st.get("Condition").and_then(|c| c.as_object()) else {
            continue;
        };
        for (operator, keys) in conditions {
            let op = operator.rsplit(':').next().unwrap_or(operator);
            if !matches!(
                op,
                "StringNotEquals" | "StringNotEqualsIgnoreCase" | "StringNotLike"
            ) {
                continue;
            }
            let Some(keys) = keys.as_object() else {
                continue;
            };
            for (k, values) in keys {
                if !k.eq_ignore_ascii_case("aws:RequestedRegion") {
                    continue;
                }
                found = true;
                let values = match values {
                    serde_json::Value::Array(items) => items.clone(),
                    one => vec![one.clone()],
                };
                for v in values.iter().filter_map(|v| v.as_str()) {
                    if region_problem(v).is_none() {
                        regions.insert(v.to_string());
                    }
                }
            }
        }
    }
    (found && !regions.is_empty()).then(|| regions.into_iter().collect())
}

/// AWS's default quotas Landfall checks offline (see `[landing_zone.quotas]`).
const SCPS_PER_TARGET: u64 = 10;
const OU_MAX_DEPTH: u64 = 5;
const MAX_ACCOUNTS: u64 = 10_000;
const SCP_MAX_CHARS: u64 = 10_240;

pub(super) fn read(req: &ImportRequest<'_>, warnings: &mut Vec<String>) -> Org {
    let live = req.live;
    let mut skipped = Vec::new();

    // OUs, parents first; siblings in name order so mapped names are stable.
    let mut children: BTreeMap<&str, Vec<&landfall_core::live::LiveOu>> = BTreeMap::new();
    for ou in live.ous.values() {
        children.entry(ou.parent_id.as_str()).or_default().push(ou);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    }
    let mut ous = Vec::new();
    let mut ou_paths: HashMap<String, OuPath> = HashMap::new();
    let mut queue: Vec<(String, Option<OuPath>)> = vec![(live.root_id.clone(), None)];
    while let Some((parent_id, parent_path)) = queue.pop() {
        let mut names = Names::default();
        for ou in children.get(parent_id.as_str()).into_iter().flatten() {
            let Mapped { name, original } = names.ou_segment(&ou.name, &ou.id);
            let path = match &parent_path {
                Some(p) => p.child(&name),
                None => OuPath::new(name),
            };
            if let Some(o) = &original {
                warnings.push(format!(
                    "OU {} ({}) is named `{o}` in AWS, which is not a Landfall OU name: written as `{path}`; the first plan renames it",
                    path, ou.id
                ));
            }
            ou_paths.insert(ou.id.clone(), path.clone());
            ous.push(OuOut {
                id: ou.id.clone(),
                path: path.clone(),
                original,
                tags: ou.tags.clone(),
                full_aws_access: None,
            });
            queue.push((ou.id.clone(), Some(path)));
        }
    }
    ous.sort_by(|a, b| a.path.cmp(&b.path));
    let orphans = live.ous.len() - ous.len();
    if orphans > 0 {
        warnings.push(format!(
            "{orphans} OU(s) could not be placed under the root and were left out"
        ));
    }

    // Accounts: active members only.
    let management = live.accounts.get(&live.management_account_id).cloned();
    let mut live_accounts: Vec<&LiveAccount> = live
        .accounts
        .values()
        .filter(|a| a.id != live.management_account_id)
        .collect();
    live_accounts.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut names = Names::default();
    let mut accounts = Vec::new();
    let mut drift_ignore = Vec::new();
    let mut account_names: HashMap<String, String> = HashMap::new();
    for a in live_accounts {
        if a.status != AccountStatus::Active {
            skipped.push(format!(
                "account {} `{}` <{}> is {}: not declared (Landfall manages active accounts)",
                a.id, a.name, a.email, a.status
            ));
            warnings.push(format!(
                "account {} `{}` is {}: not imported",
                a.id, a.name, a.status
            ));
            drift_ignore.push(format!("account.{}", glob_literal(&a.name)));
            continue;
        }
        let ou = if a.parent_id == live.root_id {
            None
        } else {
            match ou_paths.get(&a.parent_id) {
                Some(p) => Some(p.clone()),
                None => {
                    skipped.push(format!(
                        "account {} `{}`: its OU {} was not imported",
                        a.id, a.name, a.parent_id
                    ));
                    continue;
                }
            }
        };
        let Mapped { name, original } = names.account(&a.name, &a.id);
        // The key is the address; `name =` keeps the name AWS has, so nothing is
        // renamed. Only a name AWS itself would no longer accept is renamed.
        if let Some(o) = &original
            && crate::rules::aws_name_problem(o, 50, false).is_some()
        {
            warnings.push(format!(
                "account {} is named `{o}` in AWS, which PutAccountName would refuse: declared as account.{name}; the first plan renames it",
                a.id
            ));
        }
        account_names.insert(a.id.clone(), name.clone());
        accounts.push(AccountOut {
            id: a.id.clone(),
            name,
            original,
            email: a.email.clone(),
            ou,
            tags: a.tags.clone(),
            full_aws_access: None,
        });
    }
    accounts.sort_by(|a, b| (&a.ou, &a.name).cmp(&(&b.ou, &b.name)));

    // FullAWSAccess: the landing zone's default follows the root.
    let faa = live
        .policies
        .values()
        .find(|p| p.aws_managed && p.name == FULL_AWS_ACCESS);
    let full_aws_access = match faa {
        Some(p) => live
            .attachments
            .contains(&(p.id.clone(), live.root_id.clone())),
        None => {
            warnings.push(format!(
                "the AWS-managed {FULL_AWS_ACCESS} policy was not found (are SCPs enabled?): full_aws_access left at its default"
            ));
            true
        }
    };
    if let Some(faa) = faa {
        let on = |id: &str| live.attachments.contains(&(faa.id.clone(), id.to_string()));
        for ou in &mut ous {
            let has = on(&ou.id);
            ou.full_aws_access = (has != full_aws_access).then_some(has);
        }
        for a in &mut accounts {
            let has = on(&a.id);
            a.full_aws_access = (has != full_aws_access).then_some(has);
        }
    }

    let mut org = Org {
        ous,
        ou_paths,
        accounts,
        scps: Vec::new(),
        skipped,
        drift_ignore,
        management,
        governed_regions: Vec::new(),
        governed_comment: String::new(),
        full_aws_access,
        quotas: Vec::new(),
    };

    // SCPs: customer-managed ones, by name.
    let mut policies: Vec<_> = live.policies.values().collect();
    policies.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let mut names = Names::reserving(&[FULL_AWS_ACCESS]);
    for p in policies {
        if p.aws_managed {
            if p.name != FULL_AWS_ACCESS {
                let on: Vec<String> = live
                    .attachments
                    .iter()
                    .filter(|(pid, _)| *pid == p.id)
                    .map(|(_, t)| t.clone())
                    .collect();
                org.skipped.push(format!(
                    "AWS-managed SCP `{}` ({}), attached to {}: Landfall declares customer-managed SCPs only",
                    p.name,
                    p.id,
                    if on.is_empty() { "nothing".to_string() } else { on.join(", ") }
                ));
                warnings.push(format!("AWS-managed SCP `{}` is not imported", p.name));
            }
            continue;
        }
        let Mapped { name, original } = names.scp(&p.name, &p.id);
        if let Some(o) = &original
            && crate::rules::aws_name_problem(o, 128, true).is_some()
        {
            warnings.push(format!(
                "SCP {} is named `{o}` in AWS, which Landfall cannot declare: written as scp.{name}; the first plan renames it",
                p.id
            ));
        }
        let document = match pretty_policy(&p.content) {
            Some(pretty) => pretty,
            None => {
                warnings.push(format!(
                    "SCP {} `{}` is not JSON; written as AWS returned it",
                    p.id, p.name
                ));
                p.content.clone()
            }
        };
        let (targets, not_declared) = org.targets_of(
            live.attachments
                .iter()
                .filter(|(pid, _)| *pid == p.id)
                .map(|(_, target)| target.as_str()),
            live,
            &account_names,
            "SCPs do not apply to it",
        );
        if !not_declared.is_empty() {
            warnings.push(format!(
                "SCP `{}` is also attached to {}, which this import does not declare",
                p.name,
                not_declared.join(", ")
            ));
        }
        org.scps.push(ScpOut {
            id: p.id.clone(),
            file: format!("policies/{name}.json"),
            name,
            original,
            description: p.description.clone(),
            tags: p.tags.clone(),
            document,
            targets,
            not_declared,
        });
    }

    // Governed regions: from a region-deny SCP.
    let home = req.home_region.clone();
    let inferred = org
        .scps
        .iter()
        .find_map(|s| governed_regions_of(&s.document).map(|r| (s.name.clone(), r)));
    match inferred {
        Some((scp, mut regions)) => {
            org.governed_comment =
                format!("The regions scp.{scp} allows (its aws:RequestedRegion deny).");
            if !regions.contains(&home) {
                warnings.push(format!(
                    "scp.{scp} denies the home region {home}; governed_regions adds it"
                ));
                org.governed_comment.push_str(&format!(
                    "\nThe home region {home} is added: scp.{scp} denies it."
                ));
                regions.push(home.clone());
                regions.sort();
            }
            org.governed_regions = regions;
        }
        None => {
            org.governed_comment = "No region-deny SCP was found: only the home region. List the regions your\nworkloads use.".into();
            org.governed_regions = vec![home];
        }
    }

    // Quotas AWS raised for this organization, as the live organization shows them.
    let mut per_target: HashMap<&str, u64> = HashMap::new();
    for (_, t) in &live.attachments {
        *per_target.entry(t.as_str()).or_default() += 1;
    }
    let most = per_target.values().copied().max().unwrap_or(0);
    if most > SCPS_PER_TARGET {
        org.quotas.push((
            "scps_per_target",
            most,
            format!("a target has {most} SCPs attached"),
        ));
    }
    let depth = org
        .ous
        .iter()
        .map(|o| o.path.depth() as u64)
        .max()
        .unwrap_or(0);
    if depth > OU_MAX_DEPTH {
        org.quotas.push((
            "ou_max_depth",
            depth,
            format!("OUs nest {depth} levels deep"),
        ));
    }
    let count = live.accounts.len() as u64;
    if count > MAX_ACCOUNTS {
        org.quotas.push((
            "max_accounts",
            count,
            format!("the organization has {count} accounts"),
        ));
    }
    let longest = live
        .policies
        .values()
        .filter(|p| !p.aws_managed)
        .map(|p| {
            landfall_core::model::minify_json(&p.content).map_or(p.content.len(), |m| m.len())
                as u64
        })
        .max()
        .unwrap_or(0);
    if longest > SCP_MAX_CHARS {
        org.quotas.push((
            "scp_max_chars",
            longest,
            format!("an SCP is {longest} characters long"),
        ));
    }
    org
}

pub(super) fn write_landing_zone(doc: &mut Doc, req: &ImportRequest<'_>, org: &Org) {
    doc.line("[landing_zone]");
    doc.line(format!("name = {}", string(&req.name)));
    doc.line(format!("home_region = {}", string(&req.home_region)));
    doc.comment(&org.governed_comment);
    doc.line(format!(
        "governed_regions = {}",
        string_array(org.governed_regions.iter().map(String::as_str))
    ));
    doc.line(format!(
        "backend = {}",
        string(match req.backend {
            BackendKind::Sim => "sim",
            BackendKind::Aws => "aws",
        })
    ));
    if !org.full_aws_access {
        doc.comment(&format!(
            "{FULL_AWS_ACCESS} is not attached to the root: OUs and accounts that have it say so."
        ));
        doc.line("full_aws_access = false");
    }
    if !org.quotas.is_empty() {
        doc.blank();
        doc.comment("Quotas above AWS's defaults, as this organization shows them.");
        doc.line("[landing_zone.quotas]");
        for (k, v, why) in &org.quotas {
            doc.line(format!("{k} = {v}  # {why}"));
        }
    }
    if let Some(world) = &req.sim_world {
        doc.blank();
        doc.comment("The simulated organization this landing zone was imported from.");
        doc.line("[sim]");
        doc.line(format!("world = {}", string(world)));
    }
    if let Some(s3) = &req.s3_state {
        doc.blank();
        doc.line("[state]");
        doc.line("backend = \"s3\"");
        doc.line(format!("bucket = {}", string(&s3.bucket)));
        doc.line(format!("key = {}", string(&s3.key)));
        for (k, v) in [
            ("region", &s3.region),
            ("kms_key_id", &s3.kms_key_id),
            ("profile", &s3.profile),
            ("role_arn", &s3.role_arn),
        ] {
            if let Some(v) = v {
                doc.line(format!("{k} = {}", string(v)));
            }
        }
    }
    doc.blank();
}

/// The OUs (all of them, or one top-level OU's subtree).
pub(super) fn write_ous(doc: &mut Doc, org: &Org, top: Option<&str>) {
    let ous: Vec<&OuOut> = org
        .ous
        .iter()
        .filter(|o| top.is_none_or(|t| o.path.is_within(&OuPath::new(t))))
        .collect();
    if ous.is_empty() {
        return;
    }
    doc.text.push_str(&banner("Organizational units"));
    doc.blank();
    for ou in ous {
        doc.line(format!("[ou.{}]  # {}", key(ou.path.as_str()), ou.id));
        if let Some(o) = &ou.original {
            doc.comment(&format!("named {} in AWS", string(o)));
        }
        if !ou.tags.is_empty() {
            doc.line(format!("tags = {}", inline_strings(&ou.tags)));
        }
        if let Some(f) = ou.full_aws_access {
            doc.line(format!("full_aws_access = {f}"));
        }
        doc.blank();
    }
}

/// The accounts `keep` selects, under one banner, grouped by OU as the example groups
/// them (those under the root first).
pub(super) fn write_accounts(doc: &mut Doc, org: &Org, keep: impl Fn(&AccountOut) -> bool) {
    let accounts: Vec<&AccountOut> = org.accounts.iter().filter(|a| keep(a)).collect();
    if accounts.is_empty() {
        return;
    }
    doc.text.push_str(&banner("Accounts"));
    doc.blank();
    let mut current: Option<Option<&OuPath>> = None;
    for a in accounts {
        if current != Some(a.ou.as_ref()) {
            let title = match &a.ou {
                Some(ou) => format!("{ou} OU "),
                None => "Under the root ".into(),
            };
            let dashes = 81usize.saturating_sub(title.chars().count());
            doc.line(format!("# {title}{}", "-".repeat(dashes)));
            doc.blank();
            current = Some(a.ou.as_ref());
        }
        doc.line(format!("[account.{}]  # {}", key(&a.name), a.id));
        if let Some(o) = &a.original {
            if crate::rules::aws_name_problem(o, 50, false).is_none() {
                doc.line(format!("name = {}", string(o)));
            } else {
                doc.comment(&format!("named {} in AWS", string(o)));
            }
        }
        doc.line(format!("email = {}", string(&a.email)));
        if let Some(ou) = &a.ou {
            doc.line(format!("ou = {}", string(ou.as_str())));
        }
        if !a.tags.is_empty() {
            doc.line(format!("tags = {}", inline_strings(&a.tags)));
        }
        if let Some(f) = a.full_aws_access {
            doc.line(format!("full_aws_access = {f}"));
        }
        doc.blank();
    }
}

pub(super) fn write_scps(doc: &mut Doc, org: &Org) {
    if org.scps.is_empty() {
        return;
    }
    doc.text
        .push_str(&banner("Service control policies (documents in policies/)"));
    doc.blank();
    for s in &org.scps {
        doc.line(format!("[scp.{}]  # {}", key(&s.name), s.id));
        if let Some(o) = &s.original {
            if crate::rules::aws_name_problem(o, 128, true).is_none() {
                doc.line(format!("name = {}", string(o)));
            } else {
                doc.comment(&format!("named {} in AWS", string(o)));
            }
        }
        write_policy_body(
            doc,
            &s.description,
            &s.file,
            &s.tags,
            &s.targets,
            &s.not_declared,
        );
    }
}

/// What every organization policy's table has after its name: description, document
/// file, tags, targets, and the targets not declared as comments.
pub(super) fn write_policy_body(
    doc: &mut Doc,
    description: &str,
    file: &str,
    tags: &Tags,
    targets: &[String],
    not_declared: &[String],
) {
    if !description.is_empty() {
        doc.line(format!("description = {}", string(description)));
    }
    doc.line(format!("file = {}", string(file)));
    if !tags.is_empty() {
        doc.line(format!("tags = {}", inline_strings(tags)));
    }
    doc.line(format!(
        "targets = {}",
        string_array(targets.iter().map(String::as_str))
    ));
    for t in not_declared {
        doc.comment(&format!("also attached to {t}: not declared here"));
    }
    doc.blank();
}

pub(super) fn write_skipped(doc: &mut Doc, org: &Org) {
    if org.skipped.is_empty() {
        return;
    }
    doc.text.push_str(&banner("Not imported"));
    for s in &org.skipped {
        doc.comment(s);
    }
    doc.blank();
    if !org.drift_ignore.is_empty() {
        doc.comment("The accounts left out are known: `landfall drift` does not report them.");
        doc.line("[drift]");
        doc.line(format!(
            "ignore = {}",
            string_array(org.drift_ignore.iter().map(String::as_str))
        ));
        doc.blank();
    }
}

/// Targets as the example lists them: the root, then OUs, then accounts, each by name.
fn sort_targets(targets: &mut [String]) {
    targets.sort_by_key(|t| {
        let rank = if t == "root" {
            0
        } else if t.starts_with("ou:") {
            1
        } else {
            2
        };
        (rank, t.clone())
    });
}

/// A name as a glob pattern that matches only itself.
fn glob_literal(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '*' | '?' | '[' | ']' | '{' | '}' => format!("[{c}]"),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::governed_regions_of;

    #[test]
    fn governed_regions_come_from_a_region_deny_statement() {
        let doc = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Deny","NotAction":"iam:*","Resource":"*",
             "Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-west-2","us-east-1","nowhere"]}}}]}"#;
        assert_eq!(
            governed_regions_of(doc),
            Some(vec!["us-east-1".to_string(), "us-west-2".to_string()])
        );
        let like = r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"ForAnyValue:StringNotLike":{"AWS:RequestedRegion":"eu-west-1"}}}}"#;
        assert_eq!(
            governed_regions_of(like),
            Some(vec!["eu-west-1".to_string()])
        );
    }

    #[test]
    fn other_documents_say_nothing_about_regions() {
        for doc in [
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1"]}}}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
            "not json",
        ] {
            assert_eq!(governed_regions_of(doc), None, "{doc}");
        }
    }
}
