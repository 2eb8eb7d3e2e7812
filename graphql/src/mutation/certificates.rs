use std::io::Read;

use async_graphql::{Context, ID, Object, SimpleObject, Upload};
use spaces_tenants::credentials::{keys, logo, records};
use spaces_tenants::{CredentialId, EnrolmentId};

use crate::ApiError;
use crate::error::{ApiResult, parse_id};
use crate::types::certificate::CertificateGql;

/// A credential signing key of the space, as verifiers fetch it.
#[derive(SimpleObject)]
#[graphql(name = "CredentialKey")]
pub struct CredentialKeyGql {
    /// The `kid` of the credentials it signs: a URL that serves its public JWK.
    pub kid: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The logo drawn on the space's certificates.
#[derive(SimpleObject)]
#[graphql(name = "SpaceLogo")]
pub struct SpaceLogoGql {
    pub media_type: String,
    pub width: i32,
    pub height: i32,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Default)]
pub struct CertificateMutation;

#[Object]
impl CertificateMutation {
    /// Tenant admins: revokes a certificate, with the reason verifiers are told. It shows in
    /// the space's status list at once; revoking it again changes nothing.
    async fn revoke_certificate(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> ApiResult<CertificateGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: CredentialId = parse_id("id", &id)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                Ok(CertificateGql(
                    records::revoke(tx, who, id, &reason, now).await?,
                    None,
                ))
            })
            .await
    }

    /// The learner: show (or hide) their name on the certificate's verification page.
    async fn set_certificate_public(
        &self,
        ctx: &Context<'_>,
        id: ID,
        public: bool,
    ) -> ApiResult<CertificateGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: CredentialId = parse_id("id", &id)?;
        scope
            .atomic(async |tx| {
                Ok(CertificateGql(
                    records::set_public(tx, who, id, public).await?,
                    None,
                ))
            })
            .await
    }

    /// Tenant admins: the learner's identity was verified at this enrolment's assessment
    /// (an invigilated exam, an ID check). Certificates issued afterwards say so. An LMS
    /// reports it itself with the xAPI context extension `identityVerified`.
    async fn record_identity_verified(
        &self,
        ctx: &Context<'_>,
        enrolment_id: ID,
    ) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: EnrolmentId = parse_id("enrolmentId", &enrolment_id)?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                records::record_identity_verified(tx, who, id, now).await?;
                Ok(true)
            })
            .await
    }

    /// Tenant admins: how long the certificates of an edition are valid, in months (1 to 600;
    /// null for no end). It sets their `validUntil`; certificates already issued keep theirs.
    async fn set_certificate_validity(
        &self,
        ctx: &Context<'_>,
        edition_id: ID,
        months: Option<i32>,
    ) -> ApiResult<crate::types::edition::EditionGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let id: spaces_tenants::EditionId = parse_id("editionId", &edition_id)?;
        scope
            .atomic(async |tx| {
                records::set_validity(tx, who, id, months).await?;
                let e = spaces_tenants::editions::get(tx, who, id).await?;
                crate::types::edition::edition_gql(tx, e).await
            })
            .await
    }

    /// Tenant admins: retire the space's credential key and sign with a new one. Credentials
    /// signed before stay valid: the old key stays published.
    async fn rotate_credential_key(&self, ctx: &Context<'_>) -> ApiResult<CredentialKeyGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        let now = scope.deps.clock.now();
        let space = scope.space()?;
        let links = &scope.deps.links;
        let origin = links.origin(&links.slug_host(&space.slug));
        scope
            .atomic(async |tx| {
                let k = keys::rotate(tx, who, now).await?;
                Ok(CredentialKeyGql {
                    kid: format!("{origin}/credentials/keys/{}", k.id),
                    created_at: k.created_at,
                })
            })
            .await
    }

    /// Tenant admins: the logo for certificates and the issuer profile (a PNG or JPEG of at
    /// most 512 KiB and 4096 px a side), sent as a GraphQL multipart upload.
    async fn upload_space_logo(&self, ctx: &Context<'_>, file: Upload) -> ApiResult<SpaceLogoGql> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        // Who may, before a byte of the file is read.
        if !who.is_tenant_admin() {
            return Err(ApiError::forbidden(
                "the space's logo needs the tenant admin role",
            ));
        }
        let mut content = Vec::new();
        file.value(ctx)
            .map_err(|_| ApiError::bad_input("file", "no file was uploaded"))?
            .into_read()
            .take(spaces_tenants::credentials::pdf::MAX_LOGO_BYTES as u64 + 1)
            .read_to_end(&mut content)
            .map_err(|_| ApiError::bad_input("file", "could not be read"))?;
        let now = scope.deps.clock.now();
        scope
            .atomic(async |tx| {
                let l = logo::set(tx, who, content, now).await?;
                Ok(SpaceLogoGql {
                    media_type: l.media_type.to_owned(),
                    width: i32::try_from(l.width).unwrap_or(i32::MAX),
                    height: i32::try_from(l.height).unwrap_or(i32::MAX),
                    uploaded_at: l.uploaded_at,
                })
            })
            .await
    }

    /// Tenant admins: certificates go back to having no logo. `false` if there was none.
    async fn remove_space_logo(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let scope = crate::scope::of(ctx);
        let who = scope.require_person()?;
        scope
            .atomic(async |tx| Ok(logo::remove(tx, who).await?))
            .await
    }
}
