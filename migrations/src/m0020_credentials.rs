//! Certificates: Open Badges 3.0 credentials a space signs for the learners who complete.
//!
//! - `credential_keys`: each space's RSA signing keys, the private half sealed at rest. One is
//!   current (a partial unique index); retired keys stay, so their public half stays published
//!   for as long as credentials signed with them exist.
//! - `credentials`: one per space and `source` (an enrolment, or a pathway and a person), so a
//!   replayed completion or a second worker signs nothing twice. Each holds a random, distinct
//!   index in its space's revocation status list. Never deleted: revocation is a column.
//! - `space_logos`: the logo a space uploaded, drawn on its PDF certificates (never fetched
//!   from a URL while rendering).
//! - Enrolments record whether the learner's identity was verified at the assessment; editions
//!   may set how long their credentials are valid.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

async fn add(m: &SchemaManager<'_>, table: &'static str, col: ColumnDef) -> Result<(), DbErr> {
    m.alter_table(Table::alter().table(table).add_column(col).take())
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(m, "enrolments", time_null("identity_verified_at")).await?;
        add(
            m,
            "enrolments",
            ColumnDef::new("identity_verified_source")
                .string()
                .null()
                .check(Expr::col("identity_verified_source").is_in(["lms", "admin"]))
                .take(),
        )
        .await?;
        add(
            m,
            "editions",
            ColumnDef::new("credential_valid_months")
                .integer()
                .null()
                .check(Expr::col("credential_valid_months").between(1, 600))
                .take(),
        )
        .await?;

        m.create_table(
            tenant_table("credential_keys")
                // RS256 public key as the JWK carries it: base64url, no padding.
                .col(text("public_n"))
                .col(text("public_e"))
                // PKCS#8, sealed with the deployment's at-rest key (tenant and id bound in).
                .col(text("private_sealed"))
                .col(time("created_at"))
                .col(time_null("retired_at"))
                .take(),
        )
        .await?;
        // One current key per space; the same SQL on both backends.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_credential_keys_current ON credential_keys (tenant_id) \
                 WHERE retired_at IS NULL",
            )
            .await?;

        m.create_table(
            tenant_table("credentials")
                .col(
                    text("source").check(
                        Expr::col("source")
                            .like("enrolment:%")
                            .or(Expr::col("source").like("pathway:%")),
                    ),
                )
                .col(
                    ColumnDef::new("kind")
                        .string()
                        .not_null()
                        .check(Expr::col("kind").is_in(["edition", "pathway"]))
                        .take(),
                )
                .col(uuid("person_id"))
                .col(uuid_null("enrolment_id"))
                .col(uuid_null("edition_id"))
                .col(uuid_null("pathway_id"))
                .col(text("achievement_name"))
                .col(boolean("microcredential"))
                .col(uuid("key_id"))
                // The VC-JWT as signed; the credential is its payload.
                .col(text("jwt"))
                .col(int("status_list"))
                .col(int("status_index"))
                .col(time("issued_at"))
                .col(time_null("valid_until"))
                .col(
                    ColumnDef::new("public")
                        .boolean()
                        .not_null()
                        .default(false)
                        .take(),
                )
                .col(time_null("revoked_at"))
                .col(text_null("revoked_reason"))
                .col(uuid_null("revoked_by"))
                .foreign_key(&mut tenant_fk("credentials", "person_id", "people"))
                .foreign_key(&mut tenant_fk("credentials", "enrolment_id", "enrolments"))
                .foreign_key(&mut tenant_fk("credentials", "edition_id", "editions"))
                .foreign_key(&mut tenant_fk("credentials", "pathway_id", "pathways"))
                .foreign_key(&mut tenant_fk("credentials", "key_id", "credential_keys"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "credentials",
            "uq_credentials_source",
            &["tenant_id", "source"],
        ))
        .await?;
        m.create_index(unique(
            "credentials",
            "uq_credentials_status",
            &["tenant_id", "status_list", "status_index"],
        ))
        .await?;
        m.create_index(index(
            "credentials",
            "ix_credentials_person",
            &["tenant_id", "person_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("space_logos")
                .col(
                    ColumnDef::new("media_type")
                        .string()
                        .not_null()
                        .check(Expr::col("media_type").is_in(["image/png", "image/jpeg"]))
                        .take(),
                )
                .col(ColumnDef::new("bytes").blob().not_null().take())
                .col(int("width"))
                .col(int("height"))
                .col(uuid("uploaded_by"))
                .col(time("uploaded_at"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "space_logos",
            "uq_space_logos_space",
            &["tenant_id"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = String::new();
            for t in ["credential_keys", "credentials", "space_logos"] {
                sql.push_str(&rls_sql(t));
            }
            // Keys and credentials are never deleted: a signed credential stays checkable.
            sql.push_str(&format!(
                "GRANT SELECT, INSERT ON credential_keys TO {APP_ROLE};\n\
                 GRANT UPDATE (retired_at) ON credential_keys TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT ON credentials TO {APP_ROLE};\n\
                 GRANT UPDATE (public, revoked_at, revoked_reason, revoked_by) ON credentials TO {APP_ROLE};\n\
                 GRANT SELECT, INSERT, UPDATE, DELETE ON space_logos TO {APP_ROLE};\n"
            ));
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
