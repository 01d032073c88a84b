//! `[drift] ignore`: the address patterns `landfall drift` leaves out, each checked
//! as a glob.

use crate::diagnostics::Diagnostic;
use crate::parse::ParsedFile;
use crate::sources::Loc;
use crate::validator::Validator;

impl Validator<'_> {
    /// `[drift] ignore` from every file, each pattern checked as a glob.
    pub(super) fn drift_ignore(&mut self, files: &[ParsedFile]) -> Vec<String> {
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
}
