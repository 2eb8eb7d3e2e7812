pub(crate) mod funder {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "funders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        /// `pla` | `public_employment` | `sector_fund` | `employer` (`FunderKind`).
        pub kind: String,
        pub contact_name: String,
        pub contact_email: String,
        /// Its billing account is this organisation's; its staff hold `Role::Funder` here.
        pub organisation_id: Uuid,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

spaces_tenants::tenant_entity!(funder);
