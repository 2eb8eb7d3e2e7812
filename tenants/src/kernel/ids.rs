//! Typed ids: a `PersonId` can never be passed where an `OrganisationId` is expected.

#[macro_export]
macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(::uuid::Uuid);

        impl $name {
            /// A new, time-ordered id (UUID v7), so B-tree inserts stay local.
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }
            pub const fn from_uuid(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
            pub const fn uuid(self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<$name> for ::uuid::Uuid {
            fn from(id: $name) -> ::uuid::Uuid {
                id.0
            }
        }
    )*};
}

typed_id!(
    TenantId,
    OrganisationId,
    PersonId,
    RoleGrantId,
    InvitationId,
    SessionFamilyId,
    RefreshTokenId,
    OperatorId,
    OutboxMessageId,
    ProviderId,
    CourseId,
    SkillId,
    EditionId,
    ModuleId,
    PathwayId,
    EnrolmentId,
    EnrolmentEventId,
    ProgressId,
    LrsCredentialId,
    CredentialId,
    CredentialKeyId,
);
