//! Progress from learning platforms: the space's xAPI learning record store. So far, the
//! credentials platforms authenticate with ([`credentials`]); statements, documents and the
//! rules that turn statements into module progress come next.

pub mod credentials;
pub mod documents;
pub(crate) mod entity;
