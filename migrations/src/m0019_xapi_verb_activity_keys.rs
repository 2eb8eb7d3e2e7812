//! A statement's verb paired with its object's activity becomes one more key (kind 7), so that
//! the commonest pair of filters (`verb` and `activity`: who completed this module) reads one
//! index range instead of walking the activity's statements and probing each for the verb.
//!
//! The pair's value is `<verb key> <activity key>` (a space cannot occur in an IRI), hashed as
//! every long key is (`sha256:<hex>` past 512 bytes), from the key values already stored; the
//! statements stored before this migration get their pairs here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};
use sha2::{Digest, Sha256};

use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Keys longer than this are stored as their SHA-256 (as `statements::key_value` does; written
/// out here so this migration keeps meaning what it meant when it ran).
const MAX_KEY: usize = 512;

fn key_value(v: &str) -> String {
    if v.len() <= MAX_KEY {
        v.to_owned()
    } else {
        format!("sha256:{:x}", Sha256::digest(v.as_bytes()))
    }
}

fn keys_table(name: &'static str) -> TableCreateStatement {
    tenant_table(name)
        .col(uuid("statement_row"))
        // 1 verb, 2 agent, 3 related agent, 4 activity, 5 related activity, 6 registration,
        // 7 verb and activity.
        .col(
            ColumnDef::new("kind")
                .small_integer()
                .not_null()
                .check(Expr::col("kind").between(1, 7))
                .take(),
        )
        .col(text("value"))
        .col(ColumnDef::new("stored_ms").big_integer().not_null().take())
        .foreign_key(&mut tenant_fk(name, "statement_row", "xapi_statements"))
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE xapi_statement_keys DROP CONSTRAINT xapi_statement_keys_kind_check;\n\
                 ALTER TABLE xapi_statement_keys ADD CONSTRAINT xapi_statement_keys_kind_check \
                 CHECK (kind BETWEEN 1 AND 7);",
            )
            .await?;
        } else {
            // SQLite cannot alter a CHECK: the table is rebuilt (nothing refers to its rows).
            m.create_table(keys_table("xapi_statement_keys_next"))
                .await?;
            db.execute_unprepared(
                "INSERT INTO xapi_statement_keys_next \
                 (tenant_id, id, statement_row, kind, value, stored_ms) \
                 SELECT tenant_id, id, statement_row, kind, value, stored_ms \
                 FROM xapi_statement_keys;\n\
                 DROP TABLE xapi_statement_keys;\n\
                 ALTER TABLE xapi_statement_keys_next RENAME TO xapi_statement_keys;",
            )
            .await?;
            m.create_index(index(
                "xapi_statement_keys",
                "ix_xapi_statement_keys_value",
                &["tenant_id", "kind", "value", "stored_ms", "statement_row"],
            ))
            .await?;
            m.create_index(index(
                "xapi_statement_keys",
                "ix_xapi_statement_keys_row",
                &["tenant_id", "statement_row", "kind", "value"],
            ))
            .await?;
        }
        backfill(db).await
    }
}

/// The pairs of every statement that has a verb key and an activity key and no pair yet (all of
/// them, when this migration runs). Public so a test can run it over statements whose pairs it
/// removed.
pub async fn backfill<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let pair = "v.value || ' ' || a.value";
        db.execute_unprepared(&format!(
            "INSERT INTO xapi_statement_keys (tenant_id, id, statement_row, kind, value, stored_ms) \
             SELECT v.tenant_id, gen_random_uuid(), v.statement_row, 7, \
               CASE WHEN octet_length({pair}) <= {MAX_KEY} THEN {pair} \
                 ELSE 'sha256:' || encode(sha256(convert_to({pair}, 'UTF8')), 'hex') END, \
               v.stored_ms \
             FROM xapi_statement_keys v \
             JOIN xapi_statement_keys a ON a.tenant_id = v.tenant_id \
               AND a.statement_row = v.statement_row AND a.kind = 4 \
             WHERE v.kind = 1 AND NOT EXISTS (SELECT 1 FROM xapi_statement_keys p \
               WHERE p.tenant_id = v.tenant_id AND p.statement_row = v.statement_row AND p.kind = 7)"
        ))
        .await?;
        return Ok(());
    }
    // SQLite has no SHA-256: the pairs are made here, in pages of statements.
    let backend = db.get_database_backend();
    let mut after: Vec<u8> = Vec::new();
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT v.tenant_id, v.statement_row, v.value AS verb, a.value AS activity, v.stored_ms \
                 FROM xapi_statement_keys v \
                 JOIN xapi_statement_keys a ON a.tenant_id = v.tenant_id \
                   AND a.statement_row = v.statement_row AND a.kind = 4 \
                 WHERE v.kind = 1 AND v.statement_row > ?1 AND NOT EXISTS (SELECT 1 \
                   FROM xapi_statement_keys p WHERE p.tenant_id = v.tenant_id \
                   AND p.statement_row = v.statement_row AND p.kind = 7) \
                 ORDER BY v.statement_row LIMIT 2000",
                [Value::Bytes(Some(after.clone()))],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        let next: Vec<u8> = last.try_get("", "statement_row")?;
        // A page ends inside a statement's pairs at most once; the rest of its pairs come with
        // the next page, which starts after it, so the last statement waits for that page.
        let whole: Vec<_> = if rows.len() == 2000 {
            rows.iter()
                .filter(|r| r.try_get::<Vec<u8>>("", "statement_row").ok() != Some(next.clone()))
                .collect()
        } else {
            rows.iter().collect()
        };
        if whole.is_empty() {
            return Err(DbErr::Migration(
                "one statement has more than 2,000 verb and activity pairs".into(),
            ));
        }
        for r in &whole {
            let tenant: Vec<u8> = r.try_get("", "tenant_id")?;
            let row: Vec<u8> = r.try_get("", "statement_row")?;
            let verb: String = r.try_get("", "verb")?;
            let activity: String = r.try_get("", "activity")?;
            let stored_ms: i64 = r.try_get("", "stored_ms")?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO xapi_statement_keys (tenant_id, id, statement_row, kind, value, stored_ms) \
                 VALUES (?1, randomblob(16), ?2, 7, ?3, ?4)",
                [
                    Value::Bytes(Some(tenant)),
                    Value::Bytes(Some(row)),
                    key_value(&format!("{verb} {activity}")).into(),
                    stored_ms.into(),
                ],
            ))
            .await?;
        }
        after = whole
            .last()
            .and_then(|r| r.try_get::<Vec<u8>>("", "statement_row").ok())
            .unwrap_or(next);
    }
}
