//! Agents and groups, and the inverse functional identifier (IFI) that names one: exactly one of
//! `mbox`, `mbox_sha1sum`, `openid`, `account`. [`Ifi::key`] is the one string form the LRS
//! indexes and compares, for statements, documents and `/agents` alike.

use serde_json::{Map, Value, json};

use crate::values::{iri, kind, object, only, string};
use crate::{Invalid, Result, join};

const AGENT_KEYS: &[&str] = &[
    "objectType",
    "name",
    "mbox",
    "mbox_sha1sum",
    "openid",
    "account",
];
const GROUP_KEYS: &[&str] = &[
    "objectType",
    "name",
    "mbox",
    "mbox_sha1sum",
    "openid",
    "account",
    "member",
];

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ifi {
    /// `mailto:` and an address, as sent.
    Mbox(String),
    /// 40 hex digits, lower-cased.
    MboxSha1(String),
    OpenId(String),
    Account {
        home_page: String,
        name: String,
    },
}

impl Ifi {
    /// The canonical string: `mbox:mailto:…`, `mbox_sha1sum:…`, `openid:…`, or `account:` and
    /// the JSON array `[homePage, name]` (JSON, so no separator can be forged inside a name).
    pub fn key(&self) -> String {
        match self {
            Ifi::Mbox(m) => format!("mbox:{m}"),
            Ifi::MboxSha1(h) => format!("mbox_sha1sum:{h}"),
            Ifi::OpenId(o) => format!("openid:{o}"),
            Ifi::Account { home_page, name } => {
                format!("account:{}", json!([home_page, name]))
            }
        }
    }

    /// The property and value as xAPI writes them.
    pub fn property(&self) -> (&'static str, Value) {
        match self {
            Ifi::Mbox(m) => ("mbox", json!(m)),
            Ifi::MboxSha1(h) => ("mbox_sha1sum", json!(h)),
            Ifi::OpenId(o) => ("openid", json!(o)),
            Ifi::Account { home_page, name } => {
                ("account", json!({"homePage": home_page, "name": name}))
            }
        }
    }
}

/// An Agent or a Group as a statement or a request names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub group: bool,
    pub name: Option<String>,
    /// `None` only for an anonymous group.
    pub ifi: Option<Ifi>,
    /// A group's members (agents), as listed.
    pub members: Vec<Actor>,
}

impl Actor {
    /// This actor's IFI and its members': what an `agent` filter may match.
    pub fn keys(&self) -> Vec<String> {
        self.ifi
            .iter()
            .map(Ifi::key)
            .chain(
                self.members
                    .iter()
                    .filter_map(|m| m.ifi.as_ref().map(Ifi::key)),
            )
            .collect()
    }
}

/// Where an actor stands, which decides whether `objectType` may be left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Actor, authority, instructor, team, a request's `agent`: absent means Agent.
    Actor,
    /// A statement's object: `objectType` must say Agent or Group.
    Object,
}

/// Checks an Agent or Group: allowed members only, `name` a string, exactly one IFI (an
/// anonymous group has none and lists its members, each an agent with exactly one).
pub fn actor(v: &Value, path: &str, place: Place) -> Result<Actor> {
    let map = object(v, path)?;
    let group = match map.get("objectType") {
        None if place == Place::Actor => false,
        None => {
            return Err(Invalid::new(
                join(path, "objectType"),
                "is required for an Agent or Group used as an object",
            ));
        }
        Some(t) => match string(t, &join(path, "objectType"))? {
            "Agent" => false,
            "Group" => true,
            other => {
                return Err(Invalid::new(
                    join(path, "objectType"),
                    format!("must be \"Agent\" or \"Group\", not {other:?}"),
                ));
            }
        },
    };
    only(map, path, if group { GROUP_KEYS } else { AGENT_KEYS })?;
    let name = match map.get("name") {
        Some(n) => Some(string(n, &join(path, "name"))?.to_owned()),
        None => None,
    };
    let ifi = ifi(map, path)?;
    let mut members = Vec::new();
    if group {
        match map.get("member") {
            Some(Value::Array(list)) => {
                for (i, m) in list.iter().enumerate() {
                    let p = format!("{}[{i}]", join(path, "member"));
                    let a = actor(m, &p, Place::Actor)?;
                    if a.group {
                        return Err(Invalid::new(p, "a group's member must be an Agent"));
                    }
                    members.push(a);
                }
            }
            Some(other) => {
                return Err(Invalid::new(
                    join(path, "member"),
                    format!("must be an array of agents, not {}", kind(other)),
                ));
            }
            None => {}
        }
        if ifi.is_none() && members.is_empty() {
            return Err(Invalid::new(
                join(path, "member"),
                "an anonymous group (one with no mbox, mbox_sha1sum, openid or account) must list its members",
            ));
        }
    } else if ifi.is_none() {
        return Err(Invalid::new(
            path,
            "an agent needs exactly one of mbox, mbox_sha1sum, openid, account",
        ));
    }
    Ok(Actor {
        group,
        name,
        ifi,
        members,
    })
}

