//! `landfall sim ...`: out-of-band changes in the sim world, made through the same
//! API calls a console user's clicks would make. For demos and drift tests.

use std::fmt::Write;

use landfall_core::live::{ControlStatus, LiveGovernance, ShareTarget};
use landfall_core::{LiveIndex, LiveState, OuPath, Target};
use landfall_engine::TypedCalls;
use landfall_engine::provider::{CreateAccountStatus, Provider};

use crate::cli::{GlobalArgs, LandingZoneArg, SimCommand};
use crate::context;
use crate::error::{CliError, CliResult};
use crate::stdout;
use landfall_sim::governance::LandingZone;

use super::SUCCESS;

fn target_id(index: &LiveIndex, text: &str) -> CliResult<String> {
    let target = Target::parse(text).map_err(CliError::new)?;
    index
        .target_id(&target)
        .ok_or_else(|| CliError::new(format!("{target} does not exist in the sim world")))
}

fn policy_id(index: &LiveIndex, name: &str) -> CliResult<String> {
    index
        .policy_by_name(name)
        .map(|p| p.id.clone())
        .ok_or_else(|| CliError::new(format!("no policy named `{name}` in the sim world")))
}

/// `rcp`, `tag_policy` or `ai_opt_out_policy` (clap allows no other).
fn org_policy_type(text: &str) -> CliResult<landfall_core::OrgPolicyType> {
    landfall_core::OrgPolicyType::from_key(text).ok_or_else(|| {
        CliError::new(format!(
            "`{text}` is not rcp, tag_policy or ai_opt_out_policy"
        ))
    })
}

fn ou_id(index: &LiveIndex, path: &str) -> CliResult<String> {
    let path = OuPath::parse(path).map_err(CliError::new)?;
    index
        .ou_id(&path)
        .map(str::to_string)
        .ok_or_else(|| CliError::new(format!("no OU at `{path}` in the sim world")))
}

/// An OU given as `Path/To/Ou` or `ou:Path/To/Ou`.
fn ou_arg(index: &LiveIndex, text: &str) -> CliResult<String> {
    ou_id(index, text.strip_prefix("ou:").unwrap_or(text))
}

/// A portfolio: its `port-...` id, its `[portfolio.NAME]` key (the state file knows
/// its id) or its display name in the sim world.
fn portfolio_id(ws: &context::Workspace, gov: &LiveGovernance, text: &str) -> CliResult<String> {
    if text.starts_with("port-") {
        return Ok(text.to_string());
    }
    let name = text.strip_prefix("portfolio.").unwrap_or(text);
    if let Some(state) = landfall_engine::state_store::read_state(&ws.state_path)?
        && let Some(rec) = state
            .resources
            .get(&landfall_core::Address::Portfolio(name.to_string()))
    {
        return Ok(rec.id.clone());
    }
    let named: Vec<&str> = gov
        .portfolios
        .values()
        .filter(|p| p.display_name == text)
        .map(|p| p.id.as_str())
        .collect();
    match named.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(CliError::with_hint(
            format!("no portfolio `{text}` in the sim world"),
            "give its port-... id, its [portfolio.NAME] key or its display name (see `landfall sim show`)",
        )),
        several => Err(CliError::new(format!(
            "{} portfolios are named `{text}` ({}): give the port-... id",
            several.len(),
            several.join(", ")
        ))),
    }
}

/// A share target: `organization`, `ou:Path` or `account:name`.
fn share_target(index: &LiveIndex, text: &str) -> CliResult<ShareTarget> {
    if text == "organization" || text == "root" {
        return Ok(ShareTarget::Organization);
    }
    let id = target_id(index, text)?;
    match Target::parse(text).map_err(CliError::new)? {
        Target::Root => Ok(ShareTarget::Organization),
        Target::Ou(_) => Ok(ShareTarget::OrganizationalUnit(id)),
        Target::Account(_) => Ok(ShareTarget::Account(id)),
    }
}

