//! `/verify/{id}` for people: the verdict and the credential's facts, in the space's language
//! and colours. The learner's name appears only if they made the credential public.

use std::sync::LazyLock;

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Environment, context};
use spaces_tenants::credentials::document::Urls;
use spaces_tenants::credentials::verify::{Failure, Verdict};
use spaces_tenants::spaces::{Locale, Space};

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    if let Err(e) = env.add_template("verify.html", include_str!("verify.html")) {
        tracing::error!(error = %e, "the verification page template does not parse");
    }
    env
});

fn reason(locale: Locale, f: Failure) -> &'static str {
    match locale {
        Locale::En => f.reason(),
        Locale::Fr => match f {
            Failure::NotFound => {
                "Aucun certificat portant cet identifiant n'a été délivré par cet espace."
            }
            Failure::Malformed => "Ce n'est pas un certificat signé.",
            Failure::Header => "L'en-tête de signature n'est pas conforme (RS256, kid, typ JWT).",
            Failure::OtherSpace => "Ce certificat n'a pas été délivré par cet espace.",
            Failure::UnknownKey => "La clé de signature n'est pas publiée par cet espace.",
            Failure::Signature => {
                "La signature ne correspond pas : le certificat a été modifié ou signé par une autre clé."
            }
            Failure::Claims => "Les champs du jeton ne correspondent pas au certificat signé.",
            Failure::NotYetValid => "Ce certificat n'est pas encore valide.",
            Failure::Expired => "Ce certificat a expiré.",
            Failure::Revoked => "L'émetteur a révoqué ce certificat.",
        },
    }
}

struct Words {
    title: &'static str,
    valid: &'static str,
    invalid: &'static str,
    achievement: &'static str,
    learner: &'static str,
    issued: &'static str,
    until: &'static str,
    revoked: &'static str,
    why: &'static str,
    micro: &'static str,
    yes: &'static str,
    how: &'static str,
    issuer: &'static str,
}

fn words(locale: Locale) -> Words {
    match locale {
        Locale::En => Words {
            title: "Certificate verification",
            valid: "Valid: this certificate was issued by this space and is in force.",
            invalid: "Not valid.",
            achievement: "Achievement",
            learner: "Awarded to",
            issued: "Issued on",
            until: "Valid until",
            revoked: "Revoked on",
            why: "Reason",
            micro: "Microcredential (CMF)",
            yes: "Yes",
            how: "Machine-readable:",
            issuer: "Issuer",
        },
        Locale::Fr => Words {
            title: "Vérification de certificat",
            valid: "Valide : ce certificat a été délivré par cet espace et il est en vigueur.",
            invalid: "Non valide.",
            achievement: "Réussite",
            learner: "Décerné à",
            issued: "Délivré le",
            until: "Valide jusqu'au",
            revoked: "Révoqué le",
            why: "Motif",
            micro: "Microcertification (CMF)",
            yes: "Oui",
            how: "Formats lisibles par machine :",
            issuer: "Émetteur",
        },
    }
}

pub fn render(
    space: &Space,
    urls: &Urls,
    v: &Verdict,
    name: Option<&str>,
    has_logo: bool,
) -> Response {
    let w = words(space.locale);
    let date = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &v.record {
        rows.push((w.achievement, c.achievement_name.clone()));
        if let Some(n) = name {
            rows.push((w.learner, n.to_owned()));
        }
        rows.push((w.issued, date(c.issued_at)));
        if let Some(u) = c.valid_until {
            rows.push((w.until, date(u)));
        }
        if c.microcredential {
            rows.push((w.micro, w.yes.to_owned()));
        }
        if let Some(r) = c.revoked_at {
            rows.push((w.revoked, date(r)));
            if let Some(why) = &c.revoked_reason {
                rows.push((w.why, why.clone()));
            }
        }
    }
    let b = &space.branding;
    let id = v.record.as_ref().map(|c| c.id.uuid());
    let ctx = context! {
        lang => space.locale.as_str(),
        title => w.title,
        space => &space.display_name,
        // Relative: the page may be read on a custom domain, and its CSP allows only 'self'.
        logo => has_logo.then_some("/logo"),
        primary => b.primary_colour.as_deref().unwrap_or("#1f4e79"),
        accent => b.accent_colour.as_deref().unwrap_or("#f39200"),
        valid => v.valid(),
        verdict => if v.valid() { w.valid } else { w.invalid },
        reason => v.failure.map(|f| reason(space.locale, f)),
        rows => rows,
        how => w.how,
        json_link => id.map(|id| urls.credential(id)),
        jwt_link => id.map(|id| format!("{}.jwt", urls.credential(id))),
        issuer_link => urls.issuer(),
        issuer_word => w.issuer,
    };
    let (status, html) = match TEMPLATES
        .get_template("verify.html")
        .and_then(|t| t.render(ctx))
    {
        Ok(html) => (
            if v.failure == Some(Failure::NotFound) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            },
            html,
        ),
        Err(e) => {
            tracing::error!(error = %e, "rendering the verification page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_owned(),
            )
        }
    };
    // Its only image is the space's own logo, on the same host.
    crate::pages::html_page(
        status,
        html,
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    )
}
