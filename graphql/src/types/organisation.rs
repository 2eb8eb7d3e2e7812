use async_graphql::{Context, Enum, ID, Object};
use spaces_tenants::organisations::{self, OrgKind, Organisation, SizeBand};

use crate::error::ApiResult;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "OrganisationKind")]
pub enum OrgKindGql {
    /// The sector body or company that owns the space.
    Root,
    Company,
    Department,
    Team,
}

impl From<OrgKind> for OrgKindGql {
    fn from(k: OrgKind) -> Self {
        match k {
            OrgKind::Root => Self::Root,
            OrgKind::Company => Self::Company,
            OrgKind::Department => Self::Department,
            OrgKind::Team => Self::Team,
        }
    }
}

impl From<OrgKindGql> for OrgKind {
    fn from(k: OrgKindGql) -> Self {
        match k {
            OrgKindGql::Root => Self::Root,
            OrgKindGql::Company => Self::Company,
            OrgKindGql::Department => Self::Department,
            OrgKindGql::Team => Self::Team,
        }
    }
}

/// Employees of a member company.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "SizeBand")]
pub enum SizeBandGql {
    /// Fewer than 11.
    Under11,
    /// 11 to 49.
    From11To49,
    /// 50 to 299.
    From50To299,
    /// 300 or more.
    From300,
}

impl From<SizeBand> for SizeBandGql {
    fn from(b: SizeBand) -> Self {
        match b {
            SizeBand::Under11 => Self::Under11,
            SizeBand::From11To49 => Self::From11To49,
            SizeBand::From50To299 => Self::From50To299,
            SizeBand::From300 => Self::From300,
        }
    }
}

impl From<SizeBandGql> for SizeBand {
    fn from(b: SizeBandGql) -> Self {
        match b {
            SizeBandGql::Under11 => Self::Under11,
            SizeBandGql::From11To49 => Self::From11To49,
            SizeBandGql::From50To299 => Self::From50To299,
            SizeBandGql::From300 => Self::From300,
        }
    }
}

#[derive(Clone)]
pub struct OrganisationGql {
    pub org: Organisation,
    /// Filled for a page in one statement; `None` when loaded alone.
    pub head_count: Option<i64>,
}

#[Object(name = "Organisation")]
impl OrganisationGql {
    async fn id(&self) -> ID {
        ID(self.org.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.org.name
    }
    async fn kind(&self) -> OrgKindGql {
        self.org.kind.into()
    }
    async fn size_band(&self) -> Option<SizeBandGql> {
        self.org.size_band.map(Into::into)
    }
    async fn registration_number(&self) -> Option<&str> {
        self.org.registration_number.as_deref()
    }
    /// The organisation's reference in the tenant's own systems (used by CSV imports).
    async fn external_ref(&self) -> Option<&str> {
        self.org.external_ref.as_deref()
    }
    async fn parent_id(&self) -> Option<ID> {
        self.org.parent.map(|p| ID(p.to_string()))
    }
    async fn archived_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.org.archived_at
    }
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.org.created_at
    }
    /// People (not disabled) in this organisation and everything below it.
    async fn head_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        if let Some(n) = self.head_count {
            return Ok(n);
        }
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        let counts = organisations::head_counts(&tx, &[self.org.id]).await?;
        Ok(counts.first().map(|c| c.1).unwrap_or(0))
    }
    /// Its own billing account, if it has one and the caller may read it.
    async fn billing_account(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::types::billing_account::BillingAccountGql>> {
        let scope = crate::scope::of(ctx);
        let tx = scope.tx().await?;
        Ok(
            spaces_billing::accounts::of_organisation(&tx, &scope.principal, self.org.id)
                .await?
                .map(crate::types::billing_account::BillingAccountGql),
        )
    }
}
