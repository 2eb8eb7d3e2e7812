pub(crate) mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub email: String,
        pub given_name: String,
        pub family_name: String,
        pub organisation_id: Uuid,
        pub password_hash: Option<String>,
        pub status: String,
        pub password_changed_at: Option<DateTimeUtc>,
        pub token_version: i32,
        pub created_at: DateTimeUtc,
        /// The xAPI account an LMS names this person by: its home page and name.
        pub external_home_page: Option<String>,
        pub external_ref: Option<String>,
        /// SHA-1 of `mailto:<email>`, kept with the email (see `before_save`).
        pub mbox_sha1sum: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    #[async_trait::async_trait]
    impl ActiveModelBehavior for ActiveModel {
        /// Whoever writes an email writes its xAPI `mbox_sha1sum` with it.
        async fn before_save<C>(mut self, _db: &C, _insert: bool) -> Result<Self, DbErr>
        where
            C: ConnectionTrait,
        {
            if let sea_orm::ActiveValue::Set(email) = &self.email {
                self.mbox_sha1sum =
                    sea_orm::ActiveValue::Set(Some(crate::people::mbox_sha1sum(email)));
            }
            Ok(self)
        }
    }
}

pub(crate) mod grant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "role_grants")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub person_id: Uuid,
        pub organisation_id: Uuid,
        pub role: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

crate::tenant_entity!(person, grant);
