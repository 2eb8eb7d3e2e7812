//! The seller on every invoice: the platform's legal entity, configured once at start-up
//! (`SPACES_SELLER_*`). Each invoice keeps a copy of it as issued.

use std::sync::RwLock;

use crate::documents::Party;

static SELLER: RwLock<Option<Party>> = RwLock::new(None);

/// Sets the platform's legal entity; the gateway calls it when it starts.
pub fn configure(seller: Party) {
    if let Ok(mut s) = SELLER.write() {
        *s = Some(seller);
    }
}

/// The configured seller, or the defaults of the settings.
pub(crate) fn current() -> Party {
    SELLER
        .read()
        .ok()
        .and_then(|s| s.clone())
        .unwrap_or_else(default)
}

pub fn default() -> Party {
    Party {
        legal_name: "Spaces Platform SAS".into(),
        address_line: "1 rue de la Plateforme".into(),
        postcode: "75001".into(),
        city: "Paris".into(),
        country: "FR".into(),
        registration_number: None,
        vat_number: None,
        email: None,
    }
}
