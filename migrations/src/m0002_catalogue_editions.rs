//! The catalogue (platform), private editions with modules and visibility, pathways, enrolments
//! and module progress (tenant-owned).

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;
use crate::builders::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TENANT_TABLES: &[&str] = &[
    "editions",
    "edition_organisations",
    "edition_modules",
    "pathways",
    "pathway_editions",
    "enrolments",
    "enrolment_events",
    "module_progress",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("providers")
                .col(uuid("id").primary_key())
                .col(text("name"))
                .col(text_null("country"))
                .col(text_null("website"))
                .col(time("created_at"))
                .take(),
        )
        .await?;
        m.create_index(unique("providers", "uq_providers_name", &["name"]))
            .await?;

        m.create_table(
            Table::create()
                .table("courses")
                .col(uuid("id").primary_key())
                .col(uuid("provider_id"))
                .col(text("title"))
                .col(text("summary"))
                // BCP 47 tag, such as fr or fr-FR.
                .col(text("language"))
                .col(int("study_minutes"))
                // ECTS credits times two: halves are exact.
                .col(int("ects_halves"))
                .col(int("eqf_level"))
                // JSON array of strings, in order.
                .col(text("learning_outcomes"))
                .col(text("assessment"))
                .col(text("status"))
                .col(time_null("published_at"))
                .col(time_null("retired_at"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut platform_fk("courses", "provider_id", "providers"))
                .take(),
        )
        .await?;
        m.create_index(index("courses", "ix_courses_status", &["status", "id"]))
            .await?;

        m.create_table(
            Table::create()
                .table("course_skills")
                .col(uuid("id").primary_key())
                .col(uuid("course_id"))
                .col(int("position"))
                // ESCO skill URI and its label.
                .col(text("esco_uri"))
                .col(text("label"))
                .foreign_key(&mut platform_fk("course_skills", "course_id", "courses"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "course_skills",
            "ix_course_skills_course",
            &["course_id", "position"],
        ))
        .await?;
        m.create_index(index(
            "course_skills",
            "ix_course_skills_uri",
            &["esco_uri"],
        ))
        .await?;

        m.create_table(
            tenant_table("editions")
                .col(uuid("course_id"))
                .col(text_null("title"))
                .col(text_null("description"))
                .col(date_null("starts_on"))
                .col(date_null("ends_on"))
                .col(time_null("enrol_opens_at"))
                .col(time_null("enrol_closes_at"))
                .col(int_null("capacity"))
                .col(text("enrolment_mode"))
                .col(text("visibility"))
                .col(bigint_null("price_minor"))
                .col(text_null("price_currency"))
                .col(boolean("included_in_subscription"))
                .col(int_null("min_score"))
                .col(text("status"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .foreign_key(&mut platform_fk("editions", "course_id", "courses"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "editions",
            "ix_editions_status",
            &["tenant_id", "status"],
        ))
        .await?;

        m.create_table(
            tenant_table("edition_organisations")
                .col(uuid("edition_id"))
                .col(uuid("organisation_id"))
                .foreign_key(&mut tenant_fk(
                    "edition_organisations",
                    "edition_id",
                    "editions",
                ))
                .foreign_key(&mut tenant_fk(
                    "edition_organisations",
                    "organisation_id",
                    "organisations",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "edition_organisations",
            "uq_edition_organisations",
            &["tenant_id", "edition_id", "organisation_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("edition_modules")
                .col(uuid("edition_id"))
                .col(int("position"))
                .col(text("title"))
                .col(boolean("required"))
                .col(int("estimated_minutes"))
                // The xAPI activity IRI the LMS reports progress against.
                .col(text("activity_iri"))
                // A module that enrolments may already count is retired, never deleted.
                .col(time_null("retired_at"))
                .col(time("created_at"))
                .foreign_key(&mut tenant_fk("edition_modules", "edition_id", "editions"))
                .take(),
        )
        .await?;
        m.create_index(index(
            "edition_modules",
            "ix_edition_modules_edition",
            &["tenant_id", "edition_id", "position"],
        ))
        .await?;
        m.create_index(index(
            "edition_modules",
            "ix_edition_modules_iri",
            &["tenant_id", "activity_iri"],
        ))
        .await?;

        m.create_table(
            tenant_table("pathways")
                .col(text("title"))
                .col(text_null("description"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .take(),
        )
        .await?;

        m.create_table(
            tenant_table("pathway_editions")
                .col(uuid("pathway_id"))
                .col(uuid("edition_id"))
                .col(int("position"))
                .foreign_key(&mut tenant_fk("pathway_editions", "pathway_id", "pathways"))
                .foreign_key(&mut tenant_fk("pathway_editions", "edition_id", "editions"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "pathway_editions",
            "uq_pathway_editions",
            &["tenant_id", "pathway_id", "edition_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("enrolments")
                .col(uuid("edition_id"))
                .col(uuid("person_id"))
                // pending_approval, active, completed, withdrawn, rejected
                .col(text("status"))
                // assigned, self, import
                .col(text("source"))
                .col(date_null("due_on"))
                .col(uuid_null("enrolled_by"))
                .col(time("created_at"))
                .col(time("updated_at"))
                .col(time_null("completed_at"))
                .foreign_key(&mut tenant_fk("enrolments", "edition_id", "editions"))
                .foreign_key(&mut tenant_fk("enrolments", "person_id", "people"))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "enrolments",
            "uq_enrolments_person",
            &["tenant_id", "edition_id", "person_id"],
        ))
        .await?;
        m.create_index(index(
            "enrolments",
            "ix_enrolments_person",
            &["tenant_id", "person_id"],
        ))
        .await?;
        m.create_index(index(
            "enrolments",
            "ix_enrolments_edition_status",
            &["tenant_id", "edition_id", "status"],
        ))
        .await?;

        // The history of each enrolment: requested, approved, rejected, withdrawn, re-enrolled.
        m.create_table(
            tenant_table("enrolment_events")
                .col(uuid("enrolment_id"))
                .col(text("kind"))
                .col(uuid_null("actor_id"))
                .col(text_null("note"))
                .col(time("at"))
                .foreign_key(&mut tenant_fk(
                    "enrolment_events",
                    "enrolment_id",
                    "enrolments",
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "enrolment_events",
            "ix_enrolment_events",
            &["tenant_id", "enrolment_id"],
        ))
        .await?;

        m.create_table(
            tenant_table("module_progress")
                .col(uuid("enrolment_id"))
                .col(uuid("module_id"))
                .col(time_null("completed_at"))
                .col(int_null("score"))
                .col(time("updated_at"))
                .foreign_key(&mut tenant_fk(
                    "module_progress",
                    "enrolment_id",
                    "enrolments",
                ))
                .foreign_key(&mut tenant_fk(
                    "module_progress",
                    "module_id",
                    "edition_modules",
                ))
                .take(),
        )
        .await?;
        m.create_index(unique(
            "module_progress",
            "uq_module_progress",
            &["tenant_id", "enrolment_id", "module_id"],
        ))
        .await?;

        if m.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            let mut sql = format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON providers, courses, course_skills TO {APP_ROLE};\n"
            );
            for t in TENANT_TABLES {
                sql.push_str(&rls_sql(t));
                sql.push_str(&format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {APP_ROLE};\n"
                ));
            }
            m.get_connection().execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
