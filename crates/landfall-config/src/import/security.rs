//! The organization's trusted access and delegated administrators, named in an
//! import's comments but not declared: Landfall declares them only as parts of
//! `[logging]` and `[security_services]`, which also make a trail, a bucket, an
//! aggregator or an analyzer — resources an import cannot know are wanted. Left as
//! they are, Landfall never touches them (it changes only what it declares or records).

use super::organization::Org;
use super::text::{banner, string, string_array};
use super::{Doc, ImportRequest};
use crate::security::services::Service;

/// Comment lines for what the security read found; none when it was not read.
pub(super) fn lines(req: &ImportRequest<'_>, org: &Org) -> Vec<String> {
    let security = &req.live.security;
    if !security.read {
        return Vec::new();
    }
    let mut lines = Vec::new();
    if !security.service_access.is_empty() {
        lines.push("Trusted access:".to_string());
        for principal in &security.service_access {
            lines.push(format!("  {principal}"));
        }
    }
    if !security.delegated_admins.is_empty() {
        lines.push("Delegated administrators:".to_string());
    }
    for (principal, accounts) in &security.delegated_admins {
        let named: Vec<String> = accounts
            .iter()
            .map(|id| match org.account_name(id) {
                Some(name) => format!("account.{name} ({id})"),
                None => id.clone(),
            })
            .collect();
        lines.push(format!("  {principal}: {}", named.join(", ")));
    }
    if let Some(block) = security_services_block(req, org) {
        lines.push(" ".to_string());
        lines.push(
            "The security services are delegated as [security_services] does it; to manage them\n\
             (which also makes the organization aggregator and analyzer where they are\n\
             missing: the first plan shows them):"
                .to_string(),
        );
        lines.extend(block);
    }
    lines
}

/// `[security_services]` as it would declare what is in place: every security service
/// Landfall knows whose principals all have one and the same declared delegated
/// administrator (and no other). `None` when there is none, or no single account.
fn security_services_block(req: &ImportRequest<'_>, org: &Org) -> Option<Vec<String>> {
    let security = &req.live.security;
    let mut admin: Option<&str> = None;
    let mut services = Vec::new();
    for service in Service::ALL {
        let mut holders = service
            .principals()
            .iter()
            .map(|p| security.delegated_admins.get(*p));
        let Some(Some(first)) = holders.next() else {
            continue;
        };
        if first.len() != 1 || !holders.all(|h| h == Some(first)) {
            continue;
        }
        let account = first.iter().next()?;
        match admin {
            Some(a) if a != account.as_str() => return None,
            _ => admin = Some(account),
        }
        services.push(service.key());
    }
    let name = org.account_name(admin?)?;
    Some(vec![
        "[security_services]".to_string(),
        format!("delegated_administrator = {}", string(name)),
        format!("services = {}", string_array(services)),
    ])
}

pub(super) fn write(doc: &mut Doc, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    doc.text.push_str(&banner(
        "Trusted access and delegated administrators (not declared)",
    ));
    doc.comment(
        "Landfall leaves these as they are. [security_services] declares GuardDuty, Security\n\
         Hub, AWS Config and IAM Access Analyzer delegated to one account (with an organization\n\
         aggregator and analyzer); [logging] declares CloudTrail's trusted access with the\n\
         organization trail.",
    );
    for l in lines {
        doc.comment(l);
    }
    doc.blank();
}
