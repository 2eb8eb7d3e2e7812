pub(crate) mod edition {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "editions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub course_id: Uuid,
        pub title: Option<String>,
        pub description: Option<String>,
        pub starts_on: Option<Date>,
        pub ends_on: Option<Date>,
        pub enrol_opens_at: Option<DateTimeUtc>,
        pub enrol_closes_at: Option<DateTimeUtc>,
        pub capacity: Option<i32>,
        pub enrolment_mode: String,
        pub visibility: String,
        pub price_minor: Option<i64>,
        pub price_currency: Option<String>,
        pub included_in_subscription: bool,
        pub withdrawal_days: i32,
        pub invoice_immediately: bool,
        pub vat_basis_points: Option<i32>,
        pub company_cofunding: bool,
        pub funding_order: Option<String>,
        pub min_score: Option<i32>,
        pub credential_valid_months: Option<i32>,
        pub status: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// Read together when a page shows both (`many_with_courses`).
        #[sea_orm(
            belongs_to = "crate::catalogue::entity::course::Entity",
            from = "Column::CourseId",
            to = "crate::catalogue::entity::course::Column::Id"
        )]
        Course,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
pub(crate) mod visible_to {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "edition_organisations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub edition_id: Uuid,
        pub organisation_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
pub(crate) mod module {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "edition_modules")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub edition_id: Uuid,
        pub position: i32,
        pub title: String,
        pub required: bool,
        pub estimated_minutes: i32,
        pub activity_iri: String,
        pub retired_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        /// The cmi5 moveOn rule, as `progress::MoveOn` writes it.
        pub move_on: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
crate::tenant_entity!(edition, visible_to, module);
