//! An edition's modules as typed, and what replacing them does to enrolled learners.

use std::collections::{HashMap, HashSet};

use crate::values::name;
use crate::{Error, Result};

/// At most this many modules in one edition.
pub const MAX_MODULES: usize = 200;
/// A module's estimated effort is at most this many minutes (a thousand hours).
pub const MAX_MODULE_MINUTES: i32 = 60_000;

/// What a learner must do for a module to count as done: cmi5's `moveOn`. The default is
/// `Completed`, not cmi5's own `NotApplicable`, which would count every module of every
/// existing enrolment as done at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MoveOn {
    #[default]
    Completed,
    Passed,
    CompletedAndPassed,
    CompletedOrPassed,
    NotApplicable,
}

impl MoveOn {
    pub fn as_str(self) -> &'static str {
        match self {
            MoveOn::Completed => "completed",
            MoveOn::Passed => "passed",
            MoveOn::CompletedAndPassed => "completed_and_passed",
            MoveOn::CompletedOrPassed => "completed_or_passed",
            MoveOn::NotApplicable => "not_applicable",
        }
    }

    pub fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "completed" => MoveOn::Completed,
            "passed" => MoveOn::Passed,
            "completed_and_passed" => MoveOn::CompletedAndPassed,
            "completed_or_passed" => MoveOn::CompletedOrPassed,
            "not_applicable" => MoveOn::NotApplicable,
            other => {
                return Err(Error::Internal(format!(
                    "a module has the unknown moveOn rule {other:?}"
                )));
            }
        })
    }

    /// Whether a learner who completed (or not) and passed (or not) meets the rule.
    pub fn met(self, completed: bool, passed: bool) -> bool {
        match self {
            MoveOn::Completed => completed,
            MoveOn::Passed => passed,
            MoveOn::CompletedAndPassed => completed && passed,
            MoveOn::CompletedOrPassed => completed || passed,
            MoveOn::NotApplicable => true,
        }
    }
}

/// A module as an admin types it. Modules are matched across edits by `activity_iri`.
#[derive(Clone, Debug)]
pub struct ModuleInput {
    pub title: String,
    pub required: bool,
    pub estimated_minutes: i32,
    pub activity_iri: String,
    pub move_on: MoveOn,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParsedModule {
    pub title: String,
    pub required: bool,
    pub estimated_minutes: i32,
    pub activity_iri: String,
    pub move_on: MoveOn,
}

/// An absolute IRI (RFC 3987: a scheme, a colon, something after it), the id an LMS reports
/// xAPI statements against. Kept exactly as typed but trimmed: xAPI compares IRIs as strings.
pub fn parse_activity_iri(field: impl Into<String>, raw: &str) -> Result<String> {
    let s = raw.trim();
    let field = field.into();
    let bad = || {
        Error::invalid(
            field.clone(),
            "must be an absolute IRI such as https://lms.example.org/xapi/activities/m1",
        )
    };
    if s.is_empty() || s.len() > 2048 {
        return Err(bad());
    }
    let (scheme, rest) = s.split_once(':').ok_or_else(bad)?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let rest_ok = !rest.is_empty()
        && !rest.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
        });
    if !scheme_ok || !rest_ok {
        return Err(bad());
    }
    if matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        let host = rest
            .strip_prefix("//")
            .and_then(|r| r.split(['/', '?', '#']).next())
            .unwrap_or("");
        if host.is_empty() {
            return Err(bad());
        }
    }
    Ok(s.to_owned())
}

