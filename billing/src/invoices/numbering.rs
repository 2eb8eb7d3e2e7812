//! Gapless numbers: one series per space, kind and year (`OCAPIAT-F-2026-000123`, `F` for
//! invoices, `A` for credit notes, from the French "facture" and "avoir"). The counter row is
//! taken with `UPDATE .. SET next = next + 1 RETURNING` in the invoice's own transaction: it
//! stays locked until that transaction ends, and a rollback gives the number back.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};
use spaces_tenants::{Error, Result, TenantTx};

use super::entity::counter;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Series {
    Invoice,
    CreditNote,
}

impl Series {
    pub fn letter(self) -> &'static str {
        match self {
            Series::Invoice => "F",
            Series::CreditNote => "A",
        }
    }
}

pub fn format(slug: &str, series: Series, year: i32, n: i64) -> String {
    format!(
        "{}-{}-{year}-{n:06}",
        slug.to_ascii_uppercase(),
        series.letter()
    )
}

fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Db(d) if matches!(d.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))))
}

/// The next number of the series, taken in `tx`.
pub(crate) async fn take(tx: &TenantTx, series: Series, year: i32) -> Result<i64> {
    // Twice at most: the second pass follows a racing transaction that created the series.
    for _ in 0..2 {
        let rows = tx
            .update_many::<counter::Entity>()
            .col_expr(
                counter::Column::Next,
                Expr::col(counter::Column::Next).add(1),
            )
            .filter(counter::Column::Kind.eq(series.letter()))
            .filter(counter::Column::Year.eq(year))
            .exec_with_returning()
            .await?;
        if let Some(r) = rows.first() {
            return Ok(r.next - 1);
        }
        // The series' first number: create its row in a savepoint, so that losing the race
        // to another transaction (the unique index waits for it, then refuses) costs nothing.
        let sp = tx.savepoint().await?;
        let row = counter::ActiveModel {
            tenant_id: Set(uuid::Uuid::nil()),
            id: Set(uuid::Uuid::now_v7()),
            kind: Set(series.letter().to_owned()),
            year: Set(year),
            next: Set(2),
        };
        match sp.insert(row).await {
            Ok(_) => {
                sp.commit().await?;
                return Ok(1);
            }
            Err(e) if is_unique_violation(&e) => sp.rollback().await?,
            Err(e) => {
                sp.rollback().await?;
                return Err(e);
            }
        }
    }
    Err(Error::Internal(
        "the invoice counter could not be taken".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_slug_kind_year_and_six_digits() {
        assert_eq!(
            format("ocapiat", Series::Invoice, 2026, 123),
            "OCAPIAT-F-2026-000123"
        );
        assert_eq!(
            format("campus-x", Series::CreditNote, 2027, 1),
            "CAMPUS-X-A-2027-000001"
        );
    }
}
