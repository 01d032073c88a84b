//! `[[moved]]`: a resource re-addressed in the file (an OU renamed, an account or SCP
//! given another key). Both ends must be addresses of the same kind; `to` must be
//! declared and `from` no longer.

use std::collections::BTreeSet;

use landfall_core::Address;
use landfall_core::model::Moved;

use crate::diagnostics::Diagnostic;
use crate::parse::ParsedFile;
use crate::validator::Validator;

impl Validator<'_> {
    pub(super) fn moved(
        &mut self,
        files: &[ParsedFile],
        declared: &BTreeSet<Address>,
    ) -> Vec<Moved> {
        let mut out = Vec::new();
        let mut seen: BTreeSet<Address> = BTreeSet::new();
        for file in files {
            for decl in &file.moved {
                let Some(raw) = &decl.body else { continue };
                let src = decl.key.source;
                let parse = |v: &serde_spanned::Spanned<String>| v.get_ref().parse::<Address>();
                let (from, to) = match (parse(&raw.from), parse(&raw.to)) {
                    (Ok(from), Ok(to)) => (from, to),
                    (from, to) => {
                        for (value, parsed) in [(&raw.from, from), (&raw.to, to)] {
                            if let Err(e) = parsed {
                                let loc = self.loc(src, value);
                                self.push(
                                    Diagnostic::error("LF215", format!("`{}` is not an address", value.get_ref()))
                                        .at(&loc, e)
                                        .help("addresses look like `ou.Workloads/Dev`, `account.ml-dev`, `scp.deny-leave-org`"),
                                );
                            }
                        }
                        continue;
                    }
                };
                let to_loc = self.loc(src, &raw.to);
                if from.kind() != to.kind() {
                    self.push(
                        Diagnostic::error(
                            "LF215",
                            format!("[[moved]] from {from} to {to}: a move cannot change the kind ({} to {})", from.kind(), to.kind()),
                        )
                        .at(&to_loc, "another kind")
                        .help("a move re-addresses one resource; to change its kind, remove it and declare the new one"),
                    );
                    continue;
                }
                if from == to {
                    self.push(
                        Diagnostic::error("LF215", format!("[[moved]] from {from} to itself"))
                            .at(&to_loc, "the same address")
                            .help("remove the block"),
                    );
                    continue;
                }
                if !declared.contains(&to) {
                    self.push(
                        Diagnostic::error("LF216", format!("[[moved]] to {to}, which is not declared"))
                            .at(&to_loc, "not declared")
                            .help("`to` is the resource's address in the file now; declare it, or fix the address"),
                    );
                    continue;
                }
                if declared.contains(&from) {
                    let loc = self.loc(src, &raw.from);
                    self.push(
                        Diagnostic::error(
                            "LF216",
                            format!("[[moved]] from {from}, which is still declared"),
                        )
                        .at(&loc, "still declared")
                        .help(
                            "a moved resource is declared at `to` only; remove the old declaration",
                        ),
                    );
                    continue;
                }
                if !seen.insert(from.clone()) {
                    self.push(
                        Diagnostic::error("LF216", format!("{from} is moved twice"))
                            .at(&to_loc, "a second destination")
                            .help("keep one [[moved]] block per resource"),
                    );
                    continue;
                }
                out.push(Moved { from, to });
            }
        }
        out
    }
}