/// The one IFI of an agent or group, `None` when it has none; two or more are refused.
fn ifi(map: &Map<String, Value>, path: &str) -> Result<Option<Ifi>> {
    let present: Vec<&str> = ["mbox", "mbox_sha1sum", "openid", "account"]
        .into_iter()
        .filter(|k| map.contains_key(*k))
        .collect();
    if present.len() > 1 {
        return Err(Invalid::new(
            path,
            format!(
                "has {}: an agent or group is identified by exactly one",
                present.join(" and ")
            ),
        ));
    }
    let Some(&which) = present.first() else {
        return Ok(None);
    };
    let p = join(path, which);
    let v = &map[which];
    Ok(Some(match which {
        "mbox" => {
            let s = string(v, &p)?;
            let address = s
                .strip_prefix("mailto:")
                .ok_or_else(|| Invalid::new(&p, "must be mailto: followed by an email address"))?;
            if !email_address::EmailAddress::is_valid(address) {
                return Err(Invalid::new(
                    &p,
                    format!("{address:?} is not an email address"),
                ));
            }
            Ifi::Mbox(s.to_owned())
        }
        "mbox_sha1sum" => {
            let s = string(v, &p)?;
            if s.len() != 40 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Invalid::new(
                    &p,
                    "must be the SHA-1 of a mailto IRI, 40 hex digits",
                ));
            }
            Ifi::MboxSha1(s.to_ascii_lowercase())
        }
        "openid" => Ifi::OpenId(iri(v, &p)?.to_owned()),
        _ => {
            let account = object(v, &p)?;
            only(account, &p, &["homePage", "name"])?;
            let home = account
                .get("homePage")
                .ok_or_else(|| Invalid::new(join(&p, "homePage"), "is required"))?;
            let name = account
                .get("name")
                .ok_or_else(|| Invalid::new(join(&p, "name"), "is required"))?;
            Ifi::Account {
                home_page: iri(home, &join(&p, "homePage"))?.to_owned(),
                name: string(name, &join(&p, "name"))?.to_owned(),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<Actor> {
        actor(&v, "actor", Place::Actor)
    }

    #[test]
    fn agents() {
        let a = check(json!({"mbox": "mailto:lea@example.com", "name": "Léa"})).unwrap();
        assert_eq!(a.keys(), ["mbox:mailto:lea@example.com"]);
        let a = check(json!({"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": "42"}})).unwrap();
        assert_eq!(a.keys(), [r#"account:["https://lms.example","42"]"#]);
        let a = check(json!({"mbox_sha1sum": "CD6A9B5C4BB0F7A6B4A1C3D2E1F0A9B8C7D6E5F4"})).unwrap();
        assert_eq!(
            a.keys(),
            ["mbox_sha1sum:cd6a9b5c4bb0f7a6b4a1c3d2e1f0a9b8c7d6e5f4"]
        );
    }

    #[test]
    fn refusals_name_the_property() {
        let cases = [
            (json!({}), "actor"),
            (
                json!({"mbox": "mailto:a@b.c", "openid": "http://o.example"}),
                "actor",
            ),
            (json!({"mbox": "mailto:should.fail.com"}), "actor.mbox"),
            (json!({"mbox": "http://should.fail.com"}), "actor.mbox"),
            (json!({"openid": "ab=c://should.fail.com"}), "actor.openid"),
            (
                json!({"account": {"homePage": "x", "name": "n"}}),
                "actor.account.homePage",
            ),
            (
                json!({"account": {"homePage": "http://x.example"}}),
                "actor.account.name",
            ),
            (json!({"mbox": "mailto:a@b.c", "name": null}), "actor.name"),
            (json!({"mbox": "mailto:a@b.c", "Name": "x"}), "actor.Name"),
            (
                json!({"objectType": "agent", "mbox": "mailto:a@b.c"}),
                "actor.objectType",
            ),
            (json!({"objectType": "Group"}), "actor.member"),
            (
                json!({"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:a@b.c"}]}),
                "actor.member[0]",
            ),
        ];
        for (v, path) in cases {
            let e = check(v.clone()).expect_err(&v.to_string());
            assert_eq!(e.path, path, "{v}: {e}");
        }
    }

    #[test]
    fn groups() {
        let g = check(json!({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}, {"openid": "http://o.example/x"}]})).unwrap();
        assert!(g.group && g.ifi.is_none());
        assert_eq!(g.keys(), ["mbox:mailto:a@b.c", "openid:http://o.example/x"]);
        let e = actor(&json!({"mbox": "mailto:a@b.c"}), "object", Place::Object).unwrap_err();
        assert_eq!(e.path, "object.objectType");
    }
}
