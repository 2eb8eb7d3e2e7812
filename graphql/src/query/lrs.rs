use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Object};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::progress::credentials;

use crate::error::ApiResult;
use crate::types::connection;
use crate::types::lrs::{LrsCredentialGql, LrsReportGql};

#[derive(Default)]
pub struct LrsQuery;

#[Object]
impl LrsQuery {
    /// The space's LRS credentials, oldest first, revoked ones included (tenant admins).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn lrs_credentials(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, LrsCredentialGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = credentials::list(&tx, who, page).await?;
        Ok(connection(
            p.map(LrsCredentialGql),
            |c| c.0.id.uuid(),
            page.after.is_some(),
        ))
    }

    /// What the LRS stored but could not turn into progress (tenant admins).
    async fn lrs_report(&self, ctx: &Context<'_>) -> ApiResult<LrsReportGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let tx = scope.tx().await?;
        Ok(spaces_tenants::progress::report::report(&tx, who)
            .await?
            .into())
    }
}
