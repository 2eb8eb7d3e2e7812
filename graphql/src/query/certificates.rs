use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, Object};
use spaces_tenants::credentials::records;
use spaces_tenants::kernel::page::PageRequest;
use spaces_tenants::{CredentialId, PersonId};

use crate::error::{ApiResult, parse_id};
use crate::types::certificate::{CertificateGql, certificate_connection};

#[derive(Default)]
pub struct CertificateQuery;

#[Object]
impl CertificateQuery {
    /// HR, managers and tenant admins: certificates of the people they manage (of one person
    /// with `personId`), newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn certificates(
        &self,
        ctx: &Context<'_>,
        person_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<String, CertificateGql, EmptyFields, EmptyFields>> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let person: Option<PersonId> = person_id
            .as_ref()
            .map(|i| parse_id("personId", i))
            .transpose()?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let tx = scope.tx().await?;
        let p = records::list(&tx, who, person, page).await?;
        certificate_connection(ctx, &tx, p, page.after.is_some()).await
    }

    /// One certificate: the learner's own, or of a person the caller may read.
    async fn certificate(&self, ctx: &Context<'_>, id: ID) -> ApiResult<CertificateGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: CredentialId = parse_id("id", &id)?;
        let tx = scope.tx().await?;
        Ok(CertificateGql(records::get(&tx, who, id).await?, None))
    }
}
