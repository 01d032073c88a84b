//! The AWS-managed policy documents shipped with Landfall
//! (`data/identity/documents/`, listed in its `index.toml`), so `landfall explain` and
//! the `[[expect]]` checks evaluate permission sets offline. A policy not shipped is
//! read live (IAM `GetPolicyVersion`) and cached by the CLI; offline, an evaluation
//! that needs it says the document is not available instead of guessing.

/// (ARN, default-version document) of every shipped document.
const DOCUMENTS: &[(&str, &str)] = &[
    (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        include_str!("../data/identity/documents/AdministratorAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/PowerUserAccess",
        include_str!("../data/identity/documents/PowerUserAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        include_str!("../data/identity/documents/ViewOnlyAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/SecurityAudit",
        include_str!("../data/identity/documents/SecurityAudit.json"),
    ),
    (
        "arn:aws:iam::aws:policy/job-function/DataScientist",
        include_str!("../data/identity/documents/DataScientist.json"),
    ),
    (
        "arn:aws:iam::aws:policy/AmazonSageMakerReadOnly",
        include_str!("../data/identity/documents/AmazonSageMakerReadOnly.json"),
    ),
    (
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",
        include_str!("../data/identity/documents/AmazonSageMakerFullAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        include_str!("../data/identity/documents/AmazonS3ReadOnlyAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        include_str!("../data/identity/documents/AmazonS3FullAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        include_str!("../data/identity/documents/IAMReadOnlyAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
        include_str!("../data/identity/documents/AWSCloudTrail_ReadOnlyAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/AWSServiceCatalogEndUserFullAccess",
        include_str!("../data/identity/documents/AWSServiceCatalogEndUserFullAccess.json"),
    ),
];

/// The shipped document of an AWS-managed policy, by ARN.
pub fn shipped_document(arn: &str) -> Option<&'static str> {
    DOCUMENTS
        .iter()
        .find(|(a, _)| *a == arn)
        .map(|(_, doc)| *doc)
}

/// The AWS-managed policy list shipped with Landfall (`aws-managed-policies.txt`): one
/// ARN per line.
pub fn aws_managed_policy_arns() -> impl Iterator<Item = &'static str> {
    include_str!("../data/identity/aws-managed-policies.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The index and the code agree: every document the index says is shipped is
    /// here, under its ARN, and parses as an identity policy.
    #[test]
    fn every_shipped_document_is_indexed_and_parses() {
        let index: toml::Value =
            toml::from_str(include_str!("../data/identity/documents/index.toml")).unwrap();
        let policies = index.get("policy").and_then(|p| p.as_table()).unwrap();
        let mut shipped = 0;
        for (name, entry) in policies {
            let arn = entry.get("arn").and_then(|a| a.as_str()).unwrap();
            let is_shipped = entry.get("shipped").and_then(|s| s.as_bool()).unwrap();
            assert_eq!(shipped_document(arn).is_some(), is_shipped, "{name}");
            assert!(
                aws_managed_policy_arns().any(|a| a == arn),
                "{name} not in the list"
            );
            if let Some(doc) = shipped_document(arn) {
                shipped += 1;
                landfall_policy::parse_as(landfall_policy::PolicyKind::Identity, name, doc)
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            }
        }
        assert_eq!(shipped, DOCUMENTS.len());
    }
}
