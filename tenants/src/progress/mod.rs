//! Progress from learning platforms: the space's xAPI learning record store. The credentials
//! platforms authenticate with ([`credentials`]), the statements they send ([`statements`],
//! read back through [`query`]) and their attachments ([`attachments`]); the rules that turn statements into module progress come next.

pub mod attachments;
pub mod credentials;
pub(crate) mod entity;
pub mod query;
pub mod statements;
