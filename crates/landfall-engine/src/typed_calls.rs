//! One typed method per API call over [`Provider::execute`], for scripted
//! out-of-band changes (`landfall sim`) and tests: `p.create_ou(&root, "Dev", &tags)`
//! instead of building the [`Call`]. The executor does not use them; it builds calls
//! itself so that pacing and tolerance are decided once per call.

use std::collections::BTreeMap;

use async_trait::async_trait;
use landfall_core::live::ShareTarget;
use landfall_core::model::Tags;

use crate::call::{Call, GovernanceCall as G, MemberCall as M, OrganizationsCall as O};
use crate::provider::{
    AccountFactoryRequest, CreateAccountRequest, EndpointModification, EndpointRequest, ErrorKind,
    MemberScope, PortfolioUpdate, Provider, ProviderError, ProviderResult, Reply,
};

/// What a typed method makes of a call's reply.
pub trait FromReply: Sized {
    fn from_reply(api: &'static str, reply: Reply) -> ProviderResult<Self>;
}

impl FromReply for () {
    fn from_reply(_: &'static str, _: Reply) -> ProviderResult<Self> {
        Ok(())
    }
}

impl FromReply for Option<String> {
    fn from_reply(_: &'static str, reply: Reply) -> ProviderResult<Self> {
        Ok(reply.id)
    }
}

/// The whole reply (`CreateAccount`: the request id and a terminal status).
impl FromReply for Reply {
    fn from_reply(_: &'static str, reply: Reply) -> ProviderResult<Self> {
        Ok(reply)
    }
}

/// A call that must return an id (a create, an asynchronous start): a backend that
/// answers without one is an error, not an empty id.
impl FromReply for String {
    fn from_reply(api: &'static str, reply: Reply) -> ProviderResult<Self> {
        reply.id.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Other("EmptyResponse".into()),
                api,
                "the call returned no id",
            )
        })
    }
}

macro_rules! typed_calls {
    ($( fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $call:expr; )*) => {
        /// Typed calls on any [`Provider`].
        #[async_trait]
        pub trait TypedCalls: Provider {
            $(
                async fn $name(&self, $($arg: $ty),*) -> ProviderResult<$out> {
                    let call = $call;
                    let reply = self.execute(&call).await?;
                    <$out>::from_reply(call.api(), reply)
                }
            )*
        }
    };
}

