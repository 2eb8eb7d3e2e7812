//! Activities (2.4.4.1) and their definitions, interaction activities included.

use serde_json::{Map, Value};

use crate::values::{array, extensions, index, iri, language_map, object, only, required, string};
use crate::{Invalid, Result, join};

const ACTIVITY_KEYS: &[&str] = &["objectType", "id", "definition"];
const DEFINITION_KEYS: &[&str] = &[
    "name",
    "description",
    "type",
    "moreInfo",
    "interactionType",
    "correctResponsesPattern",
    "choices",
    "scale",
    "source",
    "target",
    "steps",
    "extensions",
];
const INTERACTION_TYPES: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];
/// The interaction component lists (2.4.4.1.s15).
pub const COMPONENT_LISTS: &[&str] = &["choices", "scale", "source", "target", "steps"];

/// Checks an Activity and answers its id.
pub fn activity(v: &Value, path: &str) -> Result<String> {
    let map = object(v, path)?;
    only(map, path, ACTIVITY_KEYS)?;
    if let Some(t) = map.get("objectType") {
        let p = join(path, "objectType");
        if string(t, &p)? != "Activity" {
            return Err(Invalid::new(p, "must be \"Activity\" when present"));
        }
    }
    let id = iri(required(map, path, "id")?, &join(path, "id"))?.to_owned();
    if let Some(d) = map.get("definition") {
        definition(d, &join(path, "definition"))?;
    }
    Ok(id)
}

fn definition(v: &Value, path: &str) -> Result<()> {
    let map = object(v, path)?;
    only(map, path, DEFINITION_KEYS)?;
    for key in ["name", "description"] {
        if let Some(m) = map.get(key) {
            language_map(m, &join(path, key))?;
        }
    }
    for key in ["type", "moreInfo"] {
        if let Some(i) = map.get(key) {
            iri(i, &join(path, key))?;
        }
    }
    if let Some(e) = map.get("extensions") {
        extensions(e, &join(path, "extensions"))?;
    }
    interaction(map, path)
}

/// `interactionType` is one of the ten, case-exact; the response pattern and the component
/// lists only mean something for an interaction, so without one they are refused.
fn interaction(map: &Map<String, Value>, path: &str) -> Result<()> {
    let typed = match map.get("interactionType") {
        Some(t) => {
            let p = join(path, "interactionType");
            let t = string(t, &p)?;
            if !INTERACTION_TYPES.contains(&t) {
                return Err(Invalid::new(
                    p,
                    format!(
                        "{t:?} is not an interaction type (one of {}, case-exact)",
                        INTERACTION_TYPES.join(", ")
                    ),
                ));
            }
            true
        }
        None => false,
    };
    if let Some(c) = map.get("correctResponsesPattern") {
        let p = join(path, "correctResponsesPattern");
        if !typed {
            return Err(Invalid::new(p, "is only allowed with an interactionType"));
        }
        for (i, r) in array(c, &p)?.iter().enumerate() {
            string(r, &index(&p, i))?;
        }
    }
    for key in COMPONENT_LISTS {
        if let Some(list) = map.get(*key) {
            let p = join(path, key);
            if !typed {
                return Err(Invalid::new(p, "is only allowed with an interactionType"));
            }
            components(list, &p)?;
        }
    }
    Ok(())
}

/// An interaction component list: `{id, description}` objects whose ids are distinct.
fn components(v: &Value, path: &str) -> Result<()> {
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in array(v, path)?.iter().enumerate() {
        let p = index(path, i);
        let map = object(c, &p)?;
        only(map, &p, &["id", "description"])?;
        let id_path = join(&p, "id");
        let id = string(required(map, &p, "id")?, &id_path)?;
        if seen.contains(&id) {
            return Err(Invalid::new(
                id_path,
                format!("{id:?} is repeated: component ids must be distinct within a list"),
            ));
        }
        seen.push(id);
        if let Some(d) = map.get("description") {
            language_map(d, &join(&p, "description"))?;
        }
    }
    Ok(())
}
