//! `[scp.NAME]`: names, descriptions, the document (inline `content` or `file`,
//! checked by `crate::scp` against the `scp_max_chars` quota) and `targets`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use landfall_core::FULL_AWS_ACCESS;
use landfall_core::model::PolicySpec;
use landfall_core::{Attachment, Target};

use crate::diagnostics::Diagnostic;
use crate::parse::Decl;
use crate::raw::RawScp;
use crate::rules;
use crate::scp;
use crate::sources::Loc;
use crate::validator::{Merged, Validator};

use super::Settings;

const MAX_DESCRIPTION: usize = 512;

impl Validator<'_> {
    pub(super) fn scps(
        &mut self,
        decls: &Merged<'_, RawScp>,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        settings: &Settings,
        attachments: &mut BTreeSet<Attachment>,
    ) -> BTreeMap<String, PolicySpec> {
        let mut out = BTreeMap::new();
        let mut aws_names: HashMap<String, (String, Loc)> = HashMap::new();
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
            let aws_name = match &raw.name {
                Some(n) => match crate::rules::aws_name_problem(n.get_ref(), 128, true) {
                    Some(problem) => {
                        let loc = self.loc(src, n);
                        self.push(
                            Diagnostic::error(
                                "LF415",
                                format!("`{}` cannot name an SCP in AWS", n.get_ref()),
                            )
                            .at(&loc, problem)
                            .help("AWS policy names are 1 to 128 printable ASCII characters"),
                        );
                        None
                    }
                    None => (n.get_ref() != name).then(|| n.get_ref().clone()),
                },
                None => None,
            };
            {
                // Names in AWS are unique; keys are, but a `name` may take another's.
                let in_aws = aws_name.clone().unwrap_or_else(|| name.clone());
                let loc = match &raw.name {
                    Some(n) => self.loc(src, n),
                    None => decl.key.clone(),
                };
                match aws_names.get(&in_aws) {
                    Some((other, first)) => self.push(
                        Diagnostic::error(
                            "LF415",
                            format!(
                                "scp.{name} and scp.{other} have the same name in AWS, `{in_aws}`"
                            ),
                        )
                        .at(&loc, "used again here")
                        .at(first, "first used here")
                        .help("AWS refuses two policies with one name (DuplicatePolicyException)"),
                    ),
                    None => {
                        aws_names.insert(in_aws, (name.clone(), loc));
                    }
                }
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
                        aws_name,
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
}
