pub(crate) mod batch {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "voucher_batches")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub funder_id: Uuid,
        pub name: String,
        /// The funder's kind when the batch was made (`FunderKind`).
        pub funder_kind: String,
        pub code_count: i32,
        /// Either a face value, or a percentage (basis points) of the price with a cap.
        pub face_value_minor: Option<i64>,
        pub percent_basis_points: Option<i32>,
        pub cap_minor: Option<i64>,
        pub currency: String,
        pub min_learner_share_minor: Option<i64>,
        pub valid_from: DateTimeUtc,
        pub valid_until: DateTimeUtc,
        pub uses_per_code: i32,
        /// JSON arrays of ids (or size bands); null: no restriction of that kind.
        pub course_ids: Option<String>,
        pub edition_ids: Option<String>,
        pub organisation_ids: Option<String>,
        pub size_bands: Option<String>,
        pub revoked_at: Option<DateTimeUtc>,
        pub created_by: Option<Uuid>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod voucher {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vouchers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub batch_id: Uuid,
        /// `VoucherKey::hash` of the space and the code: the only form the code is kept in.
        pub code_hash: String,
        /// Uses taken, pending ones included.
        pub uses: i32,
        pub max_uses: i32,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod redemption {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "voucher_redemptions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub voucher_id: Uuid,
        pub batch_id: Uuid,
        pub funder_id: Uuid,
        pub enrolment_id: Uuid,
        pub person_id: Uuid,
        pub amount_minor: i64,
        pub currency: String,
        /// `pending` (the learner's payment awaited) | `confirmed` | `released` | `withdrawn`.
        pub status: String,
        pub charge_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) mod payment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enrolment_payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub enrolment_id: Uuid,
        pub person_id: Uuid,
        pub invoice_id: Uuid,
        pub amount_minor: i64,
        pub currency: String,
        pub provider: String,
        pub checkout_id: String,
        pub checkout_url: String,
        /// `awaiting` | `paid` | `released` | `refunded`.
        pub status: String,
        pub expires_at: DateTimeUtc,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

spaces_tenants::tenant_entity!(batch, voucher, redemption, payment);
