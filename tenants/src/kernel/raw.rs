//! Hand-written SQL for what the query builder says badly (grouped counts over subtrees).
//! Placeholders are written `$1, $2, ..`; SQLite gets `?1, ?2, ..`.

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

use crate::{Result, TenantTx};

impl TenantTx {
    pub(crate) async fn raw_all(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        let backend = self.tx.get_database_backend();
        let sql = if backend == DbBackend::Sqlite {
            sql.replace('$', "?")
        } else {
            sql.to_owned()
        };
        Ok(self
            .tx
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?)
    }
}
