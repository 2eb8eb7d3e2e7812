pub(crate) mod subscription {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "subscriptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub plan_id: Uuid,
        pub billing_account_id: Uuid,
        pub plan_name: String,
        pub term: String,
        pub plan_seats: i32,
        pub price_minor: i64,
        pub currency: String,
        pub vat_basis_points: i32,
        pub seats: i32,
        pub renewal_seats: i32,
        pub starts_on: Date,
        pub ends_on: Date,
        pub status: String,
        pub cancel_at_term_end: bool,
        pub renewal_invoice_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

spaces_tenants::tenant_entity!(subscription);
