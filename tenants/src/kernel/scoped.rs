//! The one typed path into tenant-owned tables: every read, update, delete and insert built here
//! is bound to the transaction's tenant. Public, so sibling crates (billing) get the same two
//! walls; they never see the bare transaction.

use sea_orm::sea_query::{IntoIden, SelectStatement, SimpleExpr, UpdateStatement};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DeleteMany, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, TryGetableMany, UpdateMany,
};

use crate::{Result, TenantTx};

/// An entity whose rows belong to one tenant.
pub trait TenantEntity: EntityTrait {
    fn tenant_column() -> Self::Column;
}

/// A query already bound to the transaction's tenant, and runnable only inside it. Refine it
/// with the usual sea-orm builders (`filter`, `order_by_*`, `limit`, `lock_exclusive`, ..), which
/// only ever add to the tenant filter.
#[must_use]
pub struct Scoped<'t, Q> {
    tx: &'t TenantTx,
    q: Q,
}

impl TenantTx {
    /// `SELECT .. WHERE tenant_id = <this tenant>`.
    pub fn select<E: TenantEntity>(&self) -> Scoped<'_, Select<E>> {
        Scoped {
            tx: self,
            q: scope(E::find(), E::tenant_column(), self),
        }
    }

    /// `UPDATE .. WHERE tenant_id = <this tenant>`.
    pub fn update_many<E: TenantEntity>(&self) -> Scoped<'_, UpdateMany<E>> {
        Scoped {
            tx: self,
            q: scope(E::update_many(), E::tenant_column(), self),
        }
    }

    /// `DELETE .. WHERE tenant_id = <this tenant>`.
    pub fn delete_many<E: TenantEntity>(&self) -> Scoped<'_, DeleteMany<E>> {
        Scoped {
            tx: self,
            q: scope(E::delete_many(), E::tenant_column(), self),
        }
    }

    /// Inserts one row of this tenant: the tenant column is set here, whatever the caller put.
    pub async fn insert<A>(&self, mut row: A) -> Result<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: TenantEntity,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        row.set(
            <A::Entity as TenantEntity>::tenant_column(),
            self.tenant_uuid().into(),
        );
        Ok(row.insert(&self.tx).await?)
    }

    /// Inserts many rows of this tenant in one statement (none: nothing runs).
    pub async fn insert_many<A>(&self, rows: Vec<A>) -> Result<()>
    where
        A: ActiveModelTrait + Send,
        A::Entity: TenantEntity,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let tenant = self.tenant_uuid();
        let rows = rows.into_iter().map(|mut r| {
            r.set(<A::Entity as TenantEntity>::tenant_column(), tenant.into());
            r
        });
        <A::Entity as EntityTrait>::insert_many(rows)
            .exec_without_returning(&self.tx)
            .await?;
        Ok(())
    }

    // The crate's own services use these older doors, which hand back the bare query.
    pub(crate) fn scoped_select<E: TenantEntity>(&self) -> Select<E> {
        scope(E::find(), E::tenant_column(), self)
    }

    pub(crate) fn scoped_update<E: TenantEntity>(&self) -> UpdateMany<E> {
        scope(E::update_many(), E::tenant_column(), self)
    }

    pub(crate) fn scoped_delete<E: TenantEntity>(&self) -> DeleteMany<E> {
        scope(E::delete_many(), E::tenant_column(), self)
    }
}

impl<Q: QueryFilter> QueryFilter for Scoped<'_, Q> {
    type QueryStatement = Q::QueryStatement;
    fn query(&mut self) -> &mut Self::QueryStatement {
        self.q.query()
    }
}

impl<Q: QueryOrder> QueryOrder for Scoped<'_, Q> {
    type QueryStatement = Q::QueryStatement;
    fn query(&mut self) -> &mut SelectStatement {
        QueryOrder::query(&mut self.q)
    }
}

impl<Q: QuerySelect> QuerySelect for Scoped<'_, Q> {
    type QueryStatement = Q::QueryStatement;
    fn query(&mut self) -> &mut SelectStatement {
        QuerySelect::query(&mut self.q)
    }
}

impl<E: EntityTrait> Scoped<'_, Select<E>>
where
    E::Model: Sync,
{
    pub async fn one(self) -> Result<Option<E::Model>> {
        Ok(self.q.one(&self.tx.tx).await?)
    }

    pub async fn all(self) -> Result<Vec<E::Model>> {
        Ok(self.q.all(&self.tx.tx).await?)
    }

    pub async fn count(self) -> Result<u64> {
        Ok(PaginatorTrait::count(self.q, &self.tx.tx).await?)
    }

    /// The rows as tuples of the selected columns (after `select_only().column(..)`).
    pub async fn tuples<T: TryGetableMany>(self) -> Result<Vec<T>> {
        Ok(self.q.into_tuple::<T>().all(&self.tx.tx).await?)
    }
}

impl<E: EntityTrait> Scoped<'_, UpdateMany<E>> {
    pub fn col_expr<C: IntoIden>(mut self, col: C, expr: SimpleExpr) -> Self {
        self.q = self.q.col_expr(col, expr);
        self
    }

    pub fn set<A: ActiveModelTrait<Entity = E>>(mut self, values: A) -> Self {
        self.q = self.q.set(values);
        self
    }

    /// Rows changed.
    pub async fn exec(self) -> Result<u64> {
        Ok(self.q.exec(&self.tx.tx).await?.rows_affected)
    }

    /// The changed rows as they are after the update.
    pub async fn exec_with_returning(self) -> Result<Vec<E::Model>> {
        Ok(self.q.exec_with_returning(&self.tx.tx).await?)
    }

    pub fn statement(&mut self) -> &mut UpdateStatement {
        QueryFilter::query(&mut self.q)
    }
}

impl<E: EntityTrait> Scoped<'_, DeleteMany<E>> {
    /// Rows deleted.
    pub async fn exec(self) -> Result<u64> {
        Ok(self.q.exec(&self.tx.tx).await?.rows_affected)
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

/// Declares entities tenant-owned through their `TenantId` column.
#[macro_export]
macro_rules! tenant_entity {
    ($($module:ident),* $(,)?) => {$(
        impl $crate::kernel::scoped::TenantEntity for $module::Entity {
            fn tenant_column() -> Self::Column {
                $module::Column::TenantId
            }
        }
    )*};
}

impl crate::PlatformTx {
    /// The connection for platform-owned tables (billing's plans): rows that belong to no
    /// tenant. On PostgreSQL no tenant is set here, so every tenant table reads as empty.
    pub fn platform_conn(&self) -> &sea_orm::DatabaseTransaction {
        &self.tx
    }
}