/// Checks a whole list; each error names the module by its index.
pub(crate) fn parse_modules(inputs: &[ModuleInput]) -> Result<Vec<ParsedModule>> {
    if inputs.len() > MAX_MODULES {
        return Err(Error::invalid(
            "modules",
            format!("at most {MAX_MODULES} modules"),
        ));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, m) in inputs.iter().enumerate() {
        let title = name("title", &m.title, 300).map_err(|e| match e {
            Error::Invalid { reason, .. } => Error::invalid(format!("modules[{i}].title"), reason),
            e => e,
        })?;
        if !(0..=MAX_MODULE_MINUTES).contains(&m.estimated_minutes) {
            return Err(Error::invalid(
                format!("modules[{i}].estimatedMinutes"),
                format!("must be between 0 and {MAX_MODULE_MINUTES}"),
            ));
        }
        let iri = parse_activity_iri(format!("modules[{i}].activityIri"), &m.activity_iri)?;
        if let Some(j) = seen.insert(iri.clone(), i) {
            return Err(Error::invalid(
                format!("modules[{i}].activityIri"),
                format!("is already the activity of modules[{j}]; each module needs its own"),
            ));
        }
        out.push(ParsedModule {
            title,
            required: m.required,
            estimated_minutes: m.estimated_minutes,
            activity_iri: iri,
            move_on: m.move_on,
        });
    }
    Ok(out)
}

/// How a new module list changes the completion rule ("every required module completed").
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ProgressImpact {
    /// Activity IRIs that were required and no longer are (removed, or made optional).
    pub lost_required: Vec<String>,
    /// Activity IRIs that are required now and were not (added, restored, or made required).
    pub new_required: Vec<String>,
}

impl ProgressImpact {
    pub fn is_empty(&self) -> bool {
        self.lost_required.is_empty() && self.new_required.is_empty()
    }
}

/// Compares the current modules with the new list, as `(activity IRI, required)` pairs.
pub fn progress_impact(before: &[(&str, bool)], after: &[(&str, bool)]) -> ProgressImpact {
    let req = |l: &[(&str, bool)]| -> HashSet<String> {
        l.iter().filter(|m| m.1).map(|m| m.0.to_owned()).collect()
    };
    let (was, now) = (req(before), req(after));
    // Keep the order the admin sees: the old list for what is lost, the new one for what is added.
    let lost_required = before
        .iter()
        .filter(|m| m.1 && !now.contains(m.0))
        .map(|m| m.0.to_owned())
        .collect();
    let new_required = after
        .iter()
        .filter(|m| m.1 && !was.contains(m.0))
        .map(|m| m.0.to_owned())
        .collect();
    ProgressImpact {
        lost_required,
        new_required,
    }
}

