//! AWS Organizations calls in the management account: the changes the executor asks
//! for, and the account-creation status reads it polls. Each change is counted; its
//! pacing and retries are the executor's.

use aws_sdk_organizations::types::{CreateAccountState, PolicyType as SdkPolicyType};
use landfall_core::PolicyType;
use landfall_engine::provider::{
    CreateAccountStatus, ErrorKind, OrganizationsCall, ProviderError, ProviderResult, Reply,
};

use crate::errors::{Context, empty_response, from_sdk_in};
use crate::{AwsBackend, to_sdk_tags};

/// A policy type as the SDK names it.
pub(crate) fn sdk_policy_type(policy_type: PolicyType) -> SdkPolicyType {
    SdkPolicyType::from(policy_type.aws_name())
}

/// An id the response must carry.
fn returned(api: &'static str, what: &str, id: Option<&str>) -> ProviderResult<Reply> {
    id.map(|id| Reply::from(Some(id.to_string())))
        .ok_or_else(|| empty_response(api, what))
}

pub(crate) async fn execute(
    aws: &AwsBackend,
    call: OrganizationsCall<'_>,
) -> ProviderResult<Reply> {
    use OrganizationsCall as C;
    let api = call.api();
    aws.calls.count(api);
    let org = &aws.org;
    match call {
        C::CreateOrganizationalUnit {
            parent_id,
            name,
            tags,
        } => {
            let out = org
                .create_organizational_unit()
                .parent_id(parent_id)
                .name(name)
                .set_tags(to_sdk_tags(tags)?)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            let ou = out.organizational_unit().and_then(|ou| ou.id());
            returned(api, "OU id", ou)
        }
        C::UpdateOrganizationalUnit { ou_id, name } => {
            org.update_organizational_unit()
                .organizational_unit_id(ou_id)
                .name(name)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::DeleteOrganizationalUnit { ou_id } => {
            org.delete_organizational_unit()
                .organizational_unit_id(ou_id)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::CreateAccount(request) => {
            let out = org
                .create_account()
                .email(&request.email)
                .account_name(&request.name)
                .role_name(&request.role_name)
                .set_tags(to_sdk_tags(&request.tags)?)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            let status = out.create_account_status();
            let mut reply = returned(api, "request id", status.and_then(|s| s.id()))?;
            // moto answers with the creation already finished; AWS, IN_PROGRESS.
            reply.account_status = status
                .map(status_of)
                .filter(|s| *s != CreateAccountStatus::InProgress);
            Ok(reply)
        }
        C::MoveAccount {
            account_id,
            source_parent_id,
            destination_parent_id,
        } => {
            org.move_account()
                .account_id(account_id)
                .source_parent_id(source_parent_id)
                .destination_parent_id(destination_parent_id)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::PutAccountName { account_id, name } => {
            // The management account cannot name itself by id: it calls without one.
            let me = aws.caller().await?;
            let own = account_id == me.management_account_id;
            aws.account_client(api)?
                .put_account_name()
                .set_account_id((!own).then(|| account_id.to_string()))
                .account_name(name)
                .send()
                .await
                .map_err(|e| account_err(aws, api, e))?;
            Ok(Reply::default())
        }
        C::CloseAccount { account_id } => {
            org.close_account()
                .account_id(account_id)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::TagResource { resource_id, tags } => {
            org.tag_resource()
                .resource_id(resource_id)
                .set_tags(to_sdk_tags(tags)?)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::UntagResource { resource_id, keys } => {
            org.untag_resource()
                .resource_id(resource_id)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::CreatePolicy {
            name,
            description,
            content,
            tags,
            policy_type,
        } => {
            let out = org
                .create_policy()
                .name(name)
                .description(description)
                .content(content)
                .r#type(sdk_policy_type(policy_type))
                .set_tags(to_sdk_tags(tags)?)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            let id = out
                .policy()
                .and_then(|p| p.policy_summary())
                .and_then(|s| s.id());
            returned(api, "policy id", id)
        }
        C::UpdatePolicy {
            policy_id,
            name,
            description,
            content,
        } => {
            org.update_policy()
                .policy_id(policy_id)
                .set_name(name.map(str::to_string))
                .set_description(description.map(str::to_string))
                .set_content(content.map(str::to_string))
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::EnablePolicyType {
            root_id,
            policy_type,
        } => {
            org.enable_policy_type()
                .root_id(root_id)
                .policy_type(sdk_policy_type(policy_type))
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::DisablePolicyType {
            root_id,
            policy_type,
        } => {
            org.disable_policy_type()
                .root_id(root_id)
                .policy_type(sdk_policy_type(policy_type))
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::EnableAwsServiceAccess { service_principal } => {
            org.enable_aws_service_access()
                .service_principal(service_principal)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::DisableAwsServiceAccess { service_principal } => {
            org.disable_aws_service_access()
                .service_principal(service_principal)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::RegisterDelegatedAdministrator {
            account_id,
            service_principal,
        } => {
            org.register_delegated_administrator()
                .account_id(account_id)
                .service_principal(service_principal)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::DeregisterDelegatedAdministrator {
            account_id,
            service_principal,
        } => {
            org.deregister_delegated_administrator()
                .account_id(account_id)
                .service_principal(service_principal)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::DeletePolicy { policy_id } => {
            org.delete_policy()
                .policy_id(policy_id)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::AttachPolicy {
            policy_id,
            target_id,
        } => {
            org.attach_policy()
                .policy_id(policy_id)
                .target_id(target_id)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
        C::DetachPolicy {
            policy_id,
            target_id,
        } => {
            org.detach_policy()
                .policy_id(policy_id)
                .target_id(target_id)
                .send()
                .await
                .map_err(|e| aws.err(api, e))?;
            Ok(Reply::default())
        }
    }
}

impl AwsBackend {
    /// The Account Management client (management account, the SDK region: its API is
    /// global), made on first use.
    fn account_client(&self, api: &'static str) -> ProviderResult<&aws_sdk_account::Client> {
        if let Some(c) = self.account.get() {
            return Ok(c);
        }
        let base = self.base.as_ref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("NotConfigured".into()),
                api,
                "this backend has no SDK configuration to reach AWS Account Management with",
            )
        })?;
        Ok(self
            .account
            .get_or_init(|| aws_sdk_account::Client::new(base)))
    }
}

/// An Account Management error: named after the `account` IAM prefix, and an access
/// denial says what renaming a member account needs besides the permission.
fn account_err<E>(
    aws: &AwsBackend,
    api: &'static str,
    e: aws_sdk_account::error::SdkError<E, aws_sdk_account::config::http::HttpResponse>,
) -> ProviderError
where
    E: aws_sdk_account::error::ProvideErrorMetadata + std::error::Error + std::fmt::Debug + 'static,
{
    let mut err = from_sdk_in(
        &Context {
            service: "account",
            principal: &aws.principal(),
            scope: None,
        },
        api,
        e,
        |_| None,
    );
    if err.kind == ErrorKind::AccessDenied {
        err.message.push_str(
            "; renaming a member account also needs trusted access for AWS Account Management in the organization (`aws organizations enable-aws-service-access --service-principal account.amazonaws.com`)",
        );
    }
    err
}

/// `DescribeCreateAccountStatus`.
pub(crate) async fn create_account_status(
    aws: &AwsBackend,
    request_id: &str,
) -> ProviderResult<CreateAccountStatus> {
    let out = aws
        .read("DescribeCreateAccountStatus", || {
            aws.org
                .describe_create_account_status()
                .create_account_request_id(request_id)
                .send()
        })
        .await?;
    Ok(out
        .create_account_status()
        .map_or(CreateAccountStatus::InProgress, status_of))
}

/// A creation's status as `CreateAccount` and `DescribeCreateAccountStatus` answer it
/// (SUCCEEDED counts only with the account id).
fn status_of(status: &aws_sdk_organizations::types::CreateAccountStatus) -> CreateAccountStatus {
    match status.state() {
        Some(CreateAccountState::Succeeded) => match status.account_id() {
            Some(id) => CreateAccountStatus::Succeeded {
                account_id: id.to_string(),
            },
            None => CreateAccountStatus::InProgress,
        },
        Some(CreateAccountState::Failed) => CreateAccountStatus::Failed {
            reason: status
                .failure_reason()
                .map(|r| r.as_str().to_string())
                .unwrap_or_else(|| "UNKNOWN".into()),
        },
        _ => CreateAccountStatus::InProgress,
    }
}

/// `ListCreateAccountStatus` with `IN_PROGRESS`: (request id, account name).
pub(crate) async fn in_progress_account_creations(
    aws: &AwsBackend,
) -> ProviderResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = aws
            .read("ListCreateAccountStatus", || {
                aws.org
                    .list_create_account_status()
                    .states(CreateAccountState::InProgress)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
        for s in page.create_account_statuses() {
            if let (Some(id), Some(name)) = (s.id(), s.account_name()) {
                out.push((id.to_string(), name.to_string()));
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}
