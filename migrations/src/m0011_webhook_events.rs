//! Payment provider events as received at the platform's webhook endpoint: one row per event
//! id (a replay finds it and changes nothing), the space it concerns, and what became of it.
//! A refund that arrives before its payment is `parked` under the payment's id (`payment_ref`)
//! and applied when the payment arrives. Platform data: the column naming the space is `space_id`, not
//! `tenant_id`, because no tenant owns these rows.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("webhook_events")
                .col(uuid("id").primary_key())
                .col(text("provider"))
                .col(text("event_id"))
                .col(text("kind"))
                .col(uuid_null("space_id"))
                // applied | ignored | parked
                .col(
                    text("status")
                        .check(Expr::col("status").is_in(["applied", "ignored", "parked"])),
                )
                // The provider's id of the payment the event is about (a refund's payment).
                .col(text_null("payment_ref"))
                // What the event moved, in the currency's minor units (a refund: this refund
                // alone, not the running total the provider reports).
                .col(bigint_null("amount_minor"))
                .col(text_null("currency"))
                // The reference the money movement was recorded under.
                .col(text_null("reference"))
                // The verified event as received.
                .col(text("payload"))
                .col(time("received_at"))
                .col(time_null("applied_at"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "webhook_events",
            "uq_webhook_events_event",
            &["provider", "event_id"],
        ))
        .await?;
        m.create_index(index(
            "webhook_events",
            "ix_webhook_events_payment",
            &["provider", "payment_ref"],
        ))
        .await?;
        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&format!(
                    "GRANT SELECT, INSERT, UPDATE ON webhook_events TO {APP_ROLE};\n"
                ))
                .await?;
        }
        Ok(())
    }
}
