//! The logo a space uploads for its certificates (and its issuer profile): checked when it
//! arrives (PNG or JPEG, at most 512 KiB and 4096 px a side), stored in the database, drawn
//! from there. A certificate never fetches an image from a URL while it renders.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter};

use super::entity::logo;
use super::pdf::{LogoFormat, check_logo};
use crate::{Error, Principal, Result, TenantTx};

pub struct Logo {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub uploaded_at: DateTime<Utc>,
}

fn media(format: LogoFormat) -> &'static str {
    match format {
        LogoFormat::Png => "image/png",
        LogoFormat::Jpeg => "image/jpeg",
    }
}

pub async fn get(tx: &TenantTx) -> Result<Option<Logo>> {
    Ok(tx.select::<logo::Entity>().one().await?.map(|m| Logo {
        media_type: if m.media_type == "image/png" {
            "image/png"
        } else {
            "image/jpeg"
        },
        bytes: m.bytes,
        width: u32::try_from(m.width).unwrap_or(0),
        height: u32::try_from(m.height).unwrap_or(0),
        uploaded_at: m.uploaded_at,
    }))
}

/// Whether the space has uploaded a logo (without reading it).
pub async fn exists(tx: &TenantTx) -> Result<bool> {
    Ok(tx.select::<logo::Entity>().count().await? > 0)
}

/// Tenant admins: the space's logo, replacing any before. A file that is not a PNG or JPEG
/// within the limits is refused on `file`, and nothing changes.
pub async fn set(
    tx: &TenantTx,
    who: &Principal,
    bytes: Vec<u8>,
    now: DateTime<Utc>,
) -> Result<Logo> {
    let admin = match who.person() {
        Some((_, p)) if who.is_tenant_admin() => p,
        _ => {
            return Err(Error::Forbidden(
                "the space's logo needs the tenant admin role",
            ));
        }
    };
    let info = check_logo(&bytes).map_err(|e| Error::invalid("file", e.to_string()))?;
    let (w, h) = (
        i32::try_from(info.width).unwrap_or(i32::MAX),
        i32::try_from(info.height).unwrap_or(i32::MAX),
    );
    tx.delete_many::<logo::Entity>().exec().await?;
    tx.insert(logo::ActiveModel {
        tenant_id: Set(tx.tenant_uuid()),
        id: Set(uuid::Uuid::now_v7()),
        media_type: Set(media(info.format).to_owned()),
        bytes: Set(bytes.clone()),
        width: Set(w),
        height: Set(h),
        uploaded_by: Set(admin.uuid()),
        uploaded_at: Set(now),
    })
    .await?;
    Ok(Logo {
        media_type: media(info.format),
        bytes,
        width: info.width,
        height: info.height,
        uploaded_at: now,
    })
}

/// Tenant admins: no logo any more.
pub async fn remove(tx: &TenantTx, who: &Principal) -> Result<bool> {
    if !who.is_tenant_admin() {
        return Err(Error::Forbidden(
            "the space's logo needs the tenant admin role",
        ));
    }
    Ok(tx
        .delete_many::<logo::Entity>()
        .filter(logo::Column::TenantId.is_not_null())
        .exec()
        .await?
        > 0)
}
