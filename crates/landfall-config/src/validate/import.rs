//! `[[import]]`: an existing resource adopted by its id. Offline, `to` must be the
//! address of a declared resource of a kind imported by id (`landfall_core::import`
//! says which, and why the others are not), the id must have the shape AWS gives that
//! kind's ids (a key ARN also the key's declared region), and neither `to` nor the id
//! may appear in two blocks. Whether the id exists live is the plan's check.

use std::collections::BTreeMap;

use landfall_core::Address;
use landfall_core::import::{IMPORTABLE, ImportKind, KeyArn, id_looks_like};
use landfall_core::model::{DesiredState, Import};

use crate::diagnostics::Diagnostic;
use crate::parse::ParsedFile;
use crate::sources::Loc;
use crate::validator::Validator;

impl Validator<'_> {
    pub(super) fn imports(&mut self, files: &[ParsedFile], desired: &DesiredState) -> Vec<Import> {
        let declared = desired.addresses();
        let mut out = Vec::new();
        let mut seen_to: BTreeMap<Address, Loc> = BTreeMap::new();
        let mut seen_id: BTreeMap<(ImportKind, String), Address> = BTreeMap::new();
        for file in files {
            for decl in &file.imports {
                let Some(raw) = &decl.body else { continue };
                let src = decl.key.source;
                let to_loc = self.loc(src, &raw.to);
                let id_loc = self.loc(src, &raw.id);
                let to = match raw.to.get_ref().parse::<Address>() {
                    Ok(to) => to,
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                "LF220",
                                format!("`{}` is not an address", raw.to.get_ref()),
                            )
                            .at(&to_loc, e)
                            .help(format!(
                                "`to` is the declared resource's address; the kinds imported by id are {IMPORTABLE} (`account.log-archive`, `ou.Workloads`)"
                            )),
                        );
                        continue;
                    }
                };
                let kind = match ImportKind::of(&to) {
                    Ok(kind) => kind,
                    Err(instead) => {
                        self.push(
                            Diagnostic::error(
                                "LF220",
                                format!(
                                    "{to} cannot be imported: the kinds imported by id are {IMPORTABLE}"
                                ),
                            )
                            .at(&to_loc, format!("a {}", to.kind()))
                            .help(instead),
                        );
                        continue;
                    }
                };
                if !declared.contains(&to) {
                    self.push(
                        Diagnostic::error("LF220", format!("[[import]] to {to}, which is not declared"))
                            .at(&to_loc, "not declared")
                            .help("declare the resource as it should be; the block adopts the live one instead of creating it"),
                    );
                    continue;
                }
                let id = raw.id.get_ref();
                if !kind.accepts(id) {
                    let what = match id_looks_like(id) {
                        Some(looks) => format!("`{id}` is {looks}"),
                        None => format!("`{id}` is not {} id", kind.noun()),
                    };
                    self.push(
                        Diagnostic::error("LF221", format!("{what}; {to} needs {}", kind.expected()))
                            .at(&id_loc, format!("not {} id", kind.noun()))
                            .help(format!(
                                "give the id of the live {} to adopt as {to} (the AWS console or CLI shows it)",
                                kind.name()
                            )),
                    );
                    continue;
                }
                // A key ARN names the key's region: it must be the declared one (its
                // account is checked by the plan, which knows the account's id).
                if let Some(arn) = KeyArn::parse(id)
                    && let Some((_, region)) = desired.member_of(&to)
                    && arn.region != region
                {
                    self.push(
                        Diagnostic::error(
                            "LF221",
                            format!(
                                "the key ARN is in {}, but {to} is declared in {region}",
                                arn.region
                            ),
                        )
                        .at(&id_loc, "another region")
                        .help("a key is imported where it is declared: fix the ARN, or the key's `region`"),
                    );
                    continue;
                }
                if let Some(first) = seen_to.get(&to) {
                    let first = first.clone();
                    self.push(
                        Diagnostic::error("LF222", format!("{to} is imported twice"))
                            .at(&to_loc, "imported again here")
                            .at(&first, "first imported here")
                            .help("keep one [[import]] block per resource"),
                    );
                    continue;
                }
                let record_id = kind.record_id(id).to_string();
                if let Some(other) = seen_id.get(&(kind, record_id.clone())) {
                    self.push(
                        Diagnostic::error(
                            "LF222",
                            format!("`{id}` is imported twice, as {other} and as {to}"),
                        )
                        .at(&id_loc, "imported again here")
                        .help(
                            "one live resource is managed at one address: keep one of the blocks",
                        ),
                    );
                    continue;
                }
                seen_to.insert(to.clone(), to_loc);
                seen_id.insert((kind, record_id), to.clone());
                out.push(Import { to, id: id.clone() });
            }
        }
        out
    }
}
