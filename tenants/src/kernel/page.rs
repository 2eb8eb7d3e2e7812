//! Relay-style paging: `first` (1..=100) and an opaque `after` cursor over time-ordered ids.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::{Error, Result};

pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 20;

#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(first: Option<i32>, after: Option<&str>) -> Result<Self> {
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if n >= 1 && (n as u64) <= MAX_PAGE => n as u64,
            Some(_) => {
                return Err(Error::invalid(
                    "first",
                    format!("must be between 1 and {MAX_PAGE}"),
                ));
            }
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self { first, after })
    }
}

/// One page of items and whether more follow.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// Builds a page from `first + 1` fetched rows: the extra row only says that more follow.
    pub fn from_overfetch(mut items: Vec<T>, req: PageRequest) -> Self {
        let has_next_page = items.len() as u64 > req.first;
        items.truncate(req.first as usize);
        Self {
            items,
            has_next_page,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
        }
    }

    /// As `map`, for a conversion that can fail (a stored value this build does not know).
    pub fn try_map<U, E>(
        self,
        f: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(f)
                .collect::<std::result::Result<_, E>>()?,
            has_next_page: self.has_next_page,
        })
    }
}

/// Fetches one page of `q` in id order (ids are time-ordered UUIDs): after the cursor, one row
/// more than asked, so the page knows whether more follow.
pub(crate) async fn fetch<E, C>(
    q: Select<E>,
    id: E::Column,
    page: PageRequest,
    conn: &C,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    fetch_as::<E, E::Model, C>(q, id, page, conn).await
}

/// As `fetch`, decoding each row as `M`: for pages that select computed columns beside the
/// entity's own.
pub(crate) async fn fetch_as<E, M, C>(
    q: Select<E>,
    id: E::Column,
    page: PageRequest,
    conn: &C,
) -> Result<Page<M>>
where
    E: EntityTrait,
    M: sea_orm::FromQueryResult,
    C: ConnectionTrait,
{
    let q = match page.after {
        Some(after) => q.filter(id.gt(after)),
        None => q,
    };
    let rows = q
        .order_by_asc(id)
        .limit(page.first + 1)
        .into_model::<M>()
        .all(conn)
        .await?;
    Ok(Page::from_overfetch(rows, page))
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(s: &str) -> Result<Uuid> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Error::invalid("after", "is not a cursor from this list"))?;
    Uuid::from_slice(&bytes).map_err(|_| Error::invalid("after", "is not a cursor from this list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bounds_hold() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        assert!(decode_cursor("not a cursor!").is_err());
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert_eq!(
            PageRequest::parse(None, None).map(|p| p.first).ok(),
            Some(DEFAULT_PAGE)
        );
    }
}