/// How an edition with enrolments may change its modules.
///
/// The completion rule is "every required module completed", so changing which modules are
/// required changes what enrolled learners must do: losing a required module could complete
/// them silently, a new one could put a finished learner back to work. Spaces therefore refuses
/// such a change with `CONFLICT` on `modules` (naming the modules concerned) while the edition has
/// any enrolment, whatever its status, unless the admin acknowledges it
/// (`acknowledgeProgressImpact: true`). Acknowledged or not, a module whose activity IRI leaves
/// the list is retired, never deleted, so the progress learners made on it stays on record, and
/// listing its IRI again restores it with that progress. Changes that keep the set of required
/// modules (titles, order, estimates, optional modules) always apply.
pub fn check_module_change(
    enrolments: u64,
    impact: &ProgressImpact,
    acknowledged: bool,
) -> Result<()> {
    if enrolments == 0 || impact.is_empty() || acknowledged {
        return Ok(());
    }
    let mut parts = Vec::new();
    if !impact.lost_required.is_empty() {
        parts.push(format!(
            "removes required module(s) {}",
            impact.lost_required.join(", ")
        ));
    }
    if !impact.new_required.is_empty() {
        parts.push(format!(
            "adds required module(s) {}",
            impact.new_required.join(", ")
        ));
    }
    Err(Error::conflict(
        "modules",
        format!(
            "this edition has {enrolments} enrolment(s) and the change {}, which changes what \
             enrolled learners must complete; set acknowledgeProgressImpact to apply it",
            parts.join(" and ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(iri: &str, required: bool) -> ModuleInput {
        ModuleInput {
            move_on: MoveOn::default(),
            title: format!("Module {iri}"),
            required,
            estimated_minutes: 30,
            activity_iri: iri.to_owned(),
        }
    }

    fn field(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } | Error::Conflict { field, .. } => field.into_owned(),
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn activity_iris_must_be_absolute() {
        for ok in [
            "https://lms.example.org/xapi/activities/m1",
            "http://example.org/a?b=c#d",
            "urn:uuid:6f1c7f3e-1b0a-4a8e-9a1e-2b1f6f0c3d4e",
            "tag:example.org,2026:module-1",
            "https://lms.example.org/activités/é",
        ] {
            assert!(parse_activity_iri("iri", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "m1",
            "/xapi/activities/m1",
            "https://",
            "https:///path",
            "1http://example.org",
            "https://example.org/a b",
            "https://example.org/<x>",
            ":nothing",
            "mailto:",
        ] {
            assert_eq!(field(parse_activity_iri("iri", bad).unwrap_err()), "iri");
        }
        assert_eq!(
            parse_activity_iri("iri", "  https://x.org/m1 ").unwrap(),
            "https://x.org/m1"
        );
    }

    #[test]
    fn module_lists_name_the_bad_index() {
        let mut list = vec![
            input("https://x.org/a", true),
            input("https://x.org/b", false),
        ];
        assert_eq!(parse_modules(&list).unwrap().len(), 2);
        list.push(input("https://x.org/a", false));
        assert_eq!(
            field(parse_modules(&list).unwrap_err()),
            "modules[2].activityIri"
        );
        list.pop();
        list[1].estimated_minutes = -1;
        assert_eq!(
            field(parse_modules(&list).unwrap_err()),
            "modules[1].estimatedMinutes"
        );
        list[1].estimated_minutes = 0;
        list[0].title = "  ".into();
        assert_eq!(field(parse_modules(&list).unwrap_err()), "modules[0].title");
        let many: Vec<_> = (0..=MAX_MODULES)
            .map(|i| input(&format!("https://x.org/{i}"), false))
            .collect();
        assert_eq!(field(parse_modules(&many).unwrap_err()), "modules");
    }

    #[test]
    fn impact_sees_required_modules_lost_and_added() {
        let before = [("a", true), ("b", true), ("c", false)];
        // Reordering, retitling and optional modules change nothing of the rule.
        assert!(progress_impact(&before, &[("b", true), ("a", true), ("d", false)]).is_empty());
        let i = progress_impact(&before, &[("a", true), ("c", true)]);
        assert_eq!(i.lost_required, vec!["b"]);
        assert_eq!(i.new_required, vec!["c"]);
        let i = progress_impact(&before, &[("a", false), ("b", true), ("e", true)]);
        assert_eq!(i.lost_required, vec!["a"]);
        assert_eq!(i.new_required, vec!["e"]);
    }

    #[test]
    fn enrolments_make_a_rule_change_need_acknowledgement() {
        let before = [("a", true), ("b", false)];
        let removing = progress_impact(&before, &[("b", false)]);
        let adding = progress_impact(&before, &[("a", true), ("b", false), ("c", true)]);
        let harmless = progress_impact(&before, &[("a", true), ("c", false)]);
        // No enrolments: anything goes.
        assert!(check_module_change(0, &removing, false).is_ok());
        assert!(check_module_change(0, &adding, false).is_ok());
        // Enrolments: a change to the required set is refused unless acknowledged.
        let e = check_module_change(3, &removing, false).unwrap_err();
        match &e {
            Error::Conflict { field, reason } => {
                assert_eq!(field, "modules");
                assert!(reason.contains("removes required module(s) a"), "{reason}");
                assert!(reason.contains("acknowledgeProgressImpact"), "{reason}");
            }
            e => panic!("unexpected {e}"),
        }
        let e = check_module_change(1, &adding, false).unwrap_err();
        assert!(e.to_string().contains("adds required module(s) c"), "{e}");
        assert!(check_module_change(3, &removing, true).is_ok());
        assert!(check_module_change(3, &adding, true).is_ok());
        // Optional modules come and go freely.
        assert!(check_module_change(3, &harmless, false).is_ok());
    }
}
