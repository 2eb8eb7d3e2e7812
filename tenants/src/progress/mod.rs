//! Progress from learning platforms: the space's xAPI learning record store. The credentials
//! platforms authenticate with ([`credentials`]), the statements they send ([`statements`],
//! read back through [`query`]) with their attachments ([`attachments`]), and the module
//! progress they make ([`derive`]), judged again when an edition's rules change
//! ([`reevaluate`]).

pub mod attachments;
pub mod credentials;
pub mod derive;
pub mod documents;
pub(crate) mod entity;
mod identity;
pub mod query;
pub mod record;
pub mod reevaluate;
pub mod report;
pub mod statements;

/// An enrolment whose progress statements moved: what live progress announces once the
/// statements commit. Ids only, so a listener reads what it shows with its own rights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progressed {
    pub enrolment: crate::EnrolmentId,
    pub person: crate::PersonId,
    pub edition: crate::EditionId,
    /// Whether these statements completed it.
    pub completed: bool,
}

impl Progressed {
    fn of(e: &crate::enrolments::entity::enrolment::Model, completed: bool) -> Self {
        Self {
            enrolment: crate::EnrolmentId::from_uuid(e.id),
            person: crate::PersonId::from_uuid(e.person_id),
            edition: crate::EditionId::from_uuid(e.edition_id),
            completed,
        }
    }
}
