//! Sign-in, passwords, access tokens, refresh-token families and invitations.

pub(crate) mod entity;
pub mod invitations;
pub mod limiter;
pub mod password;
pub mod registration;
pub mod reset;
pub mod secret;
pub mod sessions;
pub mod signin;
pub mod tokens;