fn governance_tree(gov: &LiveGovernance, live: &LiveState, index: &LiveIndex) -> String {
    let mut out = String::new();
    let ou_name = |id: &str| {
        index
            .ou_path(id)
            .map(|p| format!("ou:{p}"))
            .unwrap_or_else(|| id.to_string())
    };
    let account_name = |id: &str| {
        live.accounts
            .get(id)
            .map(|a| format!("account:{}", a.name))
            .unwrap_or_else(|| id.to_string())
    };
    for c in &gov.enabled_controls {
        let status = match c.status {
            ControlStatus::Succeeded => "",
            ControlStatus::Failed => " FAILED",
            ControlStatus::UnderChange => " UNDER_CHANGE",
        };
        let drift = if c.drifted { " DRIFTED" } else { "" };
        let _ = writeln!(
            out,
            "  control {} on {} ({}){status}{drift}",
            c.short_id(),
            ou_name(&c.target_id),
            c.arn
        );
    }
    for b in gov.baselines.iter().flat_map(|b| &b.enabled) {
        if b.parent_arn.is_some() {
            continue;
        }
        let status = match b.status {
            ControlStatus::Succeeded => "",
            ControlStatus::Failed => " FAILED",
            ControlStatus::UnderChange => " UNDER_CHANGE",
        };
        let drift = if b.drifted { " DRIFTED" } else { "" };
        let _ = writeln!(
            out,
            "  registered {} (AWSControlTowerBaseline {}, {}){status}{drift}",
            ou_name(&b.target_id),
            b.version.as_deref().unwrap_or("?"),
            b.arn
        );
    }
    for p in gov.portfolios.values() {
        let _ = writeln!(
            out,
            "  portfolio {:?} ({}) by {:?}",
            p.display_name, p.id, p.provider
        );
    }
    for s in &gov.portfolio_shares {
        let target = match &s.target {
            ShareTarget::Organization => "organization".to_string(),
            ShareTarget::OrganizationalUnit(id) => ou_name(id),
            ShareTarget::Account(id) => account_name(id),
        };
        let pending = if s.accepted { "" } else { " (not accepted)" };
        let _ = writeln!(out, "  share {} -> {target}{pending}", s.portfolio_id);
    }
    for pp in &gov.provisioned_accounts {
        let account = pp
            .account_id
            .as_deref()
            .map(|id| format!(" {}", account_name(id)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  provisioned product {} ({}) {}{account}",
            pp.name, pp.provisioned_product_id, pp.status
        );
    }
    out
}

/// A member account (`account:name` or its name) and region.
fn member_scope(
    index: &LiveIndex,
    account: &str,
    region: &str,
) -> CliResult<landfall_engine::provider::MemberScope> {
    let name = account.strip_prefix("account:").unwrap_or(account);
    let acct = index
        .account_by_name(name)
        .ok_or_else(|| CliError::new(format!("no account named `{name}` in the sim world")))?;
    Ok(landfall_engine::provider::MemberScope {
        account_id: acct.id.clone(),
        region: region.to_string(),
    })
}

/// The member scope and id of a resource Landfall manages, from the state file.
fn managed(
    ws: &context::Workspace,
    address: &str,
) -> CliResult<(landfall_engine::provider::MemberScope, String)> {
    let parsed: landfall_core::Address = address.parse().map_err(CliError::new)?;
    let state = landfall_engine::state_store::read_state(&ws.state_path)?
        .ok_or_else(|| CliError::new("no state file yet: apply first"))?;
    let rec = state
        .resources
        .get(&parsed)
        .ok_or_else(|| CliError::new(format!("{parsed} is not in the state")))?;
    let (account_id, region) = rec
        .member
        .as_deref()
        .and_then(|m| m.split_once('/'))
        .ok_or_else(|| CliError::new(format!("{parsed} is not a member-account resource")))?;
    Ok((
        landfall_engine::provider::MemberScope {
            account_id: account_id.to_string(),
            region: region.to_string(),
        },
        rec.id.clone(),
    ))
}

fn tree(live: &LiveState, index: &LiveIndex) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "root {}", live.root_id);
    let mut rows: Vec<(String, String)> = Vec::new();
    for ou in live.ous.values() {
        if let Some(p) = index.ou_path(&ou.id) {
            rows.push((p.to_string(), format!("ou {p} ({})", ou.id)));
        }
    }
    for a in live.accounts.values() {
        let parent = index
            .parent_target(&a.parent_id)
            .map(|t| match t {
                Target::Ou(p) => p.to_string(),
                _ => String::new(),
            })
            .unwrap_or_default();
        let status = match a.status {
            landfall_core::live::AccountStatus::Active => String::new(),
            other => format!(" {other:?}"),
        };
        rows.push((
            format!("{parent}/\u{10FFFF}{}", a.name),
            format!(
                "account {} ({}, {}){status} in {}",
                a.name,
                a.id,
                a.email,
                if parent.is_empty() { "root" } else { &parent }
            ),
        ));
    }
    rows.sort();
    for (_, line) in rows {
        let _ = writeln!(out, "  {line}");
    }
    for (p, t) in &live.attachments {
        let name = live.policies.get(p).map(|p| p.name.as_str()).unwrap_or(p);
        let target = index
            .parent_target(t)
            .map(|t| t.to_string())
            .or_else(|| live.accounts.get(t).map(|a| format!("account.{}", a.name)))
            .unwrap_or_else(|| t.clone());
        let _ = writeln!(out, "  attachment {name} -> {target}");
    }
    out
}

