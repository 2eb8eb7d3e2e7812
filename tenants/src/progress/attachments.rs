//! Statement attachments, kept by content: a space stores the same bytes once, however many
//! statements name their SHA-256. The caller has checked each part's hash; this module only
//! keeps and finds the bytes, inside the transaction that stores the statements.

use std::collections::HashSet;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{Result, TenantTx};

use super::entity::attachment;

/// One attachment's bytes, named by their lowercase hex SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct Part {
    pub sha2: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

impl std::fmt::Debug for Part {
    // The bytes can be megabytes: a log line shows their size.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("sha2", &self.sha2)
            .field("content_type", &self.content_type)
            .field("length", &self.content.len())
            .finish()
    }
}

/// Rows per insert: few parameters a row, but megabytes of data; keep statements small.
const ROWS: usize = 50;

/// Stores the parts this space does not hold yet (by `sha2`); a part sent twice is kept once.
pub async fn store(tx: &TenantTx, parts: Vec<Part>) -> Result<()> {
    let mut seen = HashSet::new();
    let mut parts: Vec<Part> = parts
        .into_iter()
        .filter(|p| seen.insert(p.sha2.clone()))
        .collect();
    if parts.is_empty() {
        return Ok(());
    }
    let held: HashSet<String> = tx
        .select::<attachment::Entity>()
        .filter(attachment::Column::Sha2.is_in(seen))
        .all()
        .await?
        .into_iter()
        .map(|a| a.sha2)
        .collect();
    parts.retain(|p| !held.contains(&p.sha2));
    let tenant = tx.tenant_uuid();
    let mut rows = parts.into_iter().map(|p| attachment::ActiveModel {
        tenant_id: Set(tenant),
        id: Set(Uuid::now_v7()),
        length: Set(i64::try_from(p.content.len()).unwrap_or(i64::MAX)),
        sha2: Set(p.sha2),
        content_type: Set(p.content_type),
        content: Set(p.content),
    });
    loop {
        let chunk: Vec<_> = rows.by_ref().take(ROWS).collect();
        if chunk.is_empty() {
            return Ok(());
        }
        // Another request of this space may store the same bytes meanwhile: theirs stands.
        attachment::Entity::insert_many(chunk)
            .on_conflict(
                OnConflict::columns([attachment::Column::TenantId, attachment::Column::Sha2])
                    .do_nothing()
                    .to_owned(),
            )
            .try_insert()
            .exec_without_returning(&tx.tx)
            .await?;
    }
}

/// The parts of this space with these hashes (unknown ones are left out), ordered by hash.
pub async fn fetch(tx: &TenantTx, sha2s: &[String]) -> Result<Vec<Part>> {
    if sha2s.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = tx
        .select::<attachment::Entity>()
        .filter(attachment::Column::Sha2.is_in(sha2s.iter().cloned()))
        .all()
        .await?;
    rows.sort_by(|a, b| a.sha2.cmp(&b.sha2));
    Ok(rows
        .into_iter()
        .map(|a| Part {
            sha2: a.sha2,
            content_type: a.content_type,
            content: a.content,
        })
        .collect())
}
