//! Refresh tokens carry the credential version they were issued under, so a rotation that races
//! a password change cannot carry a session past it.

use sea_orm_migration::prelude::*;

use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Rows issued before this migration get 0, the version every person starts with; a person
        // whose password changed since has a higher one, so those rows stop at their next use.
        m.alter_table(
            Table::alter()
                .table("refresh_tokens")
                .add_column(int("token_version"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("refresh_tokens")
                .drop_column("token_version")
                .take(),
        )
        .await
    }
}