pub async fn sim(global: &GlobalArgs, cmd: &SimCommand) -> CliResult<u8> {
    let ws = context::load(global)?;
    let sim = context::open_sim(&ws, false)?;
    let live = sim
        .refresh()
        .await
        .map_err(|e| CliError::new(format!("cannot read the sim world: {e}")))?;
    let index = LiveIndex::new(&live);
    let fail = |e: landfall_engine::ProviderError| CliError::new(e.to_string());
    match cmd {
        SimCommand::Show => {
            let gov = sim.governance_snapshot();
            stdout::print(&format!(
                "{}{}",
                tree(&live, &index),
                governance_tree(&gov, &live, &index)
            ))?;
        }
        SimCommand::DetachPolicy { policy, target } => {
            let (p, t) = (policy_id(&index, policy)?, target_id(&index, target)?);
            sim.detach_policy(&p, &t).await.map_err(fail)?;
            eprintln!("detached {policy} from {target}");
        }
        SimCommand::AttachPolicy { policy, target } => {
            let (p, t) = (policy_id(&index, policy)?, target_id(&index, target)?);
            sim.attach_policy(&p, &t).await.map_err(fail)?;
            eprintln!("attached {policy} to {target}");
        }
        SimCommand::MoveAccount { account, to } => {
            let account = account.strip_prefix("account:").unwrap_or(account);
            let acct = index.account_by_name(account).ok_or_else(|| {
                CliError::new(format!("no account named `{account}` in the sim world"))
            })?;
            let dest = target_id(&index, to)?;
            sim.move_account(&acct.id, &acct.parent_id, &dest)
                .await
                .map_err(fail)?;
            eprintln!("moved {account} to {to}");
        }
        SimCommand::CreateOu { path } => {
            let p =
                OuPath::parse(path.strip_prefix("ou:").unwrap_or(path)).map_err(CliError::new)?;
            let parent = match p.parent() {
                None => live.root_id.clone(),
                Some(pp) => ou_id(&index, pp.as_str())?,
            };
            let id = sim
                .create_ou(&parent, p.name(), &Default::default())
                .await
                .map_err(fail)?;
            eprintln!("created ou {p} ({id})");
        }
        SimCommand::CreateAccount {
            name,
            email,
            parent,
        } => {
            let dest = target_id(&index, parent)?;
            let request = landfall_engine::provider::CreateAccountRequest {
                name: name.clone(),
                email: email.clone(),
                tags: Default::default(),
                role_name: ws.desired.landing_zone.access_role.clone(),
            };
            let request_id = sim.create_account(&request).await.map_err(fail)?;
            let mut account_id = None;
            // The sim finishes a creation after `account_creation_polls` polls.
            for _ in 0..1000 {
                match sim.create_account_status(&request_id).await.map_err(fail)? {
                    CreateAccountStatus::InProgress => continue,
                    CreateAccountStatus::Succeeded { account_id: id } => {
                        account_id = Some(id);
                        break;
                    }
                    CreateAccountStatus::Failed { reason } => {
                        return Err(CliError::new(format!(
                            "cannot create account {name}: {reason}"
                        )));
                    }
                }
            }
            let id = account_id.ok_or_else(|| {
                CliError::new(format!("the creation of account {name} did not finish"))
            })?;
            if dest != live.root_id {
                sim.move_account(&id, &live.root_id, &dest)
                    .await
                    .map_err(fail)?;
            }
            stdout::print(&format!("{id}\n"))?;
            eprintln!("created account {name} ({id}) in {parent}");
        }
        SimCommand::CloseAccount { account } => {
            let account = account.strip_prefix("account:").unwrap_or(account);
            let acct = index.account_by_name(account).ok_or_else(|| {
                CliError::new(format!("no account named `{account}` in the sim world"))
            })?;
            sim.close_account(&acct.id).await.map_err(fail)?;
            eprintln!("closed account {account} ({})", acct.id);
        }
        SimCommand::CreatePolicy {
            name,
            file,
            description,
        } => {
            let content = std::fs::read_to_string(file)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", file.display())))?;
            let id = sim
                .create_policy(name, description, &content, &Default::default())
                .await
                .map_err(fail)?;
            stdout::print(&format!("{id}\n"))?;
            eprintln!("created policy {name} ({id})");
        }
        SimCommand::RenameOu { path, new_name } => {
            let id = ou_arg(&index, path)?;
            sim.rename_ou(&id, new_name).await.map_err(fail)?;
            eprintln!("renamed ou {path} to {new_name}");
        }
        SimCommand::DeleteOu { path } => {
            let id = ou_arg(&index, path)?;
            sim.delete_ou(&id).await.map_err(fail)?;
            eprintln!("deleted ou {path}");
        }
        SimCommand::UpdatePolicy { policy, file } => {
            let id = policy_id(&index, policy)?;
            let content = std::fs::read_to_string(file)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", file.display())))?;
            sim.update_policy(&id, None, None, Some(&content))
                .await
                .map_err(fail)?;
            eprintln!("updated policy {policy}");
        }
        SimCommand::Tag {
            resource,
            key,
            value,
        } => {
            let id = if let Some(name) = resource.strip_prefix("scp:") {
                policy_id(&index, name)?
            } else {
                target_id(&index, resource)?
            };
            let tags = [(key.clone(), value.clone())].into_iter().collect();
            sim.tag_resource(&id, &tags).await.map_err(fail)?;
            eprintln!("tagged {resource} with {key}={value}");
        }
        SimCommand::DeleteEndpoint { address } => {
            let (scope, id) = managed(&ws, address)?;
            sim.delete_endpoint(&scope, &id).await.map_err(fail)?;
            eprintln!("deleted {address} ({id})");
        }
        SimCommand::SetEndpointPolicy { address, file } => {
            let (scope, id) = managed(&ws, address)?;
            let policy = std::fs::read_to_string(file)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", file.display())))?;
            let change = landfall_engine::provider::EndpointModification {
                policy: Some(Some(policy)),
                ..Default::default()
            };
            sim.modify_endpoint(&scope, &id, &change)
                .await
                .map_err(fail)?;
            eprintln!("replaced the policy of {address}");
        }
        SimCommand::SetKeyRotation { address, rotation } => {
            let (scope, id) = managed(&ws, address)?;
            sim.set_key_rotation(&scope, &id, rotation == "on")
                .await
                .map_err(fail)?;
            eprintln!("turned rotation {rotation} for {address}");
        }
        SimCommand::CreateEndpoint { vpc, service } => {
            let (scope, vpc_id) = managed(&ws, vpc)?;
            let member = sim.refresh_member(&scope).await.map_err(fail)?;
            let subnet = member
                .subnets
                .values()
                .find(|s| s.vpc_id == vpc_id)
                .map(|s| s.id.clone())
                .ok_or_else(|| CliError::new(format!("{vpc} has no subnet")))?;
            let request = landfall_engine::provider::EndpointRequest {
                vpc_id,
                service_name: format!("com.amazonaws.{}.{service}", scope.region),
                kind: landfall_core::model::EndpointKind::Interface,
                subnet_ids: vec![subnet],
                security_group_ids: vec![],
                route_table_ids: vec![],
                private_dns: false,
                policy: None,
                tags: Default::default(),
            };
            let id = sim.create_endpoint(&scope, &request).await.map_err(fail)?;
            eprintln!("created an unmanaged {service} endpoint {id} in {vpc}");
        }
        SimCommand::CreateVpc {
            account,
            region,
            cidr,
        } => {
            let scope = member_scope(&index, account, region)?;
            let id = sim
                .create_vpc(&scope, cidr, &Default::default())
                .await
                .map_err(fail)?;
            stdout::print(&format!("{id}\n"))?;
            eprintln!("created an unmanaged VPC {id} ({cidr}) in {scope}");
        }
        SimCommand::CreateKey {
            account,
            region,
            description,
        } => {
            let scope = member_scope(&index, account, region)?;
            // The policy AWS gives a key created without one.
            let policy = format!(
                r#"{{"Version":"2012-10-17","Id":"key-default-1","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#,
                scope.account_id
            );
            let id = sim
                .create_key(&scope, description, &policy, &Default::default())
                .await
                .map_err(fail)?;
            stdout::print(&format!("{id}\n"))?;
            eprintln!("created an unmanaged KMS key {id} in {scope}");
        }
        SimCommand::DisableControl { control, ou } => {
            let id = ou_arg(&index, ou)?;
            let short = landfall_core::live::control_short_id(control);
            let arn = sim.remove_control(short, &id).await.map_err(fail)?;
            eprintln!("disabled control {short} on {ou} ({arn})");
        }
        SimCommand::DriftControl { control, ou } => {
            let id = ou_arg(&index, ou)?;
            let short = landfall_core::live::control_short_id(control);
            let arn = sim.mark_control_drifted(short, &id).await.map_err(fail)?;
            eprintln!("control {short} on {ou} has drifted ({arn})");
        }
        SimCommand::DeregisterOu { ou } => {
            let id = ou_arg(&index, ou)?;
            let arn = sim.deregister_ou(&id).await.map_err(fail)?;
            eprintln!("deregistered {ou} from Control Tower ({arn})");
        }
        SimCommand::DriftRegistration { ou } => {
            let id = ou_arg(&index, ou)?;
            let arn = sim.mark_registration_drifted(&id).await.map_err(fail)?;
            eprintln!("the registration of {ou} has drifted ({arn})");
        }
        SimCommand::DeletePortfolioShare { portfolio, target } => {
            let id = portfolio_id(&ws, &sim.governance_snapshot(), portfolio)?;
            let share = share_target(&index, target)?;
            sim.delete_portfolio_share(&id, &share)
                .await
                .map_err(fail)?;
            eprintln!("deleted the share of {portfolio} ({id}) with {target}");
        }
        SimCommand::DeletePortfolio { portfolio } => {
            let id = portfolio_id(&ws, &sim.governance_snapshot(), portfolio)?;
            sim.delete_portfolio_and_shares(&id).await.map_err(fail)?;
            eprintln!("deleted portfolio {portfolio} ({id}) and its shares");
        }
        SimCommand::LandingZone { status } => {
            let landing_zone = match status {
                LandingZoneArg::Active => LandingZone::Active,
                LandingZoneArg::Drifted => LandingZone::Drifted,
                LandingZoneArg::Failed => LandingZone::Failed,
                LandingZoneArg::None => LandingZone::None,
            };
            sim.set_landing_zone(landing_zone).map_err(CliError::new)?;
            eprintln!("the Control Tower landing zone is now {landing_zone:?}");
        }
        SimCommand::AddUser { user_name } => {
            let id = sim.add_identity_user(user_name).map_err(fail)?;
            eprintln!("added user {user_name}");
            stdout::print(&format!("{id}\n"))?;
        }
        SimCommand::DeleteAssignment {
            permission_set,
            principal,
            account,
        } => {
            let identity = sim.identity_snapshot();
            let set = identity.permission_set(permission_set).ok_or_else(|| {
                CliError::new(format!(
                    "no permission set named `{permission_set}` in the sim world"
                ))
            })?;
            let principal =
                landfall_core::address::Principal::parse(principal).map_err(CliError::new)?;
            let (principal_type, principal_id) = match &principal {
                landfall_core::address::Principal::Group(name) => (
                    landfall_core::live::PrincipalType::Group,
                    identity.group_id(name).map(str::to_string),
                ),
                landfall_core::address::Principal::User(name) => (
                    landfall_core::live::PrincipalType::User,
                    identity.users.get(name).cloned(),
                ),
            };
            let principal_id = principal_id.ok_or_else(|| {
                CliError::new(format!("no {principal} in the sim world's Identity Store"))
            })?;
            let name = account.strip_prefix("account:").unwrap_or(account);
            let acct = index.account_by_name(name).ok_or_else(|| {
                CliError::new(format!("no account named `{name}` in the sim world"))
            })?;
            sim.remove_account_assignment(&set.arn, principal_type, &principal_id, &acct.id)
                .await
                .map_err(fail)?;
            eprintln!("removed {principal}'s {permission_set} in {name}");
        }
        SimCommand::SetInlinePolicy {
            permission_set,
            file,
            remove,
        } => {
            let document =
                match (file, remove) {
                    (_, true) => None,
                    (Some(file), false) => Some(std::fs::read_to_string(file).map_err(|e| {
                        CliError::new(format!("cannot read {}: {e}", file.display()))
                    })?),
                    (None, false) => None,
                };
            sim.edit_inline_policy(permission_set, document.as_deref())
                .await
                .map_err(fail)?;
            eprintln!("changed the inline policy of {permission_set}");
        }
        SimCommand::AddCustomerPolicy { account, policy } => {
            let name = account.strip_prefix("account:").unwrap_or(account);
            let acct = index.account_by_name(name).ok_or_else(|| {
                CliError::new(format!("no account named `{name}` in the sim world"))
            })?;
            let (path, policy_name) = match policy.rsplit_once('/') {
                Some((path, n)) => (format!("{path}/"), n.to_string()),
                None => ("/".to_string(), policy.clone()),
            };
            sim.add_customer_managed_policy(
                &acct.id,
                landfall_core::model::CustomerPolicyRef {
                    name: policy_name,
                    path: if path.starts_with('/') {
                        path
                    } else {
                        format!("/{path}")
                    },
                },
            )
            .map_err(fail)?;
            eprintln!("policy {policy} now exists in {name}");
        }
        SimCommand::StopLogging { trail } => {
            let arn = sim.stop_logging(trail).await.map_err(fail)?;
            eprintln!("stopped logging on {arn}");
        }
        SimCommand::DeleteTrail { trail } => {
            let arn = sim.remove_trail(trail).await.map_err(fail)?;
            eprintln!("deleted trail {arn}");
        }
        SimCommand::PutBucketPolicy {
            bucket,
            file,
            delete,
        } => {
            let policy =
                match (file, delete) {
                    (Some(file), false) => Some(std::fs::read_to_string(file).map_err(|e| {
                        CliError::new(format!("cannot read {}: {e}", file.display()))
                    })?),
                    (_, true) | (None, false) => None,
                };
            sim.replace_bucket_policy(bucket, policy.as_deref())
                .await
                .map_err(fail)?;
            eprintln!("replaced the policy of bucket {bucket}");
        }
        SimCommand::DisablePolicyType { policy_type } => {
            let t = org_policy_type(policy_type)?;
            sim.disable_policy_type(t.policy_type())
                .await
                .map_err(fail)?;
            eprintln!("disabled {} on the root", t.policy_type());
        }
        SimCommand::DetachOrgPolicy {
            policy_type,
            policy,
            target,
        } => {
            let t = org_policy_type(policy_type)?;
            let target_id = target_id(&index, target)?;
            let id = sim
                .detach_org_policy(t.policy_type(), policy, &target_id)
                .await
                .map_err(fail)?;
            eprintln!("detached {} {policy} ({id}) from {target}", t.noun());
        }
        SimCommand::EditOrgPolicy {
            policy_type,
            policy,
            file,
        } => {
            let t = org_policy_type(policy_type)?;
            let content = std::fs::read_to_string(file)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", file.display())))?;
            let id = sim
                .edit_org_policy_content(t.policy_type(), policy, &content)
                .await
                .map_err(fail)?;
            eprintln!("changed the document of {} {policy} ({id})", t.noun());
        }
        SimCommand::OrganizationsAccess { access } => {
            sim.set_organizations_access(access == "enabled")
                .map_err(CliError::new)?;
            eprintln!("Service Catalog's AWS Organizations access is now {access}");
        }
    }
    Ok(SUCCESS)
}
