use async_graphql::{Context, Object};
use spaces_billing::plans;

use crate::error::ApiResult;
use crate::types::subscription::PlanGql;

#[derive(Default)]
pub struct PlansQuery;

#[Object]
impl PlansQuery {
    /// Platform operators only: the plans on sale, newest first (retired ones too when asked).
    async fn plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_retired: bool,
    ) -> ApiResult<Vec<PlanGql>> {
        let scope = crate::scope::of(ctx);
        scope.require_operator()?;
        let list = plans::list(scope.platform_db().await?, include_retired).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }
}
