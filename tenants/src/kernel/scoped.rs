//! The one typed path into tenant-owned tables: every read, update and delete built here is
//! filtered by the transaction's tenant.

use sea_orm::{ColumnTrait, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany};

use crate::TenantTx;

/// An entity whose rows belong to one tenant.
pub(crate) trait TenantEntity: EntityTrait {
    fn tenant_column() -> Self::Column;
}

impl TenantTx {
    /// `SELECT .. WHERE tenant_id = <this tenant>`.
    pub(crate) fn select<E: TenantEntity>(&self) -> Select<E> {
        scope(E::find(), E::tenant_column(), self)
    }

    pub(crate) fn update_many<E: TenantEntity>(&self) -> UpdateMany<E> {
        scope(E::update_many(), E::tenant_column(), self)
    }

    pub(crate) fn delete_many<E: TenantEntity>(&self) -> DeleteMany<E> {
        scope(E::delete_many(), E::tenant_column(), self)
    }
}

/// The application wall. The `rls-only` feature (tests only) removes it, so the cross-tenant
/// suite can show that PostgreSQL's row-level security alone still refuses everything.
#[cfg(not(feature = "rls-only"))]
fn scope<Q: QueryFilter, C: ColumnTrait>(q: Q, col: C, tx: &TenantTx) -> Q {
    q.filter(col.eq(tx.tenant_uuid()))
}

#[cfg(feature = "rls-only")]
fn scope<Q: QueryFilter, C: ColumnTrait>(q: Q, _col: C, _tx: &TenantTx) -> Q {
    q
}

macro_rules! tenant_entity {
    ($($module:ident),* $(,)?) => {$(
        impl $crate::kernel::scoped::TenantEntity for $module::Entity {
            fn tenant_column() -> Self::Column {
                $module::Column::TenantId
            }
        }
    )*};
}
pub(crate) use tenant_entity;
