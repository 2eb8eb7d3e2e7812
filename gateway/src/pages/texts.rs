//! What the pages and messages say, in each language a space can choose.

use spaces_tenants::outbox::MessageKind;
use spaces_tenants::spaces::{Locale, Space};

/// Words of one page, in one language.
pub struct PageTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub password: &'static str,
    pub confirm: &'static str,
    pub submit: &'static str,
    pub done_title: &'static str,
    pub done: &'static str,
    pub sign_in: &'static str,
}

/// Why a link cannot be used, as the person reading the page is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Expired,
    Used,
    /// Unknown, or another space's, or a disabled account's: all look the same.
    Unknown,
    Mismatch,
    TooShort,
    RateLimited,
    Unavailable,
    /// A registration whose email has an account by now.
    Registered,
    /// A registration the space's setting no longer admits.
    Closed,
}

pub fn refusal(locale: Locale, r: Refusal, page: Page) -> &'static str {
    use Refusal::*;
    match (locale, r, page) {
        (Locale::En, Expired, Page::Invitation) => {
            "This invitation has expired. Ask the person who invited you to send a new one."
        }
        (Locale::En, Used, Page::Invitation) => {
            "This invitation has already been used. Sign in with the password you chose."
        }
        (Locale::En, Expired, Page::Registration) => {
            "This link has expired. Register again to get a new one."
        }
        (Locale::En, Expired, _) => "This link has expired. Ask for a new one below.",
        (Locale::En, Used, Page::Registration) => {
            "This link has already been used. Sign in with the password you chose."
        }
        (Locale::En, Registered, _) => {
            "This email already has an account here. Sign in, or choose a new password below."
        }
        (Locale::En, Closed, _) => "This space no longer takes registrations for this email.",
        (Locale::En, Used, _) => {
            "This link has already been used. Ask for a new one if you still need it."
        }
        (Locale::En, Unknown, _) => "This link is not valid here. Check that you copied it whole.",
        (Locale::En, Mismatch, _) => "The two passwords differ.",
        (Locale::En, TooShort, _) => "Choose a password of 12 to 256 characters.",
        (Locale::En, RateLimited, _) => "Too many requests. Try again in a few minutes.",
        (Locale::En, Unavailable, _) => "This space is not available at the moment.",
        (Locale::Fr, Expired, Page::Invitation) => {
            "Cette invitation a expiré. Demandez à la personne qui vous a invité de vous en envoyer une nouvelle."
        }
        (Locale::Fr, Used, Page::Invitation) => {
            "Cette invitation a déjà été utilisée. Connectez-vous avec le mot de passe choisi."
        }
        (Locale::Fr, Expired, Page::Registration) => {
            "Ce lien a expiré. Inscrivez-vous à nouveau pour en recevoir un autre."
        }
        (Locale::Fr, Expired, _) => "Ce lien a expiré. Demandez-en un nouveau ci-dessous.",
        (Locale::Fr, Used, Page::Registration) => {
            "Ce lien a déjà été utilisé. Connectez-vous avec le mot de passe choisi."
        }
        (Locale::Fr, Registered, _) => {
            "Cette adresse a déjà un compte ici. Connectez-vous, ou choisissez un nouveau mot de passe ci-dessous."
        }
        (Locale::Fr, Closed, _) => "Cet espace n'accepte plus d'inscription pour cette adresse.",
        (Locale::Fr, Used, _) => "Ce lien a déjà été utilisé. Demandez-en un nouveau si besoin.",
        (Locale::Fr, Unknown, _) => {
            "Ce lien n'est pas valable ici. Vérifiez qu'il a été copié en entier."
        }
        (Locale::Fr, Mismatch, _) => "Les deux mots de passe diffèrent.",
        (Locale::Fr, TooShort, _) => "Choisissez un mot de passe de 12 à 256 caractères.",
        (Locale::Fr, RateLimited, _) => "Trop de demandes. Réessayez dans quelques minutes.",
        (Locale::Fr, Unavailable, _) => "Cet espace n'est pas disponible pour le moment.",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Invitation,
    Reset,
    Forgot,
    Registration,
    /// The form a learner registers with.
    Register,
}

/// The third field's label on the registration form.
pub fn family_name(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Family name",
        Locale::Fr => "Nom",
    }
}

/// Why the registration form refuses, as the space's rule says.
pub fn register_refusal(locale: Locale, domain: bool) -> &'static str {
    match (locale, domain) {
        (Locale::En, false) => {
            "This space does not take registrations. Ask its team for an invitation."
        }
        (Locale::En, true) => {
            "This space takes registrations only with an email address of the organisations it lists."
        }
        (Locale::Fr, false) => {
            "Cet espace n'accepte pas d'inscription. Demandez une invitation à son équipe."
        }
        (Locale::Fr, true) => {
            "Cet espace n'accepte d'inscription qu'avec une adresse e-mail des organisations qu'il liste."
        }
    }
}

