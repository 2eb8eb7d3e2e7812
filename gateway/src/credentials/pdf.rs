//! `GET /credentials/{id}.pdf`: the certificate for people, in the space's branding, with a QR
//! code to its verification page. Only for its learner and those who may read the learner
//! (HR, managers, tenant admins); anyone else gets 404, as for an unknown id. The logo is the
//! file the space uploaded.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use spaces_graphql::RequestScope;
use spaces_tenants::credentials::pdf::{CertificatePdf, Lang, render};
use spaces_tenants::credentials::records;
use spaces_tenants::spaces::Locale;
use spaces_tenants::{CredentialId, Error};

use super::{json_error, payload};
use crate::app::AppState;
use crate::graphql_http as gh;
use crate::resolve::{Addressed, resolve_with};

fn refused(e: spaces_graphql::ApiError) -> Response {
    let status = match e.code {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    json_error(status, e.code, &e.message)
}

fn not_found() -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such certificate in this space",
    )
}

/// What the transcript shows, in the certificate's language.
fn transcript(lang: Lang, p: &Value, identity_verified: bool) -> Vec<(String, String)> {
    let cmf = &p["credentialSubject"]["achievement"]["cmf"];
    let fr = lang == Lang::Fr;
    let mut rows = Vec::new();
    let mut add = |en: &str, fr_word: &str, v: String| {
        rows.push((if fr { fr_word } else { en }.to_owned(), v));
    };
    // French writes decimals with a comma.
    let number = |x: f64| {
        let s = format!("{}", (x * 100.0).round() / 100.0);
        if fr { s.replace('.', ",") } else { s }
    };
    if let Some(s) = cmf["studyLoad"].as_str() {
        let words = match cmf["studyHours"].as_f64() {
            Some(h) if fr => format!("{} heure{}", number(h), if h >= 2.0 { "s" } else { "" }),
            _ => s.to_owned(),
        };
        add("Study time", "Durée d'apprentissage", words);
    }
    if let Some(s) = cmf["ectsText"].as_str() {
        add("Credits", "Crédits", s.to_owned());
    }
    if let Some(levels) = cmf["eqfLevels"].as_array().filter(|l| !l.is_empty()) {
        let l: Vec<String> = levels.iter().map(|v| v.to_string()).collect();
        add("EQF level", "Niveau CEC", l.join("–"));
    }
    if let Some(g) = p["credentialSubject"]["result"][0]["value"]
        .as_str()
        .and_then(|g| g.parse::<f64>().ok())
    {
        add("Grade", "Note", format!("{} / 100", number(g)));
    }
    if let Some(a) = cmf["assessmentType"].as_str() {
        let words = match (a, fr) {
            ("id-verified-summative", false) => "ID-verified summative assessment",
            ("id-verified-summative", true) => "Évaluation finale avec vérification d'identité",
            ("online-unverified", false) => "Online assessment",
            ("online-unverified", true) => "Évaluation en ligne",
            (_, false) => "None",
            (_, true) => "Aucune",
        };
        add("Assessment", "Évaluation", words.to_owned());
    }
    let yes_no = match (identity_verified, fr) {
        (true, false) => "Yes",
        (true, true) => "Oui",
        (false, false) => "No",
        (false, true) => "Non",
    };
    add("Identity verified", "Identité vérifiée", yes_no.to_owned());
    if cmf["microcredential"].as_bool() == Some(true) {
        add(
            "Microcredential",
            "Microcertification",
            if fr { "Oui (CMF)" } else { "Yes (CMF)" }.to_owned(),
        );
    }
    rows
}

