//! The LRS's documents (xAPI Communication 2.2–2.7): state, activity profiles and agent
//! profiles. So far the rules they follow: ETags and preconditions, and POST's JSON merge.

pub mod merge;
pub mod preconditions;

pub use preconditions::{Preconditions, Tags, etag};
