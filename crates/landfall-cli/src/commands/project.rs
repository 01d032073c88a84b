//! `landfall project new NAME`: adds a `[project.NAME]` table to the desired state
//! (its own file in a directory layout, appended with `toml_edit` to a single file so
//! the user's formatting and comments stay), with a VPC block per stage allocated from
//! the blueprint's pool. The result is validated before anything is written; on any
//! problem nothing is.

use std::path::Path;

use landfall_config::{Loaded, allocate_cidrs, project_name_problem};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use crate::cli::{GlobalArgs, ProjectCommand, ProjectNewArgs};
use crate::error::{CliError, CliResult};

use super::SUCCESS;

pub fn project(global: &GlobalArgs, cmd: &ProjectCommand) -> CliResult<u8> {
    match cmd {
        ProjectCommand::New(args) => new(global, args),
    }
}

fn color() -> bool {
    console::colors_enabled_stderr()
}

fn report(diagnostics: &landfall_config::Diagnostics, path: &Path) -> CliError {
    eprint!("{}", diagnostics.render(color()));
    eprintln!(
        "{} {} error(s) in {}",
        console::style("error:").red().bold(),
        diagnostics.error_count(),
        path.display()
    );
    CliError::Reported
}

fn new(global: &GlobalArgs, args: &ProjectNewArgs) -> CliResult<u8> {
    let path = &global.config;
    let name = &args.name;
    if !path.exists() {
        return Err(CliError::with_hint(
            format!("no desired state at {}", path.display()),
            "pass -c PATH (a TOML file or a directory of them)",
        ));
    }
    if let Some(problem) = project_name_problem(name) {
        return Err(CliError::with_hint(
            format!("invalid project name `{name}`: {problem}; nothing was written"),
            "project names are `[a-z0-9][a-z0-9-]{1,30}`, e.g. `fraud-detection`",
        ));
    }
    let loaded = landfall_config::load(path).map_err(|d| report(&d, path))?;
    if let Some(existing) = loaded.projects.iter().find(|p| &p.name == name) {
        return Err(CliError::with_hint(
            format!(
                "project `{name}` already exists in the desired state ({}); nothing was written",
                existing.declared_at
            ),
            "choose another name, or edit its [project] table",
        ));
    }
    let stages = if args.stages.is_empty() {
        loaded.blueprint.stage_names()
    } else {
        let known = loaded.blueprint.stage_names();
        let mut out: Vec<String> = Vec::new();
        for s in &args.stages {
            if !known.contains(s) {
                return Err(CliError::with_hint(
                    format!("unknown stage `{s}`; nothing was written"),
                    format!("the blueprint's stages are {}", known.join(", ")),
                ));
            }
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    };
    let cidrs = allocate_cidrs(&loaded.desired, &loaded.blueprint, &stages).map_err(|e| {
        CliError::with_hint(
            format!("{e}; nothing was written"),
            "widen `cidr_pool` in [blueprint], or use a smaller `vpc_prefix`",
        )
    })?;
    let table = project_table(name, args, global.region.as_deref(), &stages, &cidrs);

    let (target, text) = if path.is_dir() {
        let target = path.join("projects").join(format!("{name}.toml"));
        if target.exists() {
            return Err(CliError::with_hint(
                format!("{} already exists; nothing was written", target.display()),
                "remove it, or choose another project name",
            ));
        }
        let mut doc = DocumentMut::new();
        projects_table(&mut doc)?.insert(name, Item::Table(table));
        (target, doc.to_string())
    } else {
        let original = std::fs::read_to_string(path)
            .map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
        let mut doc: DocumentMut = original
            .parse()
            .map_err(|e| CliError::new(format!("{} is not valid TOML: {e}", path.display())))?;
        projects_table(&mut doc)?.insert(name, Item::Table(table));
        let mut text = doc.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        (path.clone(), text)
    };

    // What the desired state would be: validated before anything is written.
    let after = landfall_config::load_with_overlay(path, vec![(target.clone(), text.clone())])
        .map_err(|d| {
            let e = report(&d, path);
            eprintln!("project `{name}` was not added; nothing was written");
            e
        })?;
    landfall_engine::state_store::write_atomically(&target, text.as_bytes())
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", target.display())))?;
    summary(name, &target, &global.rerun_flags_without_region(), &after);
    Ok(SUCCESS)
}

/// The `project` table of a document, created (implicit) when missing.
fn projects_table(doc: &mut DocumentMut) -> CliResult<&mut Table> {
    let item = doc.as_table_mut().entry("project").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    item.as_table_mut().ok_or_else(|| {
        CliError::new("`project` is not a table in the desired state; nothing was written")
    })
}

fn project_table(
    name: &str,
    args: &ProjectNewArgs,
    region: Option<&str>,
    stages: &[String],
    cidrs: &[(String, String)],
) -> Table {
    let mut t = Table::new();
    t.decor_mut().set_prefix(format!(
        "\n# ML project `{name}`, added by `landfall project new`: an account per stage \
         (with its VPC and KMS key), from the [blueprint].\n"
    ));
    if let Some(owner) = &args.owner {
        t.insert("owner", value(owner.as_str()));
    }
    if let Some(cc) = &args.cost_center {
        t.insert("cost_center", value(cc.as_str()));
    }
    if let Some(region) = region {
        t.insert("region", value(region));
    }
    if !args.stages.is_empty() {
        let list: Array = stages.iter().map(String::as_str).collect();
        t.insert("stages", value(list));
    }
    let mut inline = InlineTable::new();
    for (stage, cidr) in cidrs {
        inline.insert(stage, cidr.as_str().into());
    }
    t.insert("cidrs", value(inline));
    t
}

fn summary(name: &str, target: &Path, flags: &str, after: &Loaded) {
    let d = &after.desired;
    eprintln!(
        "{} project `{name}` to {}:",
        console::style("Added").green().bold(),
        target.display()
    );
    for a in d
        .accounts
        .values()
        .filter(|a| a.project.as_deref() == Some(name))
    {
        let ou = a.ou.as_ref().map_or("root".to_string(), |o| o.to_string());
        let mut line = format!("  account {:<32} OU {ou}", a.name);
        if let Some(n) = d.networks.get(&a.name) {
            line.push_str(&format!(
                "  VPC {} ({}, {} endpoints)",
                n.cidr,
                n.region,
                n.endpoints.len()
            ));
        }
        if d.kms_keys.contains_key(&a.name) {
            line.push_str("  KMS key");
        }
        eprintln!("{line}");
    }
    // The project's groups (`[blueprint] personas`) and where each works.
    for g in d
        .groups
        .values()
        .filter(|g| g.project.as_deref() == Some(name))
    {
        let access: Vec<String> = d
            .assignments
            .iter()
            .filter(|a| {
                a.assignment.principal == landfall_core::address::Principal::Group(g.name.clone())
            })
            .map(|a| {
                format!(
                    "{} in {}",
                    a.assignment.permission_set, a.assignment.account
                )
            })
            .collect();
        eprintln!("  group   {:<32} {}", g.name, access.join(", "));
    }
    eprintln!(
        "Next: review and apply it with `landfall plan{flags}`, then `landfall apply{flags}`.",
    );
}