pub async fn download(state: &AppState, headers: &HeaderMap, id: CredentialId) -> Response {
    let bearer = match gh::bearer(headers) {
        Ok(b) => b,
        Err(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "Authorization: Bearer <token>",
            );
        }
    };
    let space = match resolve_with(&state.deps, headers, state.config.tenant_header).await {
        Ok(Addressed::Space(s)) => s,
        Ok(_) => return not_found(),
        Err(e) => return refused(e.into()),
    };
    if bearer.is_none() {
        return json_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "certificate PDFs need a signed-in person of this space: send Authorization: Bearer <token>",
        );
    }
    let scope = match RequestScope::open(
        state.deps.clone(),
        Some(space.clone()),
        bearer,
        String::new(),
        1,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    let tx = match scope.tx().await {
        Ok(t) => t,
        Err(e) => return refused(e),
    };
    let c = match records::get(&tx, &scope.principal, id).await {
        Ok(c) => c,
        Err(Error::NotFound | Error::NotFoundField { .. }) => return not_found(),
        Err(e) => return refused(e.into()),
    };
    let loaded = async {
        let logo = spaces_tenants::credentials::logo::get(&tx).await?;
        let name = spaces_tenants::people::display_name(&tx, c.person).await?;
        Ok::<_, Error>((logo, name))
    }
    .await;
    let (logo, name) = match loaded {
        Ok(v) => v,
        Err(e) => return refused(e.into()),
    };
    drop(tx);
    if let Err(e) = scope.finish().await {
        return refused(e);
    }
    let Some(p) = payload(&c) else {
        return refused(Error::Internal("unreadable stored credential".into()).into());
    };
    let lang = match space.locale {
        Locale::Fr => Lang::Fr,
        Locale::En => Lang::En,
    };
    let links = &state.deps.links;
    let origin = links.origin(&links.slug_host(&space.slug));
    let verify_url = format!("{origin}/verify/{}", c.id);
    let credential_id = format!("{origin}/credentials/{}", c.id);
    let achievement = &p["credentialSubject"]["achievement"];
    let providers: Vec<String> = achievement["cmf"]["providers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let provider = providers.join(", ");
    let outcomes: Vec<String> = achievement["cmf"]["learningOutcomes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let rows = transcript(
        lang,
        &p,
        p["credentialSubject"]["identityVerified"].as_bool() == Some(true),
    );
    let b = &space.branding;
    let doc = CertificatePdf {
        lang,
        space_name: &space.display_name,
        primary_colour: b.primary_colour.as_deref(),
        accent_colour: b.accent_colour.as_deref(),
        logo: logo.as_ref().map(|l| l.bytes.as_slice()),
        learner_name: name.as_deref().unwrap_or(""),
        achievement_name: &c.achievement_name,
        provider: (!provider.is_empty()).then_some(provider.as_str()),
        transcript: &rows,
        outcomes: &outcomes,
        issued_on: c.issued_at.date_naive(),
        valid_until: c.valid_until.map(|t| t.date_naive()),
        revoked: c.revoked_at.is_some(),
        verify_url: &verify_url,
        credential_id: &credential_id,
    };
    let bytes = match render(&doc) {
        Ok(b) => b,
        Err(e) => return refused(Error::Internal(format!("rendering a certificate: {e}")).into()),
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"certificate.pdf\""),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transcript_speaks_the_spaces_language() {
        let p = serde_json::json!({ "credentialSubject": {
            "result": [{ "value": "87.5" }],
            "achievement": { "cmf": { "studyHours": 12.5, "studyLoad": "12.5 hours",
                "ectsText": "1 ECTS", "eqfLevels": [4, 5], "assessmentType": "id-verified-summative",
                "microcredential": true } } } });
        let fr = transcript(Lang::Fr, &p, true);
        let get = |rows: &[(String, String)], k: &str| {
            rows.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            get(&fr, "Durée d'apprentissage").as_deref(),
            Some("12,5 heures")
        );
        assert_eq!(get(&fr, "Note").as_deref(), Some("87,5 / 100"));
        assert_eq!(get(&fr, "Niveau CEC").as_deref(), Some("4–5"));
        assert_eq!(get(&fr, "Identité vérifiée").as_deref(), Some("Oui"));
        let en = transcript(Lang::En, &p, false);
        assert_eq!(get(&en, "Study time").as_deref(), Some("12.5 hours"));
        assert_eq!(get(&en, "Grade").as_deref(), Some("87.5 / 100"));
        assert_eq!(get(&en, "Identity verified").as_deref(), Some("No"));
        assert_eq!(get(&en, "Microcredential").as_deref(), Some("Yes (CMF)"));
    }
}
