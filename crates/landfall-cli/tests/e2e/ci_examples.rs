//! The CI examples under `examples/ci/` and the recipe in `docs/gitops.md`: every YAML
//! file parses, the GitHub Actions workflow has the shape the recipe describes (plan on
//! pull requests, apply on main under a concurrency group and an environment, drift on
//! a schedule, OIDC), and every `landfall …` command line they contain is one the real
//! binary accepts.
//!
//! The binary has no library target to hand its clap `Cli` to `try_parse_from`, so the
//! commands are checked against the binary's own help: each word that names a
//! subcommand must be listed under `Commands:` of its parent's `--help`, each flag must
//! be listed under `Options:` of the `--help` of the (sub)command it is given to (global
//! flags are listed everywhere), a flag that takes a value must get one, and the number
//! of positional arguments must fit the usage line. Shell variables (`"$PLAN"`) and
//! `${{ … }}` expressions count as ordinary words.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use yaml_rust2::{Yaml, YamlLoader};

use crate::support::{repo_root, stderr, stdout};

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn every_yaml_file_under_examples_ci_parses() {
    let files = yaml_files();
    assert!(!files.is_empty(), "no YAML file under examples/ci/");
    for file in &files {
        let docs = load_yaml(file);
        assert!(
            docs.iter().any(|d| !matches!(d, Yaml::Null)),
            "{}: no YAML document",
            file.display()
        );
    }
}

#[test]
fn the_workflow_plans_pull_requests_applies_main_and_checks_drift() {
    let workflows = workflows();
    assert!(
        !workflows.is_empty(),
        "no GitHub Actions workflow (a document with `on` and `jobs`) under examples/ci/"
    );

    // Triggers, over every workflow file (one file or several).
    let mut triggers: Vec<String> = Vec::new();
    for wf in &workflows {
        triggers.extend(trigger_names(wf.on()));
    }
    for wanted in ["pull_request", "push", "schedule"] {
        assert!(
            triggers.iter().any(|t| t == wanted),
            "no workflow under examples/ci/ runs on `{wanted}` (triggers: {triggers:?})"
        );
    }
    for wf in &workflows {
        let on = wf.on();
        let push = &on["push"];
        if !push.is_badvalue() {
            let branches = strings(&push["branches"]);
            assert!(
                branches.iter().any(|b| b == "main"),
                "{}: `push` applies only on main: expected `branches: [main]`, got {branches:?}",
                wf.file.display()
            );
        }
        if let Some(schedule) = on["schedule"].as_vec() {
            assert!(
                schedule.iter().all(|s| s["cron"].as_str().is_some()),
                "{}: every `schedule` entry needs a `cron`",
                wf.file.display()
            );
        }
    }

    let jobs: Vec<Job<'_>> = workflows.iter().flat_map(|wf| wf.jobs()).collect();

    // OIDC: every job that gets AWS credentials asks for an id token.
    let aws_jobs: Vec<&Job<'_>> = jobs
        .iter()
        .filter(|j| j.uses("aws-actions/configure-aws-credentials"))
        .collect();
    assert!(
        !aws_jobs.is_empty(),
        "no job uses aws-actions/configure-aws-credentials"
    );
    for job in &aws_jobs {
        assert_eq!(
            job.permission("id-token").as_deref(),
            Some("write"),
            "{}: job `{}` gets AWS credentials through OIDC: it needs `permissions: id-token: write`",
            job.wf.file.display(),
            job.name
        );
    }

    // No `${{ … }}` inside a script: event data reaches scripts through `env:`.
    for job in &jobs {
        for step in job.steps() {
            if let Some(run) = step["run"].as_str() {
                assert!(
                    !run.contains("${{"),
                    "{}: job `{}`, step {:?}: `${{{{ … }}}}` inside `run:` (pass it through `env:`):\n{run}",
                    job.wf.file.display(),
                    job.name,
                    step_name(step)
                );
            }
        }
    }

    // Pull requests: validate, plan --out --detailed-exitcode, upload, show --markdown
    // into a comment.
    let pr = find_job(&jobs, "plan", "pull_request");
    let pr_cmds = pr.landfall_commands();
    assert!(
        has_command(&pr_cmds, "validate", &[]),
        "PR job: no `landfall validate`"
    );
    assert!(
        has_command(&pr_cmds, "plan", &["--out", "--detailed-exitcode"]),
        "PR job: no `landfall plan --out FILE --detailed-exitcode`: {pr_cmds:?}"
    );
    assert!(
        has_command(&pr_cmds, "show", &["--markdown"]),
        "PR job: no `landfall show FILE --markdown` for the comment: {pr_cmds:?}"
    );
    assert!(
        pr.uses("actions/upload-artifact"),
        "PR job: the plan is not uploaded"
    );
    assert_eq!(
        pr.permission("pull-requests").as_deref(),
        Some("write"),
        "PR job: commenting needs `pull-requests: write`"
    );
    assert!(
        pr.scripts().contains("gh "),
        "PR job: the comment is posted with the gh CLI"
    );

    // Main: apply under a concurrency group that never cancels a running apply, behind
    // an environment, with --auto-approve and --lock-timeout.
    let apply = find_job(&jobs, "apply", "push");
    let group = apply.concurrency_group();
    assert!(
        group.as_deref().is_some_and(|g| !g.trim().is_empty()),
        "apply job `{}`: no `concurrency` group (job or workflow level)",
        apply.name
    );
    assert!(
        !apply.cancels_in_progress(),
        "apply job `{}`: `cancel-in-progress: true` would kill an apply halfway",
        apply.name
    );
    assert!(
        !apply.job["environment"].is_badvalue(),
        "apply job `{}`: no protected `environment`",
        apply.name
    );
    for cmd in apply
        .landfall_commands()
        .iter()
        .filter(|c| subcommand(c) == Some("apply"))
    {
        for flag in ["--auto-approve", "--lock-timeout"] {
            assert!(
                has_flag(cmd, flag),
                "apply job: `{}` lacks {flag}",
                cmd.join(" ")
            );
        }
    }

    // Schedule: drift --markdown --lock-timeout, an issue labelled `drift` through gh.
    let drift = find_job(&jobs, "drift", "schedule");
    let drift_cmds: Vec<Vec<String>> = drift
        .landfall_commands()
        .into_iter()
        .filter(|c| subcommand(c) == Some("drift"))
        .collect();
    assert!(!drift_cmds.is_empty(), "drift job: no `landfall drift`");
    for cmd in &drift_cmds {
        for flag in ["--markdown", "--lock-timeout"] {
            assert!(
                has_flag(cmd, flag),
                "drift job: `{}` lacks {flag}",
                cmd.join(" ")
            );
        }
    }
    let scripts = drift.scripts();
    assert!(
        scripts.contains("gh issue create") && scripts.contains("--label drift"),
        "drift job: no `gh issue create --label drift`"
    );
    assert_eq!(
        drift.permission("issues").as_deref(),
        Some("write"),
        "drift job: the issue needs `issues: write`"
    );

    // `--target` is for a person at a terminal, never for automation.
    for job in &jobs {
        for cmd in job.landfall_commands() {
            assert!(
                !has_flag(&cmd, "--target"),
                "job `{}`: `{}` uses --target (see docs/gitops.md)",
                job.name,
                cmd.join(" ")
            );
        }
    }
}

