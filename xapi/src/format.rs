//! The `format` parameter of `GET statements` (Communication 2.1.3): `ids` keeps only what
//! identifies agents, groups, activities and verbs; `canonical` keeps one language per language
//! map, the one the client prefers. Both take a stored (normalised) statement.

use serde_json::{Map, Value};

/// `format=ids`: an Agent or identified Group as `objectType` and its IFI, an anonymous Group as
/// `objectType` and its members in that form, an Activity as `{"id"}`, a Verb as `{"id"}`;
/// also inside a SubStatement and in the context.
pub fn ids(v: &Value) -> Value {
    let mut out = v.clone();
    statement_ids(&mut out);
    if let Some(a) = out.get_mut("authority") {
        *a = actor_ids(a);
    }
    out
}

fn statement_ids(s: &mut Value) {
    let Some(map) = s.as_object_mut() else {
        return;
    };
    if let Some(a) = map.get_mut("actor") {
        *a = actor_ids(a);
    }
    if let Some(v) = map.get_mut("verb") {
        *v = only_id(v);
    }
    if let Some(o) = map.get_mut("object") {
        match o.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => *o = only_id(o),
            Some("Agent" | "Group") => *o = actor_ids(o),
            Some("SubStatement") => statement_ids(o),
            _ => {}
        }
    }
    let Some(context) = map.get_mut("context").and_then(Value::as_object_mut) else {
        return;
    };
    for key in ["instructor", "team"] {
        if let Some(a) = context.get_mut(key) {
            *a = actor_ids(a);
        }
    }
    if let Some(ca) = context
        .get_mut("contextActivities")
        .and_then(Value::as_object_mut)
    {
        for list in ca.values_mut() {
            match list {
                Value::Array(items) => items.iter_mut().for_each(|a| *a = only_id(a)),
                other => *other = only_id(other),
            }
        }
    }
}

fn only_id(v: &Value) -> Value {
    let mut out = Map::new();
    if let Some(id) = v.get("id") {
        out.insert("id".into(), id.clone());
    }
    Value::Object(out)
}

fn actor_ids(a: &Value) -> Value {
    let Some(map) = a.as_object() else {
        return a.clone();
    };
    let mut out = Map::new();
    if let Some(t) = map.get("objectType") {
        out.insert("objectType".into(), t.clone());
    }
    let ifi = ["mbox", "mbox_sha1sum", "openid", "account"]
        .into_iter()
        .find_map(|k| map.get(k).map(|v| (k, v)));
    match ifi {
        Some((k, v)) => {
            out.insert(k.into(), v.clone());
        }
        None => {
            if let Some(Value::Array(members)) = map.get("member") {
                out.insert(
                    "member".into(),
                    Value::Array(members.iter().map(actor_ids).collect()),
                );
            }
        }
    }
    Value::Object(out)
}

/// `format=canonical`: every language map (verb display, activity name and description,
/// interaction component descriptions, attachment display and description) reduced to its best
/// entry for `accept_language`, the client's languages in order of preference.
pub fn canonical(v: &Value, accept_language: &[String]) -> Value {
    let mut out = v.clone();
    statement_canonical(&mut out, accept_language);
    out
}

fn statement_canonical(s: &mut Value, langs: &[String]) {
    let Some(map) = s.as_object_mut() else {
        return;
    };
    if let Some(d) = map.get_mut("verb").and_then(|v| v.get_mut("display")) {
        reduce(d, langs);
    }
    if let Some(o) = map.get_mut("object") {
        match o.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => activity(o, langs),
            Some("SubStatement") => statement_canonical(o, langs),
            _ => {}
        }
    }
    if let Some(ca) = map
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
        .and_then(Value::as_object_mut)
    {
        for list in ca.values_mut() {
            match list {
                Value::Array(items) => items.iter_mut().for_each(|a| activity(a, langs)),
                other => activity(other, langs),
            }
        }
    }
    if let Some(Value::Array(list)) = map.get_mut("attachments") {
        for a in list {
            for key in ["display", "description"] {
                if let Some(m) = a.get_mut(key) {
                    reduce(m, langs);
                }
            }
        }
    }
}

fn activity(a: &mut Value, langs: &[String]) {
    let Some(def) = a.get_mut("definition").and_then(Value::as_object_mut) else {
        return;
    };
    for key in ["name", "description"] {
        if let Some(m) = def.get_mut(key) {
            reduce(m, langs);
        }
    }
    for key in crate::statement::COMPONENT_LISTS {
        if let Some(Value::Array(list)) = def.get_mut(*key) {
            for c in list {
                if let Some(m) = c.get_mut("description") {
                    reduce(m, langs);
                }
            }
        }
    }
}