/// A field of the registration form that cannot be taken.
pub fn register_invalid(locale: Locale, field: &str) -> &'static str {
    match (locale, field) {
        (Locale::En, "email") => "Give a valid email address.",
        (Locale::En, _) => "Give your given name and family name (100 characters at most each).",
        (Locale::Fr, "email") => "Indiquez une adresse e-mail valide.",
        (Locale::Fr, _) => "Indiquez votre prénom et votre nom (100 caractères au plus chacun).",
    }
}

pub fn page(locale: Locale, p: Page) -> PageTexts {
    match (locale, p) {
        (Locale::En, Page::Invitation) => PageTexts {
            title: "Welcome",
            intro: "Choose the password you will sign in with.",
            password: "Password (12 characters or more)",
            confirm: "The same password again",
            submit: "Choose this password",
            done_title: "You are all set",
            done: "Your password is saved. You can now sign in.",
            sign_in: "Sign in",
        },
        (Locale::En, Page::Reset) => PageTexts {
            title: "Choose a new password",
            intro: "Choose the new password you will sign in with.",
            password: "New password (12 characters or more)",
            confirm: "The same password again",
            submit: "Save the new password",
            done_title: "Password changed",
            done: "Your new password is saved and every session you had is closed. You can now sign in.",
            sign_in: "Sign in",
        },
        (Locale::En, Page::Forgot) => PageTexts {
            title: "Forgot your password?",
            intro: "Give the email you sign in with: we will send you a link to choose a new password.",
            password: "Email",
            confirm: "",
            submit: "Send me a link",
            done_title: "Check your email",
            done: "If an account uses this email here, a link is on its way. It works once, for one hour.",
            sign_in: "Sign in",
        },
        (Locale::En, Page::Registration) => PageTexts {
            title: "Confirm your registration",
            intro: "Choose the password you will sign in with to finish creating your account.",
            password: "Password (12 characters or more)",
            confirm: "The same password again",
            submit: "Create my account",
            done_title: "Your account is ready",
            done: "Your account is created and your password saved. You can now sign in.",
            sign_in: "Sign in",
        },
        (Locale::En, Page::Register) => PageTexts {
            title: "Register",
            intro: "Give your email and your name: we will send you a link to choose your password.",
            password: "Email",
            confirm: "Given name",
            submit: "Register",
            done_title: "Check your email",
            done: "A message is on its way to this address. Its link works once, for 24 hours.",
            sign_in: "Sign in",
        },
        (Locale::Fr, Page::Register) => PageTexts {
            title: "Inscription",
            intro: "Indiquez votre adresse e-mail et votre nom : nous vous enverrons un lien pour choisir votre mot de passe.",
            password: "Adresse e-mail",
            confirm: "Prénom",
            submit: "M'inscrire",
            done_title: "Consultez vos e-mails",
            done: "Un message est en route vers cette adresse. Son lien fonctionne une fois, pendant 24 heures.",
            sign_in: "Se connecter",
        },
        (Locale::Fr, Page::Registration) => PageTexts {
            title: "Confirmez votre inscription",
            intro: "Choisissez le mot de passe avec lequel vous vous connecterez pour terminer la création de votre compte.",
            password: "Mot de passe (12 caractères ou plus)",
            confirm: "Le même mot de passe, à nouveau",
            submit: "Créer mon compte",
            done_title: "Votre compte est prêt",
            done: "Votre compte est créé et votre mot de passe enregistré. Vous pouvez maintenant vous connecter.",
            sign_in: "Se connecter",
        },
        (Locale::Fr, Page::Invitation) => PageTexts {
            title: "Bienvenue",
            intro: "Choisissez le mot de passe avec lequel vous vous connecterez.",
            password: "Mot de passe (12 caractères ou plus)",
            confirm: "Le même mot de passe, à nouveau",
            submit: "Choisir ce mot de passe",
            done_title: "C'est prêt",
            done: "Votre mot de passe est enregistré. Vous pouvez maintenant vous connecter.",
            sign_in: "Se connecter",
        },
        (Locale::Fr, Page::Reset) => PageTexts {
            title: "Choisir un nouveau mot de passe",
            intro: "Choisissez le nouveau mot de passe avec lequel vous vous connecterez.",
            password: "Nouveau mot de passe (12 caractères ou plus)",
            confirm: "Le même mot de passe, à nouveau",
            submit: "Enregistrer le nouveau mot de passe",
            done_title: "Mot de passe modifié",
            done: "Votre nouveau mot de passe est enregistré et toutes vos sessions sont fermées. Vous pouvez maintenant vous connecter.",
            sign_in: "Se connecter",
        },
        (Locale::Fr, Page::Forgot) => PageTexts {
            title: "Mot de passe oublié ?",
            intro: "Indiquez l'adresse e-mail avec laquelle vous vous connectez : nous vous enverrons un lien pour choisir un nouveau mot de passe.",
            password: "Adresse e-mail",
            confirm: "",
            submit: "M'envoyer un lien",
            done_title: "Consultez vos e-mails",
            done: "Si un compte utilise cette adresse ici, un lien est en route. Il fonctionne une fois, pendant une heure.",
            sign_in: "Se connecter",
        },
    }
}

