//! The AWS-managed IAM policies a permission set (or its permissions boundary) may
//! name: the shipped list `data/identity/aws-managed-policies.txt` (one ARN a line),
//! embedded at build time. A bare name resolves to its ARN; an unknown name is an
//! error with the closest known one, so a typo never reaches
//! `AttachManagedPolicyToPermissionSet`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::sources::SourceId;
use crate::suggest::closest;
use crate::validator::Validator;

const LIST: &str = include_str!("../../data/identity/aws-managed-policies.txt");

/// Every AWS-managed policy ARN starts so (the commercial partition: the list is
/// AWS's `list-policies --scope AWS` there).
pub(crate) const ARN_PREFIX: &str = "arn:aws:iam::aws:policy/";

/// Service-linked-role policies: IAM refuses to attach them to any other role
/// ("Cannot attach a Service Role Policy to a Customer Role"), so to a permission
/// set's role too.
const SERVICE_ROLE_PATH: &str = "/aws-service-role/";

struct Catalogue {
    /// Name → ARN (names are unique across paths in the shipped snapshot; its header
    /// says a refresh that breaks this must refuse bare names as ambiguous).
    by_name: BTreeMap<&'static str, &'static str>,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    let mut by_name = BTreeMap::new();
    for line in LIST.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix(ARN_PREFIX) {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            by_name.insert(name, line);
        }
    }
    Catalogue { by_name }
});

/// Why a managed-policy reference cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// An ARN that is not an AWS-managed policy's (another account's, or malformed).
    NotAwsManaged,
    /// Not in the list; the closest known name, if any is close.
    Unknown(Option<String>),
    /// A service-linked-role policy (its ARN).
    ServiceRole(String),
}

/// Resolves a name (`ViewOnlyAccess`, `job-function/ViewOnlyAccess`) or an ARN to the
/// policy's ARN.
pub(crate) fn resolve(text: &str) -> Result<String, Problem> {
    let catalogue = &*CATALOGUE;
    let name = if text.starts_with("arn:") {
        let Some(path_and_name) = text.strip_prefix(ARN_PREFIX) else {
            return Err(Problem::NotAwsManaged);
        };
        path_and_name.rsplit('/').next().unwrap_or(path_and_name)
    } else {
        text.rsplit('/').next().unwrap_or(text)
    };
    let arn = match catalogue.by_name.get(name) {
        // A path given must be the policy's own.
        Some(arn) if text.starts_with("arn:") && *arn != text => None,
        Some(arn) if !text.starts_with("arn:") && text.contains('/') => {
            (arn.strip_prefix(ARN_PREFIX) == Some(text)).then_some(*arn)
        }
        Some(arn) => Some(*arn),
        None => None,
    };
    match arn {
        Some(arn) if arn.contains(SERVICE_ROLE_PATH) => Err(Problem::ServiceRole(arn.to_string())),
        Some(arn) => Ok(arn.to_string()),
        None => {
            let suggestion = match catalogue.by_name.get(name) {
                // The name is right, the path is not: offer the ARN.
                Some(arn) => Some((*arn).to_string()),
                None => closest(name, catalogue.by_name.keys().copied()).map(str::to_string),
            };
            Err(Problem::Unknown(suggestion))
        }
    }
}

impl Validator<'_> {
    /// Resolves one managed-policy reference of `owner` ("permission set `X`"),
    /// reporting it when it cannot be used.
    pub(crate) fn managed_policy(
        &mut self,
        src: SourceId,
        item: &Spanned<String>,
        owner: &str,
    ) -> Option<String> {
        let text = item.get_ref();
        let loc = self.loc(src, item);
        let problem = match resolve(text) {
            Ok(arn) => return Some(arn),
            Err(p) => p,
        };
        let d = match problem {
            Problem::NotAwsManaged => Diagnostic::error(
                "LF875",
                format!("{owner} names `{text}`, which is not an AWS-managed policy"),
            )
            .at(
                &loc,
                format!("AWS-managed policy ARNs start with `{ARN_PREFIX}`"),
            )
            .help(
                "a policy of your own in each account is a customer-managed reference: \
                 `customer_managed_policies = [{ name = \"NAME\", path = \"/\" }]`",
            ),
            Problem::Unknown(suggestion) => Diagnostic::error(
                "LF875",
                format!("{owner} names `{text}`, which is not a known AWS-managed policy"),
            )
            .at(&loc, "not in the shipped list of AWS-managed policies")
            .maybe_help(suggestion.map(|s| format!("did you mean `{s}`?")))
            .help(
                "names are case-sensitive; the list is \
                 crates/landfall-config/data/identity/aws-managed-policies.txt (AWS's \
                 `iam list-policies --scope AWS`, dated in its header)",
            ),
            Problem::ServiceRole(arn) => Diagnostic::error(
                "LF875",
                format!("{owner} names `{arn}`, a service-linked role's policy"),
            )
            .at(&loc, "IAM attaches it only to its service's own role")
            .help(
                "IAM refuses to attach /aws-service-role/ policies to any other role, so to \
                 the role a permission set creates too; choose a job-function or service \
                 policy",
            ),
        };
        self.push(d);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_is_read() {
        assert!(CATALOGUE.by_name.len() > 1000);
        assert_eq!(
            resolve("ViewOnlyAccess"),
            Ok("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".into())
        );
    }

    #[test]
    fn names_and_arns_resolve_and_typos_get_suggestions() {
        let arn = "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly";
        assert_eq!(resolve("AmazonSageMakerReadOnly"), Ok(arn.into()));
        assert_eq!(resolve(arn), Ok(arn.into()));
        assert_eq!(
            resolve("job-function/ViewOnlyAccess"),
            Ok("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".into())
        );
        assert_eq!(
            resolve("AmazonSageMakerReadOnlyy"),
            Err(Problem::Unknown(Some("AmazonSageMakerReadOnly".into())))
        );
        // The right name under the wrong path: the real ARN is offered.
        assert_eq!(
            resolve("arn:aws:iam::aws:policy/ViewOnlyAccess"),
            Err(Problem::Unknown(Some(
                "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".into()
            )))
        );
        assert_eq!(
            resolve("arn:aws:iam::123456789012:policy/mine"),
            Err(Problem::NotAwsManaged)
        );
        assert!(matches!(
            resolve("AWSSupportServiceRolePolicy"),
            Err(Problem::ServiceRole(_))
        ));
    }
}