typed_calls! {
    fn create_ou(parent_id: &str, name: &str, tags: &Tags) -> String =
        Call::Organizations(O::CreateOrganizationalUnit { parent_id, name, tags });
    fn rename_ou(ou_id: &str, name: &str) -> () =
        Call::Organizations(O::UpdateOrganizationalUnit { ou_id, name });
    fn delete_ou(ou_id: &str) -> () = Call::Organizations(O::DeleteOrganizationalUnit { ou_id });
    fn create_account(request: &CreateAccountRequest) -> String =
        Call::Organizations(O::CreateAccount(request));
    fn move_account(account_id: &str, source_parent_id: &str, destination_parent_id: &str) -> () =
        Call::Organizations(O::MoveAccount { account_id, source_parent_id, destination_parent_id });
    fn put_account_name(account_id: &str, name: &str) -> () =
        Call::Organizations(O::PutAccountName { account_id, name });
    fn close_account(account_id: &str) -> () = Call::Organizations(O::CloseAccount { account_id });
    fn tag_resource(resource_id: &str, tags: &Tags) -> () =
        Call::Organizations(O::TagResource { resource_id, tags });
    fn untag_resource(resource_id: &str, keys: &[String]) -> () =
        Call::Organizations(O::UntagResource { resource_id, keys });
    fn create_policy(name: &str, description: &str, content: &str, tags: &Tags) -> String =
        Call::Organizations(O::CreatePolicy {
            policy_type: landfall_core::PolicyType::ServiceControlPolicy,
            name,
            description,
            content,
            tags,
        });
    fn update_policy(policy_id: &str, name: Option<&str>, description: Option<&str>, content: Option<&str>) -> () =
        Call::Organizations(O::UpdatePolicy { policy_id, name, description, content });
    fn delete_policy(policy_id: &str) -> () = Call::Organizations(O::DeletePolicy { policy_id });
    fn attach_policy(policy_id: &str, target_id: &str) -> () =
        Call::Organizations(O::AttachPolicy { policy_id, target_id });
    fn detach_policy(policy_id: &str, target_id: &str) -> () =
        Call::Organizations(O::DetachPolicy { policy_id, target_id });

    fn create_vpc(scope: &MemberScope, cidr: &str, tags: &Tags) -> String =
        Call::Member(scope, M::CreateVpc { cidr, tags });
    fn delete_vpc(scope: &MemberScope, vpc_id: &str) -> () =
        Call::Member(scope, M::DeleteVpc { vpc_id });
    fn create_subnet(scope: &MemberScope, vpc_id: &str, az: &str, cidr: &str, tags: &Tags) -> String =
        Call::Member(scope, M::CreateSubnet { vpc_id, az, cidr, tags });
    fn delete_subnet(scope: &MemberScope, subnet_id: &str) -> () =
        Call::Member(scope, M::DeleteSubnet { subnet_id });
    fn create_route_table(scope: &MemberScope, vpc_id: &str, tags: &Tags) -> String =
        Call::Member(scope, M::CreateRouteTable { vpc_id, tags });
    fn associate_route_table(scope: &MemberScope, route_table_id: &str, subnet_id: &str) -> () =
        Call::Member(scope, M::AssociateRouteTable { route_table_id, subnet_id });
    fn delete_route_table(scope: &MemberScope, route_table_id: &str) -> () =
        Call::Member(scope, M::DeleteRouteTable { route_table_id });
    fn create_security_group(
        scope: &MemberScope, vpc_id: &str, name: &str, description: &str, ingress_cidr: &str,
        tags: &Tags
    ) -> String = Call::Member(
        scope,
        M::CreateSecurityGroup { vpc_id, name, description, ingress_cidr, tags },
    );
    fn set_security_group_ingress(
        scope: &MemberScope, group_id: &str, add: &[String], remove: &[String]
    ) -> () = Call::Member(scope, M::SetSecurityGroupIngress { group_id, add, remove });
    fn delete_security_group(scope: &MemberScope, group_id: &str) -> () =
        Call::Member(scope, M::DeleteSecurityGroup { group_id });
    fn create_endpoint(scope: &MemberScope, request: &EndpointRequest) -> String =
        Call::Member(scope, M::CreateVpcEndpoint(request));
    fn modify_endpoint(scope: &MemberScope, endpoint_id: &str, change: &EndpointModification) -> () =
        Call::Member(scope, M::ModifyVpcEndpoint { endpoint_id, change });
    fn delete_endpoint(scope: &MemberScope, endpoint_id: &str) -> () =
        Call::Member(scope, M::DeleteVpcEndpoint { endpoint_id });
    fn tag_ec2(scope: &MemberScope, resource_id: &str, tags: &Tags) -> () =
        Call::Member(scope, M::CreateTags { resource_id, tags });
    fn untag_ec2(scope: &MemberScope, resource_id: &str, keys: &[String]) -> () =
        Call::Member(scope, M::DeleteTags { resource_id, keys });
    fn create_key(scope: &MemberScope, description: &str, policy: &str, tags: &Tags) -> String =
        Call::Member(scope, M::CreateKey { description, policy, tags });
    fn set_key_rotation(scope: &MemberScope, key_id: &str, enabled: bool) -> () =
        Call::Member(scope, M::SetKeyRotation { key_id, enabled });
    fn put_key_policy(scope: &MemberScope, key_id: &str, policy: &str) -> () =
        Call::Member(scope, M::PutKeyPolicy { key_id, policy });
    fn update_key_description(scope: &MemberScope, key_id: &str, description: &str) -> () =
        Call::Member(scope, M::UpdateKeyDescription { key_id, description });
    fn schedule_key_deletion(scope: &MemberScope, key_id: &str, window_days: u32) -> () =
        Call::Member(scope, M::ScheduleKeyDeletion { key_id, window_days });
    fn restore_key(scope: &MemberScope, key_id: &str) -> () =
        Call::Member(scope, M::CancelKeyDeletion { key_id });
    fn put_alias(scope: &MemberScope, alias: &str, key_id: &str) -> () =
        Call::Member(scope, M::PutAlias { alias, key_id });
    fn delete_alias(scope: &MemberScope, alias: &str) -> () =
        Call::Member(scope, M::DeleteAlias { alias });
    fn tag_key(scope: &MemberScope, key_id: &str, tags: &Tags) -> () =
        Call::Member(scope, M::TagKey { key_id, tags });
    fn untag_key(scope: &MemberScope, key_id: &str, keys: &[String]) -> () =
        Call::Member(scope, M::UntagKey { key_id, keys });

    fn enable_control(
        control_arn: &str, ou_id: &str, parameters: &BTreeMap<String, serde_json::Value>
    ) -> String = Call::Governance(G::EnableControl { control_arn, ou_id, parameters });
    fn disable_control(control_arn: &str, ou_id: &str) -> String =
        Call::Governance(G::DisableControl { control_arn, ou_id });
    fn update_enabled_control(
        enabled_control_arn: &str, parameters: &BTreeMap<String, serde_json::Value>
    ) -> String = Call::Governance(G::UpdateEnabledControl { enabled_control_arn, parameters });
    fn reset_enabled_control(enabled_control_arn: &str) -> String =
        Call::Governance(G::ResetEnabledControl { enabled_control_arn });
    fn enable_baseline(
        baseline_arn: &str, version: &str, ou_id: &str, identity_center: Option<&str>
    ) -> String = Call::Governance(G::EnableBaseline { baseline_arn, version, ou_id, identity_center });
    fn update_enabled_baseline(
        enabled_baseline_arn: &str, version: &str, identity_center: Option<&str>
    ) -> String = Call::Governance(G::UpdateEnabledBaseline { enabled_baseline_arn, version, identity_center });
    fn reset_enabled_baseline(enabled_baseline_arn: &str) -> String =
        Call::Governance(G::ResetEnabledBaseline { enabled_baseline_arn });
    fn disable_baseline(enabled_baseline_arn: &str) -> Option<String> =
        Call::Governance(G::DisableBaseline { enabled_baseline_arn });
    fn provision_account(request: &AccountFactoryRequest) -> String =
        Call::Governance(G::ProvisionProduct(request));
    fn update_provisioned_account(
        provisioned_product_id: &str, request: &AccountFactoryRequest
    ) -> String = Call::Governance(G::UpdateProvisionedProduct { provisioned_product_id, request });
    fn create_portfolio(
        display_name: &str, provider_name: &str, description: &str, tags: &Tags
    ) -> String = Call::Governance(G::CreatePortfolio { display_name, provider_name, description, tags });
    fn update_portfolio(portfolio_id: &str, update: &PortfolioUpdate) -> () =
        Call::Governance(G::UpdatePortfolio { portfolio_id, update });
    fn delete_portfolio(portfolio_id: &str) -> () =
        Call::Governance(G::DeletePortfolio { portfolio_id });
    fn create_portfolio_share(
        portfolio_id: &str, target: &ShareTarget, share_tag_options: bool
    ) -> Option<String> = Call::Governance(
        G::CreatePortfolioShare { portfolio_id, target, share_tag_options },
    );
    fn delete_portfolio_share(portfolio_id: &str, target: &ShareTarget) -> () =
        Call::Governance(G::DeletePortfolioShare { portfolio_id, target });
}

impl<P: Provider + ?Sized> TypedCalls for P {}