pub fn forgot_link(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Forgot your password?",
        Locale::Fr => "Mot de passe oublié ?",
    }
}

pub fn support(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Need help? Write to",
        Locale::Fr => "Besoin d'aide ? Écrivez à",
    }
}

/// The subject and plain-text body of a message, in the space's language and name.
pub fn message(space: &Space, kind: MessageKind, name: &str, link: &str) -> (String, String) {
    let s = &space.display_name;
    let help = space
        .branding
        .support_email
        .as_deref()
        .map(|e| format!("\n{} {e}.\n", support(space.locale)))
        .unwrap_or_default();
    match (space.locale, kind) {
        (Locale::En, MessageKind::Invitation) => (
            format!("Your invitation to {s}"),
            format!(
                "Hello {name},\n\nYou are invited to {s}. Choose your password here within 14 days:\n\n{link}\n\nIf you did not expect this message, ignore it.\n{help}"
            ),
        ),
        (Locale::En, MessageKind::PasswordReset) => (
            format!("Choose a new password for {s}"),
            format!(
                "Hello {name},\n\nSomeone, hopefully you, asked to reset your password for {s}. Choose a new one here within one hour:\n\n{link}\n\nIf you did not ask for this, ignore this message: your password stays as it is.\n{help}"
            ),
        ),
        (Locale::En, MessageKind::Registration) => (
            format!("Confirm your registration to {s}"),
            format!(
                "Hello {name},\n\nSomeone, hopefully you, registered this email address with {s}. Choose your password here within 24 hours to create your account:\n\n{link}\n\nIf you did not register, ignore this message: no account is created.\n{help}"
            ),
        ),
        (Locale::En, MessageKind::RegistrationKnown) => (
            format!("You already have an account with {s}"),
            format!(
                "Hello {name},\n\nSomeone, hopefully you, tried to register this email address with {s}, but it already has an account there. Sign in with your password; if you forgot it, ask for a new one here:\n\n{link}\n\nIf you did not try to register, ignore this message: nothing has changed.\n{help}"
            ),
        ),
        (Locale::Fr, MessageKind::Registration) => (
            format!("Confirmez votre inscription à {s}"),
            format!(
                "Bonjour {name},\n\nQuelqu'un, vous sans doute, a inscrit cette adresse à {s}. Choisissez votre mot de passe ici dans les 24 heures pour créer votre compte :\n\n{link}\n\nSi vous ne vous êtes pas inscrit(e), ignorez ce message : aucun compte n'est créé.\n{help}"
            ),
        ),
        (Locale::Fr, MessageKind::RegistrationKnown) => (
            format!("Vous avez déjà un compte sur {s}"),
            format!(
                "Bonjour {name},\n\nQuelqu'un, vous sans doute, a tenté d'inscrire cette adresse à {s}, mais elle y a déjà un compte. Connectez-vous avec votre mot de passe ; si vous l'avez oublié, demandez-en un nouveau ici :\n\n{link}\n\nSi vous n'avez rien demandé, ignorez ce message : rien n'a changé.\n{help}"
            ),
        ),
        (Locale::Fr, MessageKind::Invitation) => (
            format!("Votre invitation à {s}"),
            format!(
                "Bonjour {name},\n\nVous êtes invité(e) à rejoindre {s}. Choisissez votre mot de passe ici dans les 14 jours :\n\n{link}\n\nSi vous n'attendiez pas ce message, ignorez-le.\n{help}"
            ),
        ),
        (Locale::Fr, MessageKind::PasswordReset) => (
            format!("Choisissez un nouveau mot de passe pour {s}"),
            format!(
                "Bonjour {name},\n\nQuelqu'un, vous sans doute, a demandé à réinitialiser votre mot de passe pour {s}. Choisissez-en un nouveau ici dans l'heure :\n\n{link}\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.\n{help}"
            ),
        ),
    }
}
