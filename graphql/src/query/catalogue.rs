use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object};
use spaces_tenants::catalogue::{self, CourseFilter, CourseStatus};
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{CourseId, Principal, ProviderId};

use crate::error::{ApiError, ApiResult, parse_id};
use crate::scope::RequestScope;
use crate::types::catalogue::{CourseGql, CourseStatusGql, ProviderGql};
use crate::types::connection;

#[derive(Default)]
pub struct CatalogueQuery;

#[derive(InputObject, Default)]
pub struct CourseFilterInput {
    /// Words that must all appear in the title or summary, in any case.
    pub text: Option<String>,
    /// A BCP 47 tag; `fr` also finds `fr-FR`.
    pub language: Option<String>,
    pub eqf_level: Option<i32>,
    /// An ESCO skill URI.
    pub skill: Option<String>,
    pub provider_id: Option<ID>,
    /// Platform operators only: tenants always see published courses.
    pub status: Option<CourseStatusGql>,
}

/// Who may read the catalogue: operators (everything) and signed-in people of a space
/// (published courses).
fn reader(scope: &RequestScope) -> ApiResult<bool> {
    match &scope.principal {
        Principal::Operator { .. } => Ok(true),
        Principal::Person { .. } => Ok(false),
        Principal::Anonymous => Err(ApiError::unauthenticated("sign in to browse the catalogue")),
    }
}

#[Object]
impl CatalogueQuery {
    /// The catalogue: published courses, filtered, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn courses(
        &self,
        ctx: &Context<'_>,
        filter: Option<CourseFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, CourseGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let operator = reader(scope)?;
        let f = filter.unwrap_or_default();
        let status = match (operator, f.status) {
            (true, s) => s.map(Into::into),
            (false, None | Some(CourseStatusGql::Published)) => Some(CourseStatus::Published),
            (false, Some(_)) => {
                return Err(ApiError::bad_input(
                    "filter.status",
                    "only published courses are visible here",
                ));
            }
        };
        let filter = CourseFilter {
            text: f.text,
            language: f.language,
            eqf_level: f.eqf_level,
            skill: f.skill,
            provider: f
                .provider_id
                .as_ref()
                .map(|i| parse_id::<ProviderId>("filter.providerId", i))
                .transpose()?,
            status,
        };
        let page = PageRequest::parse(first, after.as_deref())?;
        let p = if operator {
            catalogue::browse(scope.platform_db().await?, filter, page).await?
        } else {
            catalogue::browse(scope.tx().await?.as_ref(), filter, page).await?
        };
        Ok(connection(
            p.map(CourseGql),
            |c| c.0.id.uuid(),
            page.after.is_some(),
        ))
    }

    /// One course: any status for operators, published ones for people of a space.
    async fn course(&self, ctx: &Context<'_>, id: ID) -> ApiResult<CourseGql> {
        let scope = crate::scope::of(ctx);
        let operator = reader(scope)?;
        let id: CourseId = parse_id("id", &id)?;
        let c = if operator {
            catalogue::get(scope.platform_db().await?, id).await?
        } else {
            catalogue::get(scope.tx().await?.as_ref(), id).await?
        };
        if !operator && c.status != CourseStatus::Published {
            return Err(ApiError::not_found());
        }
        Ok(CourseGql(c))
    }

    /// Course providers (universities).
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn providers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, ProviderGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let operator = reader(scope)?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let p = if operator {
            catalogue::providers(scope.platform_db().await?, page).await?
        } else {
            catalogue::providers(scope.tx().await?.as_ref(), page).await?
        };
        Ok(connection(
            p.map(ProviderGql),
            |p| p.0.id.uuid(),
            page.after.is_some(),
        ))
    }
}
