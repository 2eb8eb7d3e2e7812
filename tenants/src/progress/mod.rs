//! Progress from learning platforms: the space's xAPI learning record store. The credentials
//! platforms authenticate with ([`credentials`]), the statements they send ([`statements`],
//! read back through [`query`]) with their attachments ([`attachments`]), and the module
//! progress they make ([`derive`]).

pub mod attachments;
pub mod credentials;
pub mod derive;
pub mod documents;
pub(crate) mod entity;
pub mod query;
pub mod record;
pub mod report;
pub mod statements;
