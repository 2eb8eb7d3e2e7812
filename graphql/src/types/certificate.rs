use async_graphql::{Context, Enum, ID, Object};
use spaces_tenants::credentials::records::{Certificate, CertificateKind};

use crate::error::ApiResult;
use crate::types::person::PersonGql;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "CertificateKind")]
pub enum CertificateKindGql {
    /// For completing one course edition.
    Edition,
    /// For completing every edition of a pathway.
    Pathway,
}

/// A signed Open Badges 3.0 credential the space issued to a learner who completed; its
/// learner read with the page when the page asks for it.
pub struct CertificateGql(pub Certificate, pub Option<spaces_tenants::people::Person>);

/// A page of certificates as a connection, their learners read in one statement when the
/// query selects `person` (the page is already limited to people the caller may read).
pub async fn certificate_connection(
    ctx: &Context<'_>,
    tx: &spaces_tenants::TenantTx,
    page: spaces_tenants::kernel::page::Page<Certificate>,
    has_previous: bool,
) -> ApiResult<
    async_graphql::connection::Connection<
        String,
        CertificateGql,
        async_graphql::connection::EmptyFields,
        async_graphql::connection::EmptyFields,
    >,
> {
    let wants_person = ctx
        .look_ahead()
        .field("edges")
        .field("node")
        .field("person")
        .exists();
    let mut people = std::collections::HashMap::new();
    if wants_person {
        let ids: Vec<_> = page.items.iter().map(|c| c.person).collect();
        for p in spaces_tenants::people::many(tx, &ids).await? {
            people.insert(p.id, p);
        }
    }
    Ok(crate::types::connection(
        page.map(|c| {
            let p = people.get(&c.person).cloned();
            CertificateGql(c, p)
        }),
        |c| c.0.id.uuid(),
        has_previous,
    ))
}

/// The space's public origin, where its credentials live.
fn origin(ctx: &Context<'_>) -> ApiResult<String> {
    let scope = crate::scope::of(ctx);
    let space = scope.space()?;
    let links = &scope.deps.links;
    Ok(links.origin(&links.slug_host(&space.slug)))
}

#[Object(name = "Certificate")]
impl CertificateGql {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> CertificateKindGql {
        match self.0.kind {
            CertificateKind::Edition => CertificateKindGql::Edition,
            CertificateKind::Pathway => CertificateKindGql::Pathway,
        }
    }
    /// The edition's or the pathway's name.
    async fn achievement_name(&self) -> &str {
        &self.0.achievement_name
    }
    /// A pathway that meets the Common Microcredential Framework.
    async fn microcredential(&self) -> bool {
        self.0.microcredential
    }
    async fn enrolment_id(&self) -> Option<ID> {
        self.0.enrolment.map(|e| ID(e.to_string()))
    }
    async fn edition_id(&self) -> Option<ID> {
        self.0.edition.map(|e| ID(e.to_string()))
    }
    async fn pathway_id(&self) -> Option<ID> {
        self.0.pathway.map(|e| ID(e.to_string()))
    }
    async fn issued_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.issued_at
    }
    async fn valid_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.valid_until
    }
    /// Whether the verification page shows the learner's name (the learner decides).
    async fn public(&self) -> bool {
        self.0.public
    }
    async fn revoked_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.revoked_at
    }
    async fn revocation_reason(&self) -> Option<&str> {
        self.0.revoked_reason.as_deref()
    }
    /// The credential as signed: a VC-JWT (RS256), for wallets and verifiers.
    async fn jwt(&self) -> &str {
        &self.0.jwt
    }
    /// The credential's id, which serves it (JSON; `Accept: application/vc+jwt` for the JWT).
    async fn url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(format!("{}/credentials/{}", origin(ctx)?, self.0.id))
    }
    /// The public verification page (HTML, or JSON with `Accept: application/json`).
    async fn verify_url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(format!("{}/verify/{}", origin(ctx)?, self.0.id))
    }
    /// The PDF, for the learner and their HR (send the bearer token).
    async fn pdf_url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(format!("{}/credentials/{}.pdf", origin(ctx)?, self.0.id))
    }
    /// The learner.
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<PersonGql> {
        if let Some(p) = &self.1 {
            return Ok(PersonGql(p.clone()));
        }
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let tx = scope.tx().await?;
        Ok(PersonGql(
            spaces_tenants::people::get(&tx, who, self.0.person).await?,
        ))
    }
}
