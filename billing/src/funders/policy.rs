//! Who may do what with funders and their voucher batches: the one place that decides.
//!
//! - The space's tenant admins manage every funder and every batch.
//! - A person holding `Role::Funder` on a funder's organisation sees that funder and manages its
//!   batches, and nothing else: `Principal::may` gives that grant nothing, so everywhere else
//!   they read as a plain person.
//! - Anyone else sees no funder: a funder or batch they ask for by id is `NOT_FOUND`, exactly
//!   as an unknown one.

use spaces_tenants::{OrganisationId, Principal, Role};

use super::Funder;

/// Creates funders and invites their staff.
pub fn may_manage_funders(who: &Principal) -> bool {
    who.is_tenant_admin()
}

/// Sees every funder (lists them all).
pub fn sees_all(who: &Principal) -> bool {
    who.is_tenant_admin()
}

/// The organisations whose funders the caller staffs.
pub fn staffed(who: &Principal) -> Vec<OrganisationId> {
    who.grants()
        .iter()
        .filter(|g| g.role == Role::Funder)
        .map(|g| g.organisation)
        .collect()
}

/// Sees the funder, its batches and their figures, and manages its batches (create, revoke).
pub fn may_manage_batches(who: &Principal, funder: &Funder) -> bool {
    sees_all(who)
        || who
            .grants()
            .iter()
            .any(|g| g.role == Role::Funder && g.organisation == funder.organisation)
}

/// The root organisation, as a tenant admin's grant names it (admins are granted on the root).
pub fn root_of_admin(who: &Principal) -> Option<OrganisationId> {
    who.grants()
        .iter()
        .find(|g| g.role == Role::TenantAdmin)
        .map(|g| g.organisation)
}
