pub(crate) mod account {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "billing_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub organisation_id: Uuid,
        /// Set on a learner's own account (they pay for themselves); such accounts are never
        /// an organisation's, and the lookup of who pays for an organisation skips them.
        pub person_id: Option<Uuid>,
        pub legal_name: String,
        pub address_line: String,
        pub postcode: String,
        pub city: String,
        pub country: String,
        pub registration_number: Option<String>,
        pub vat_number: Option<String>,
        pub invoice_email: String,
        pub currency: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

spaces_tenants::tenant_entity!(account);