/// The languages of an `Accept-Language` header, most preferred first: by `q` (absent is 1),
/// then in the order written; `q=0` means "not this one" and is dropped.
pub fn accept_language(header: &str) -> Vec<String> {
    let mut weighted: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!tag.is_empty() && q > 0.0).then(|| (q, i, tag.to_owned()))
        })
        .collect();
    weighted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    weighted.into_iter().map(|(_, _, tag)| tag).collect()
}

/// Keeps the one entry of a language map that best fits the preferences: for each preferred
/// tag in turn, the same tag (case-insensitive), else one that is a prefix of it or it of that
/// (`en` for `en-GB`, `en-GB` for `en`), else one of the same language (`en-US` for `en-GB`);
/// failing all, the first entry. `*` takes the first entry.
fn reduce(map: &mut Value, langs: &[String]) {
    let Some(m) = map.as_object_mut() else {
        return;
    };
    let best = best(m, langs).or_else(|| m.keys().next().cloned());
    if let Some(key) = best
        && let Some((k, v)) = m.remove_entry(&key)
    {
        m.clear();
        m.insert(k, v);
    }
}

fn best(m: &Map<String, Value>, langs: &[String]) -> Option<String> {
    let prefix = |long: &str, short: &str| {
        long.len() > short.len()
            && long.as_bytes()[short.len()] == b'-'
            && long[..short.len()].eq_ignore_ascii_case(short)
    };
    for lang in langs {
        // A caller may pass Accept-Language items with their weights.
        let lang = lang.split(';').next().unwrap_or_default().trim();
        if lang.is_empty() {
            continue;
        }
        if lang == "*" {
            return m.keys().next().cloned();
        }
        if let Some(k) = m.keys().find(|k| k.eq_ignore_ascii_case(lang)) {
            return Some(k.clone());
        }
        if let Some(k) = m.keys().find(|k| prefix(lang, k) || prefix(k, lang)) {
            return Some(k.clone());
        }
        let primary = |t: &str| t.split('-').next().unwrap_or_default().to_ascii_lowercase();
        if let Some(k) = m.keys().find(|k| primary(k) == primary(lang)) {
            return Some(k.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn langs(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_keep_identifiers_only() {
        let s = json!({
            "id": "aa97b177-9383-4934-8543-0f91a7a02836",
            "actor": {"objectType": "Agent", "name": "Léa", "mbox": "mailto:lea@example.com"},
            "verb": {"id": "http://example.com/v", "display": {"en": "did"}},
            "object": {"objectType": "Activity", "id": "http://example.com/a",
                       "definition": {"name": {"en": "A"}}},
            "context": {
                "instructor": {"name": "I", "openid": "http://o.example/i"},
                "team": {"objectType": "Group", "name": "T",
                         "account": {"homePage": "http://h.example", "name": "t"},
                         "member": [{"mbox": "mailto:m@example.com"}]},
                "contextActivities": {"parent": [{"objectType": "Activity", "id": "http://example.com/p",
                                                  "definition": {"name": {"en": "P"}}}]},
                "platform": "web"
            },
            "authority": {"objectType": "Group", "member": [
                {"name": "a", "mbox": "mailto:a@example.com"},
                {"name": "b", "account": {"homePage": "http://h.example", "name": "b"}}]},
            "result": {"success": true}
        });
        let out = ids(&s);
        assert_eq!(
            out["actor"],
            json!({"objectType": "Agent", "mbox": "mailto:lea@example.com"})
        );
        assert_eq!(out["verb"], json!({"id": "http://example.com/v"}));
        assert_eq!(out["object"], json!({"id": "http://example.com/a"}));
        assert_eq!(
            out["context"]["instructor"],
            json!({"openid": "http://o.example/i"})
        );
        assert_eq!(
            out["context"]["team"],
            json!({"objectType": "Group", "account": {"homePage": "http://h.example", "name": "t"}})
        );
        assert_eq!(
            out["context"]["contextActivities"]["parent"],
            json!([{"id": "http://example.com/p"}])
        );
        assert_eq!(out["context"]["platform"], "web");
        assert_eq!(
            out["authority"],
            json!({"objectType": "Group", "member": [
                {"mbox": "mailto:a@example.com"},
                {"account": {"homePage": "http://h.example", "name": "b"}}]})
        );
        assert_eq!(out["result"], s["result"]);
        assert_eq!(out["id"], s["id"]);
    }

    #[test]
    fn ids_reach_into_substatements_and_agent_objects() {
        let s = json!({
            "actor": {"mbox": "mailto:a@example.com", "name": "A"},
            "verb": {"id": "http://example.com/v"},
            "object": {"objectType": "SubStatement",
                "actor": {"objectType": "Group", "name": "G", "mbox": "mailto:g@example.com",
                          "member": [{"mbox": "mailto:m@example.com"}]},
                "verb": {"id": "http://example.com/v", "display": {"en": "v"}},
                "object": {"objectType": "Agent", "name": "O", "mbox": "mailto:o@example.com"}}
        });
        let out = ids(&s);
        let sub = &out["object"];
        assert_eq!(sub["objectType"], "SubStatement");
        assert_eq!(
            sub["actor"],
            json!({"objectType": "Group", "mbox": "mailto:g@example.com"})
        );
        assert_eq!(sub["verb"], json!({"id": "http://example.com/v"}));
        assert_eq!(
            sub["object"],
            json!({"objectType": "Agent", "mbox": "mailto:o@example.com"})
        );
    }

    #[test]
    fn canonical_keeps_the_preferred_language() {
        let s = json!({
            "verb": {"id": "http://example.com/v", "display": {"en": "a", "en-GB": "b", "en-US": "c"}},
            "object": {"id": "http://example.com/a", "definition": {
                "name": {"en-US": "n-us", "en-GB": "n-gb"},
                "description": {"fr": "d-fr", "en-gb": "d-gb"},
                "type": "http://example.com/t",
                "interactionType": "choice",
                "choices": [{"id": "1", "description": {"en-GB": "one", "de": "eins"}}]}},
            "context": {"contextActivities": {"parent": [{"id": "http://example.com/p",
                "definition": {"name": {"de": "P", "en-GB": "p"}}}]}},
            "attachments": [{"display": {"de": "x", "en-GB": "y"}, "description": {"fr": "z"}}],
            "actor": {"name": "Léa", "mbox": "mailto:lea@example.com"}
        });
        let out = canonical(&s, &langs(&["en-GB"]));
        assert_eq!(out["verb"]["display"], json!({"en-GB": "b"}));
        let def = &out["object"]["definition"];
        assert_eq!(def["name"], json!({"en-GB": "n-gb"}));
        assert_eq!(def["description"], json!({"en-gb": "d-gb"}));
        assert_eq!(def["type"], "http://example.com/t");
        assert_eq!(def["choices"][0]["description"], json!({"en-GB": "one"}));
        assert_eq!(
            out["context"]["contextActivities"]["parent"][0]["definition"]["name"],
            json!({"en-GB": "p"})
        );
        assert_eq!(out["attachments"][0]["display"], json!({"en-GB": "y"}));
        assert_eq!(out["attachments"][0]["description"], json!({"fr": "z"}));
        assert_eq!(out["actor"], s["actor"]);
    }

    #[test]
    fn canonical_falls_back_by_prefix_then_first() {
        let map = json!({"display": {"de": "d", "en-US": "u", "fr": "f"}});
        let pick = |l: &[&str]| {
            let s = json!({"verb": map.clone()});
            canonical(&s, &langs(l))["verb"]["display"].clone()
        };
        assert_eq!(pick(&["en-GB"]), json!({"en-US": "u"}));
        assert_eq!(pick(&["fr-CA"]), json!({"fr": "f"}));
        assert_eq!(pick(&["en"]), json!({"en-US": "u"}));
        assert_eq!(pick(&["it", "fr;q=0.5"]), json!({"fr": "f"}));
        assert_eq!(pick(&["it"]), json!({"de": "d"}));
        assert_eq!(pick(&[]), json!({"de": "d"}));
        assert_eq!(pick(&["*"]), json!({"de": "d"}));
        // `e` is not a prefix of `en-US`: prefixes end at a subtag boundary.
        assert_eq!(pick(&["e"]), json!({"de": "d"}));
    }

    #[test]
    fn accept_language_orders_by_weight() {
        assert_eq!(accept_language("en-GB"), ["en-GB"]);
        assert_eq!(
            accept_language("fr;q=0.5, en-GB, de;q=0.8, it;q=0, es"),
            ["en-GB", "es", "de", "fr"]
        );
        assert_eq!(
            accept_language("da, en-gb;q=0.8, en;q=0.7"),
            ["da", "en-gb", "en"]
        );
        assert!(accept_language("").is_empty());
        assert_eq!(accept_language("*;q=0.1, nl"), ["nl", "*"]);
    }

    #[test]
    fn canonical_in_substatements() {
        let s = json!({"object": {"objectType": "SubStatement",
            "verb": {"id": "http://example.com/v", "display": {"en": "a", "de": "b"}},
            "object": {"id": "http://example.com/a", "definition": {"name": {"en": "n", "de": "m"}}}}});
        let out = canonical(&s, &langs(&["de"]));
        assert_eq!(out["object"]["verb"]["display"], json!({"de": "b"}));
        assert_eq!(
            out["object"]["object"]["definition"]["name"],
            json!({"de": "m"})
        );
    }
}
