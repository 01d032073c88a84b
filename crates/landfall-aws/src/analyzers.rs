//! IAM Access Analyzer: organization analyzers (type `ORGANIZATION`), their creation
//! and deletion, and the read of one account and region's analyzers
//! (`ListAnalyzers`, which carries their tags).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_accessanalyzer::types::Type;
use landfall_core::live::LiveAnalyzer;
use landfall_core::model::Tags;
use landfall_engine::provider::{ProviderResult, Reply};

use crate::AwsBackend;
use crate::security::{Scoped, Svc, created};

/// `CreateAnalyzer` of type `ORGANIZATION`; replies with its ARN. The SDK fills the
/// idempotency token, so a retried request does not make a second analyzer.
pub(crate) async fn create(
    aws: &AwsBackend,
    s: &Scoped,
    name: &str,
    tags: &Tags,
) -> ProviderResult<Reply> {
    let api = "CreateAnalyzer";
    let tags: HashMap<String, String> = tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let out = aws
        .sec_write(
            &s.who,
            Svc::AccessAnalyzer,
            api,
            s.c.analyzer
                .create_analyzer()
                .analyzer_name(name)
                .r#type(Type::Organization)
                .set_tags((!tags.is_empty()).then_some(tags))
                .send(),
        )
        .await?;
    created(api, "analyzer ARN", out.arn())
}

pub(crate) async fn delete(aws: &AwsBackend, s: &Scoped, name: &str) -> ProviderResult<()> {
    aws.sec_write(
        &s.who,
        Svc::AccessAnalyzer,
        "DeleteAnalyzer",
        s.c.analyzer.delete_analyzer().analyzer_name(name).send(),
    )
    .await?;
    Ok(())
}

/// The analyzers of the scope's account and region, by name.
pub(crate) async fn read(
    aws: &AwsBackend,
    s: &Scoped,
) -> ProviderResult<BTreeMap<String, LiveAnalyzer>> {
    let client = &s.c.analyzer;
    let who = &s.who;
    let pages = aws
        .sec_pages(
            who,
            Svc::AccessAnalyzer,
            "ListAnalyzers",
            |token| client.list_analyzers().set_next_token(token).send(),
            |page| page.next_token().map(str::to_string),
        )
        .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.analyzers())
        .map(|a| {
            let analyzer = LiveAnalyzer {
                name: a.name().to_string(),
                arn: a.arn().to_string(),
                account_id: who.scope.account_id.clone(),
                region: who.scope.region.clone(),
                analyzer_type: a.r#type().as_str().to_string(),
                status: a.status().as_str().to_string(),
                tags: a
                    .tags()
                    .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            };
            (analyzer.name.clone(), analyzer)
        })
        .collect())
}
