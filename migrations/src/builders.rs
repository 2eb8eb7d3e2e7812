//! Small builders so each table reads as a list of columns. Tenant-owned tables get
//! `(tenant_id, id)` keys and composite foreign keys, so the database refuses a row that points
//! into another tenant.

use sea_orm_migration::prelude::*;

pub fn uuid(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).uuid().not_null().take()
}

pub fn uuid_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).uuid().null().take()
}

pub fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().not_null().take()
}

pub fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string().null().take()
}

pub fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().default(0).take()
}

pub fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .take()
}

pub fn time_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .take()
}

/// A tenant-owned table: `tenant_id` first, primary key `(tenant_id, id)`, and a foreign key to
/// `tenants`.
pub fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(Index::create().col("tenant_id").col("id"))
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_tenant"))
                .from_tbl(name)
                .from_col("tenant_id")
                .to_tbl("tenants")
                .to_col("id"),
        )
        .take()
}

/// A composite foreign key `(tenant_id, col) -> target(tenant_id, id)`.
pub fn tenant_fk(
    from: &'static str,
    col: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from_tbl(from)
        .from_col("tenant_id")
        .from_col(col)
        .to_tbl(target)
        .to_col("tenant_id")
        .to_col("id")
        .take()
}

pub fn unique(table: &'static str, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table).unique();
    for c in cols {
        idx.col(*c);
    }
    idx.take()
}

pub fn index(table: &'static str, name: &str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.take()
}

/// On PostgreSQL: RLS enabled and forced, one policy on `app.tenant_id`. The setting reads as ''
/// on a pooled connection after a tenant transaction, hence NULLIF.
pub fn rls_sql(table: &str) -> String {
    format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n\
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n\
         CREATE POLICY tenant_isolation ON {table} \
           USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid) \
           WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);\n"
    )
}

pub fn int_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().null().take()
}

pub fn bigint_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().take()
}

pub fn boolean(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().take()
}

pub fn date_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).date().null().take()
}

/// A plain foreign key to a platform table (platform rows belong to no tenant).
pub fn platform_fk(
    from: &'static str,
    col: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from_tbl(from)
        .from_col(col)
        .to_tbl(target)
        .to_col("id")
        .take()
}