#[test]
fn every_landfall_command_in_the_ci_examples_parses() {
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for wf in workflows() {
        for job in wf.jobs() {
            for step in job.steps() {
                let Some(run) = step["run"].as_str() else {
                    continue;
                };
                let at = format!(
                    "{}: job `{}`, step {:?}",
                    rel(&wf.file),
                    job.name,
                    step_name(step)
                );
                match landfall_commands(run) {
                    Ok(found) => commands.extend(found.into_iter().map(|c| (at.clone(), c))),
                    Err(e) => problems.push(format!("{at}: {e}")),
                }
            }
        }
    }
    assert!(
        commands.len() >= 6,
        "expected the workflows to run validate, plan, show, apply and drift; found {commands:?}"
    );
    check_commands(&commands, problems);
}

#[test]
fn every_landfall_command_in_docs_gitops_md_parses() {
    let path = repo_root().join("docs/gitops.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut commands: Vec<(String, Vec<String>)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for (line, block) in shell_blocks(&text) {
        let at = format!("docs/gitops.md:{line}");
        match landfall_commands(&block) {
            Ok(found) => commands.extend(found.into_iter().map(|c| (at.clone(), c))),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    assert!(
        commands.len() >= 10,
        "docs/gitops.md: expected its ```sh blocks to hold the recipe's commands; found {commands:?}"
    );
    check_commands(&commands, problems);
}

/// The extractor itself, on a script shaped like the workflow's.
#[test]
fn commands_are_extracted_from_scripts_as_the_shell_reads_them() {
    let script = r#"
set +e
landfall plan -c "$LANDING_ZONE" --backend aws \
  --out plan.json --detailed-exitcode  # a comment
code=$?
landfall show plan.json --markdown > plan.md
echo "run \`landfall apply\` to fix it"
landfall drift --markdown --role ${{ vars.ROLE }} 2>&1 | tee drift.md
"#;
    let found = landfall_commands(script).unwrap();
    assert_eq!(
        found,
        vec![
            words(
                "landfall plan -c $LANDING_ZONE --backend aws --out plan.json --detailed-exitcode"
            ),
            words("landfall show plan.json --markdown"),
            words("landfall drift --markdown --role GHA_EXPRESSION"),
        ]
    );
    assert_eq!(
        landfall_commands("LANDFALL_SIM_FAULTS=\"fail_at=40\" landfall apply plan.json").unwrap(),
        vec![words("landfall apply plan.json")]
    );
    for hidden in [
        "if landfall drift; then echo; fi",
        "code=$(landfall plan --json)",
        "true && landfall apply",
    ] {
        assert!(
            landfall_commands(hidden).is_err(),
            "a command the check cannot see was accepted: {hidden}"
        );
    }

    let help = parse_help(
        "Refresh\n\nUsage: landfall plan [OPTIONS] <FILE> [EXTRA]...\n\nOptions:\n  \
         -c, --config <CONFIG>    Desired-state TOML file, or a directory\n                \
         --not-a-flag of a wrapped line\n      --json               JSON\n  \
         -v, --verbose...         More (-v: info)\n",
    );
    assert_eq!(help.options.get("--config"), Some(&true));
    assert_eq!(help.options.get("-c"), Some(&true));
    assert_eq!(help.options.get("--json"), Some(&false));
    assert_eq!(help.options.get("-v"), Some(&false));
    assert!(!help.options.contains_key("--not-a-flag"));
    assert_eq!((help.required, help.max), (1, None));
}

// ---------------------------------------------------------------------------------------
// Checking commands against the binary's help
// ---------------------------------------------------------------------------------------

fn check_commands(commands: &[(String, Vec<String>)], mut problems: Vec<String>) {
    let mut helps = Helps::default();
    for (at, cmd) in commands {
        if let Err(e) = check_command(&mut helps, cmd) {
            problems.push(format!("{at}: `{}`: {e}", cmd.join(" ")));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} landfall command(s) do not parse:\n  {}",
        problems.len(),
        commands.len(),
        problems.join("\n  ")
    );
}

/// Walks `landfall ARGS…` as clap would: flags checked at the (sub)command they are
/// given to, words that name a subcommand descend into it, other words are positional.
fn check_command(helps: &mut Helps, cmd: &[String]) -> Result<(), String> {
    let mut path: Vec<String> = Vec::new();
    let mut positionals = 0usize;
    let mut problems: Vec<String> = Vec::new();
    let mut args = cmd.iter().skip(1).peekable();
    let mut only_positionals = false;
    // After an unknown flag its value (if it takes one) cannot be told from a positional.
    let mut unknown_flag = false;
    while let Some(arg) = args.next() {
        let help = helps.get(&path)?;
        let name = if path.is_empty() {
            "landfall".to_string()
        } else {
            format!("landfall {}", path.join(" "))
        };
        if only_positionals || arg == "-" || !arg.starts_with('-') {
            if positionals == 0 && !only_positionals && !help.subcommands.is_empty() {
                if help.subcommands.iter().any(|s| s == arg) {
                    path.push(arg.clone());
                    continue;
                }
                return Err(format!(
                    "`{name}` has no subcommand `{arg}` (it has: {})",
                    help.subcommands.join(", ")
                ));
            }
            positionals += 1;
            continue;
        }
        if arg == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (flag, inline) = match long.split_once('=') {
                Some((f, _)) => (format!("--{f}"), true),
                None => (arg.clone(), false),
            };
            match help.options.get(&flag) {
                None => {
                    problems.push(format!("`{name}` has no flag `{flag}`"));
                    unknown_flag = true;
                }
                Some(true) if !inline => {
                    if args.next().is_none() {
                        problems.push(format!("`{flag}` needs a value"));
                    }
                }
                Some(_) => {}
            }
            continue;
        }
        // Short flags, possibly clustered (`-vv`) or with the value attached (`-cFILE`).
        let shorts: Vec<char> = arg.chars().skip(1).collect();
        for (i, c) in shorts.iter().enumerate() {
            let flag = format!("-{c}");
            match help.options.get(&flag) {
                None => {
                    problems.push(format!("`{name}` has no flag `{flag}`"));
                    unknown_flag = true;
                    break;
                }
                Some(true) => {
                    if i + 1 == shorts.len() && args.next().is_none() {
                        problems.push(format!("`{flag}` needs a value"));
                    }
                    break;
                }
                Some(false) => {}
            }
        }
    }
    let help = helps.get(&path)?;
    let name = format!("landfall {}", path.join(" "));
    if !help.subcommands.is_empty() {
        problems.push(format!(
            "`{}` needs a subcommand ({})",
            name.trim_end(),
            help.subcommands.join(", ")
        ));
    } else if help.usage_known && !unknown_flag {
        if positionals < help.required {
            problems.push(format!(
                "`{name}` takes at least {} positional argument(s), got {positionals}",
                help.required
            ));
        }
        if let Some(max) = help.max
            && positionals > max
        {
            problems.push(format!(
                "`{name}` takes at most {max} positional argument(s), got {positionals}"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `landfall PATH… --help`, run once per path.
#[derive(Default)]
struct Helps {
    cache: HashMap<Vec<String>, Result<Help, String>>,
}

impl Helps {
    fn get(&mut self, path: &[String]) -> Result<&Help, String> {
        self.cache
            .entry(path.to_vec())
            .or_insert_with(|| {
                let out = Command::cargo_bin("landfall")
                    .unwrap()
                    .args(path)
                    .arg("--help")
                    .env("NO_COLOR", "1")
                    .env_remove("LANDFALL_LOG")
                    .output()
                    .unwrap();
                if out.status.success() {
                    Ok(parse_help(&stdout(&out)))
                } else {
                    Err(format!(
                        "`landfall {} --help` exits {:?}: {}",
                        path.join(" "),
                        out.status.code(),
                        stderr(&out).trim()
                    ))
                }
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// What a clap `--help` page says about a (sub)command.
#[derive(Debug, Default)]
struct Help {
    subcommands: Vec<String>,
    /// `--flag` and `-f` → whether it takes a value.
    options: HashMap<String, bool>,
    /// Positional arguments, from the usage line: how many are required, and at most
    /// how many (`None`: any number).
    required: usize,
    max: Option<usize>,
    /// Whether the usage line was simple enough to count positionals from.
    usage_known: bool,
}

fn parse_help(text: &str) -> Help {
    let mut help = Help::default();
    let mut section = "";
    let mut seen_usage = false;
    for line in text.lines() {
        if let Some(usage) = line.strip_prefix("Usage:") {
            if !seen_usage {
                parse_usage(usage, &mut help);
                seen_usage = true;
            }
            continue;
        }
        if !line.starts_with(' ') && line.trim_end().ends_with(':') {
            section = line.trim_end().trim_end_matches(':');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        match section {
            "Commands" if indent == 2 => {
                if let Some(word) = body.split_whitespace().next() {
                    help.subcommands.push(word.to_string());
                }
            }
            // Option lines start within the first columns (`  -c, --config <C>` or
            // `      --json`); wrapped descriptions are indented further.
            "Options" if indent <= 6 && body.starts_with('-') => {
                let mut names: Vec<String> = Vec::new();
                let mut takes_value = false;
                for token in body.split_whitespace() {
                    if token.starts_with('<') {
                        takes_value = true;
                        break;
                    }
                    if !token.starts_with('-') {
                        break;
                    }
                    let name: String = token
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    if name.len() > 1 {
                        names.push(name);
                    }
                }
                for name in names {
                    help.options.insert(name, takes_value);
                }
            }
            _ => {}
        }
    }
    help
}

/// `landfall apply [OPTIONS] [PLAN_FILE]`: counts the positionals; gives up (leaves
/// `usage_known` false) on alternatives and required flags it cannot read.
fn parse_usage(usage: &str, help: &mut Help) {
    let mut required = 0;
    let mut max = Some(0usize);
    let mut after_flag = false;
    for t in usage.split_whitespace().skip(1) {
        // (skipped: `landfall`)
        if t.contains('|') || t.starts_with("<-") || t.starts_with("[-") {
            return;
        }
        if t == "[OPTIONS]" || t == "<COMMAND>" {
            continue;
        }
        if t.starts_with('-') {
            after_flag = true;
            continue;
        }
        let is_value = t.starts_with('<') || t.starts_with('[');
        if !is_value {
            after_flag = false;
            continue; // a subcommand's name
        }
        if after_flag && t.starts_with('<') {
            after_flag = false;
            continue; // `--account <ACCOUNT>`
        }
        after_flag = false;
        if t.starts_with('<') {
            required += 1;
        }
        max = if t.ends_with("...") {
            None
        } else {
            max.map(|m| m + 1)
        };
    }
    help.required = required;
    help.max = max;
    help.usage_known = true;
}

// ---------------------------------------------------------------------------------------
// Extracting `landfall …` commands from shell scripts
// ---------------------------------------------------------------------------------------

/// The `landfall …` commands of a script, one per logical line that starts with
/// `landfall`, cut at the first redirection, pipe or command separator. A `landfall`
/// command anywhere else (`if landfall …`, `$(landfall …)`, `… && landfall …`) is an
/// error: the check could not see it, so the examples keep each one on its own line.
fn landfall_commands(script: &str) -> Result<Vec<Vec<String>>, String> {
    let script = replace_expressions(&script.replace("\\\n", " "));
    let mut found = Vec::new();
    for line in script.lines() {
        let Some(mut words) = shlex::split(line) else {
            return Err(format!("the shell could not split this line: {line}"));
        };
        // `NAME=value landfall …`: the assignments are the command's environment.
        let assignments = words.iter().take_while(|w| is_assignment(w)).count();
        words.drain(..assignments);
        if words.iter().skip(1).any(|w| w == "landfall") || line.contains("$(landfall") {
            return Err(format!(
                "a `landfall` command not at the start of its line (put it on a line of its own so it can be checked): {}",
                line.trim()
            ));
        }
        if words.first().map(String::as_str) != Some("landfall") {
            continue;
        }
        let mut cmd = Vec::new();
        for w in words {
            if is_shell_operator(&w) {
                break;
            }
            if let Some(stripped) = w.strip_suffix(';') {
                if !stripped.is_empty() {
                    cmd.push(stripped.to_string());
                }
                break;
            }
            cmd.push(w);
        }
        found.push(cmd);
    }
    Ok(found)
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn is_shell_operator(word: &str) -> bool {
    matches!(word, "|" | "||" | "&&" | ";" | "&")
        || word.starts_with('>')
        || word.starts_with('<')
        || word.starts_with("2>")
        || word.starts_with("1>")
        || word.starts_with("&>")
}

/// `${{ … }}` (a GitHub Actions expression, which may hold spaces) → one word.
fn replace_expressions(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push_str("GHA_EXPRESSION");
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The ```sh / ```bash / ```shell blocks of a Markdown file, with the line each starts on.
fn shell_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match current.take() {
            None => {
                if let Some(lang) = fence.strip_prefix("```")
                    && matches!(lang.trim(), "sh" | "bash" | "shell" | "console")
                {
                    current = Some((i + 2, String::new()));
                }
            }
            Some((start, mut text)) => {
                if fence.starts_with("```") {
                    blocks.push((start, text));
                } else {
                    text.push_str(line.strip_prefix("$ ").unwrap_or(line));
                    text.push('\n');
                    current = Some((start, text));
                }
            }
        }
    }
    blocks
}

fn subcommand(cmd: &[String]) -> Option<&str> {
    // The first word after `landfall` that is not a flag or a global flag's value.
    let mut words = cmd.iter().skip(1);
    while let Some(w) = words.next() {
        if matches!(
            w.as_str(),
            "-c" | "--config" | "--backend" | "--state" | "--profile" | "--region"
        ) {
            words.next();
        } else if !w.starts_with('-') {
            return Some(w.as_str());
        }
    }
    None
}

fn has_flag(cmd: &[String], flag: &str) -> bool {
    cmd.iter()
        .any(|w| w == flag || w.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
}

fn has_command(cmds: &[Vec<String>], sub: &str, flags: &[&str]) -> bool {
    cmds.iter()
        .any(|c| subcommand(c) == Some(sub) && flags.iter().all(|f| has_flag(c, f)))
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------
// The YAML files and the workflows in them
// ---------------------------------------------------------------------------------------

fn ci_dir() -> PathBuf {
    repo_root().join("examples/ci")
}

fn rel(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn yaml_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&ci_dir(), &mut files);
    files.sort();
    files
}

fn load_yaml(path: &Path) -> Vec<Yaml> {
    let text = std::fs::read_to_string(path).unwrap();
    YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", rel(path)))
}

struct Workflow {
    file: PathBuf,
    doc: Yaml,
}

impl Workflow {
    /// `on:` (a YAML 1.1 reader would have made the key `true`; accept both).
    fn on(&self) -> &Yaml {
        let on = &self.doc["on"];
        if !on.is_badvalue() {
            return on;
        }
        self.doc
            .as_hash()
            .and_then(|h| h.get(&Yaml::Boolean(true)))
            .unwrap_or(on)
    }

    fn jobs(&self) -> Vec<Job<'_>> {
        self.doc["jobs"]
            .as_hash()
            .into_iter()
            .flatten()
            .map(|(name, job)| Job {
                wf: self,
                name: name.as_str().unwrap_or("?").to_string(),
                job,
            })
            .collect()
    }
}

fn workflows() -> Vec<Workflow> {
    let mut out = Vec::new();
    for file in yaml_files() {
        for doc in load_yaml(&file) {
            let has = |k: &str| !doc[k].is_badvalue();
            let has_on = has("on")
                || doc
                    .as_hash()
                    .is_some_and(|h| h.contains_key(&Yaml::Boolean(true)));
            if has_on && has("jobs") {
                out.push(Workflow {
                    file: file.clone(),
                    doc,
                });
            }
        }
    }
    out
}

struct Job<'a> {
    wf: &'a Workflow,
    name: String,
    job: &'a Yaml,
}

impl Job<'_> {
    fn steps(&self) -> Vec<&Yaml> {
        self.job["steps"].as_vec().into_iter().flatten().collect()
    }

    fn uses(&self, action: &str) -> bool {
        self.steps().iter().any(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next() == Some(action))
        })
    }

    fn scripts(&self) -> String {
        self.steps()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn landfall_commands(&self) -> Vec<Vec<String>> {
        landfall_commands(&self.scripts()).unwrap_or_else(|e| panic!("job `{}`: {e}", self.name))
    }

    fn condition(&self) -> String {
        self.job["if"].as_str().unwrap_or("").to_string()
    }

    /// A job's `permissions` replace the workflow's.
    fn permission(&self, scope: &str) -> Option<String> {
        let own = &self.job["permissions"];
        let perms = if own.is_badvalue() {
            &self.wf.doc["permissions"]
        } else {
            own
        };
        match perms {
            Yaml::String(all) if all == "write-all" => Some("write".into()),
            Yaml::String(all) if all == "read-all" => Some("read".into()),
            Yaml::Hash(_) => perms[scope].as_str().map(str::to_string),
            _ => None,
        }
    }

    fn concurrency(&self) -> &Yaml {
        let own = &self.job["concurrency"];
        if own.is_badvalue() {
            &self.wf.doc["concurrency"]
        } else {
            own
        }
    }

    fn concurrency_group(&self) -> Option<String> {
        match self.concurrency() {
            Yaml::String(group) => Some(group.clone()),
            c => c["group"].as_str().map(str::to_string),
        }
    }

    fn cancels_in_progress(&self) -> bool {
        match &self.concurrency()["cancel-in-progress"] {
            Yaml::Boolean(b) => *b,
            Yaml::String(expr) => !expr.trim().is_empty() && expr.trim() != "false",
            _ => false,
        }
    }
}

/// The job that runs `landfall SUB` and is gated on `event` (by its `if:`, or because
/// its workflow has only that trigger).
fn find_job<'a>(jobs: &'a [Job<'a>], sub: &str, event: &str) -> &'a Job<'a> {
    jobs.iter()
        .find(|j| {
            let cmds = j.landfall_commands();
            let runs = cmds.iter().any(|c| subcommand(c) == Some(sub));
            // `plan` also runs in the apply job: the PR job is the one without an apply.
            let only = sub != "plan" || !cmds.iter().any(|c| subcommand(c) == Some("apply"));
            let gated = j.condition().contains(event)
                || trigger_names(j.wf.on()) == vec![event.to_string()];
            runs && only && gated
        })
        .unwrap_or_else(|| panic!("no job runs `landfall {sub}` on `{event}`"))
}

fn trigger_names(on: &Yaml) -> Vec<String> {
    match on {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        Yaml::Hash(h) => h
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn strings(y: &Yaml) -> Vec<String> {
    match y {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(a) => a
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn step_name(step: &Yaml) -> String {
    step["name"]
        .as_str()
        .or_else(|| step["uses"].as_str())
        .unwrap_or("(unnamed)")
        .to_string()
}
