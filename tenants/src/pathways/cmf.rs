//! Whether an ordered set of courses makes a microcredential under the Common Microcredential
//! Framework: 100–150 study hours, 4–6 ECTS, every course at EQF 6 or 7, ending in an
//! ID-verified summative assessment. Pure functions, so every rule is tested without a database.

use crate::catalogue::{Assessment, Course};

pub const MIN_STUDY_MINUTES: i64 = 100 * 60;
pub const MAX_STUDY_MINUTES: i64 = 150 * 60;
pub const MIN_ECTS_HALVES: i64 = 4 * 2;
pub const MAX_ECTS_HALVES: i64 = 6 * 2;
pub const EQF_LEVELS: [i32; 2] = [6, 7];

/// The facts of one course that the rules read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CourseFacts {
    pub study_minutes: i32,
    /// ECTS credits times two: halves are exact.
    pub ects_halves: i32,
    pub eqf_level: i32,
    pub assessment: Assessment,
}

impl From<&Course> for CourseFacts {
    fn from(c: &Course) -> Self {
        Self {
            study_minutes: c.study_minutes,
            ects_halves: c.ects_halves,
            eqf_level: c.eqf_level,
            assessment: c.assessment,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub study_minutes: i64,
    pub ects_halves: i64,
    /// Lowest and highest EQF level; `None` for no courses.
    pub eqf_range: Option<(i32, i32)>,
}

pub fn totals(courses: &[CourseFacts]) -> Totals {
    Totals {
        study_minutes: courses.iter().map(|c| i64::from(c.study_minutes)).sum(),
        ects_halves: courses.iter().map(|c| i64::from(c.ects_halves)).sum(),
        eqf_range: courses
            .iter()
            .map(|c| c.eqf_level)
            .min()
            .zip(courses.iter().map(|c| c.eqf_level).max()),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmfRule {
    /// A pathway needs at least one edition.
    Empty,
    StudyHours,
    Ects,
    EqfLevel,
    Assessment,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedRule {
    pub rule: CmfRule,
    /// What the framework asks, for people: "100–150 hours".
    pub expected: String,
    /// What the pathway has: "96.5 hours".
    pub actual: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmfCheck {
    /// Each rule the pathway fails, in the order above; empty for a microcredential.
    pub failed: Vec<FailedRule>,
}

impl CmfCheck {
    pub fn is_microcredential(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Study time in hours as people write it: "120 hours", "96.5 hours", "100 hours 20 minutes".
pub fn format_hours(minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    let unit = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {many}")
        }
    };
    match m {
        0 => unit(h, "hour", "hours"),
        15 => format!("{h}.25 hours"),
        30 => format!("{h}.5 hours"),
        45 => format!("{h}.75 hours"),
        _ => format!(
            "{} {}",
            unit(h, "hour", "hours"),
            unit(m, "minute", "minutes")
        ),
    }
}

/// ECTS credits, exact in halves: "5 ECTS", "4.5 ECTS".
pub fn format_ects(halves: i64) -> String {
    if halves % 2 == 0 {
        format!("{} ECTS", halves / 2)
    } else {
        format!("{}.5 ECTS", halves / 2)
    }
}

fn assessment_words(a: Assessment) -> &'static str {
    match a {
        Assessment::None => "no assessment",
        Assessment::OnlineUnverified => "an online, unverified assessment",
        Assessment::IdVerifiedSummative => "an ID-verified summative assessment",
    }
}

/// Checks the courses of a pathway's editions, in order. An empty pathway fails only `Empty`:
/// the other rules say nothing useful about nothing.
pub fn check(courses: &[CourseFacts]) -> CmfCheck {
    let Some(last) = courses.last() else {
        return CmfCheck {
            failed: vec![FailedRule {
                rule: CmfRule::Empty,
                expected: "at least one edition".into(),
                actual: "no editions".into(),
            }],
        };
    };
    let t = totals(courses);
    let mut failed = Vec::new();
    if !(MIN_STUDY_MINUTES..=MAX_STUDY_MINUTES).contains(&t.study_minutes) {
        failed.push(FailedRule {
            rule: CmfRule::StudyHours,
            expected: format!(
                "{}–{} hours",
                MIN_STUDY_MINUTES / 60,
                MAX_STUDY_MINUTES / 60
            ),
            actual: format_hours(t.study_minutes),
        });
    }
    if !(MIN_ECTS_HALVES..=MAX_ECTS_HALVES).contains(&t.ects_halves) {
        failed.push(FailedRule {
            rule: CmfRule::Ects,
            expected: format!("{}–{} ECTS", MIN_ECTS_HALVES / 2, MAX_ECTS_HALVES / 2),
            actual: format_ects(t.ects_halves),
        });
    }
    let off_level: Vec<String> = courses
        .iter()
        .enumerate()
        .filter(|(_, c)| !EQF_LEVELS.contains(&c.eqf_level))
        .map(|(i, c)| format!("edition {} at EQF {}", i + 1, c.eqf_level))
        .collect();
    if !off_level.is_empty() {
        failed.push(FailedRule {
            rule: CmfRule::EqfLevel,
            expected: format!(
                "every edition at EQF {} or {}",
                EQF_LEVELS[0], EQF_LEVELS[1]
            ),
            actual: off_level.join(", "),
        });
    }
    if last.assessment != Assessment::IdVerifiedSummative {
        failed.push(FailedRule {
            rule: CmfRule::Assessment,
            expected: format!(
                "the last edition ends in {}",
                assessment_words(Assessment::IdVerifiedSummative)
            ),
            actual: format!(
                "the last edition ends in {}",
                assessment_words(last.assessment)
            ),
        });
    }
    CmfCheck { failed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course(hours: f64, ects: f64, eqf: i32, assessment: Assessment) -> CourseFacts {
        CourseFacts {
            study_minutes: (hours * 60.0) as i32,
            ects_halves: (ects * 2.0) as i32,
            eqf_level: eqf,
            assessment,
        }
    }

    fn rules(c: &CmfCheck) -> Vec<CmfRule> {
        c.failed.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_valid_pathway_is_a_microcredential() {
        let p = [
            course(40.0, 1.5, 6, Assessment::None),
            course(40.0, 1.5, 7, Assessment::OnlineUnverified),
            course(40.0, 2.0, 6, Assessment::IdVerifiedSummative),
        ];
        let c = check(&p);
        assert!(c.is_microcredential(), "{c:?}");
        let t = totals(&p);
        assert_eq!(
            (t.study_minutes, t.ects_halves, t.eqf_range),
            (7200, 10, Some((6, 7)))
        );
    }

    #[test]
    fn the_bounds_are_inclusive() {
        let low = [course(100.0, 4.0, 6, Assessment::IdVerifiedSummative)];
        let high = [course(150.0, 6.0, 7, Assessment::IdVerifiedSummative)];
        assert!(check(&low).is_microcredential());
        assert!(check(&high).is_microcredential());
        let under = [CourseFacts {
            study_minutes: 100 * 60 - 1,
            ects_halves: 7,
            eqf_level: 6,
            assessment: Assessment::IdVerifiedSummative,
        }];
        assert_eq!(
            rules(&check(&under)),
            vec![CmfRule::StudyHours, CmfRule::Ects]
        );
        let over = [course(150.5, 6.5, 6, Assessment::IdVerifiedSummative)];
        assert_eq!(
            rules(&check(&over)),
            vec![CmfRule::StudyHours, CmfRule::Ects]
        );
    }

    #[test]
    fn every_failed_rule_says_expected_and_actual() {
        let p = [
            course(50.0, 1.0, 5, Assessment::IdVerifiedSummative),
            course(46.5, 1.5, 6, Assessment::None),
            course(0.5, 0.5, 8, Assessment::OnlineUnverified),
        ];
        let c = check(&p);
        assert!(!c.is_microcredential());
        assert_eq!(
            c.failed,
            vec![
                FailedRule {
                    rule: CmfRule::StudyHours,
                    expected: "100–150 hours".into(),
                    actual: "97 hours".into(),
                },
                FailedRule {
                    rule: CmfRule::Ects,
                    expected: "4–6 ECTS".into(),
                    actual: "3 ECTS".into(),
                },
                FailedRule {
                    rule: CmfRule::EqfLevel,
                    expected: "every edition at EQF 6 or 7".into(),
                    actual: "edition 1 at EQF 5, edition 3 at EQF 8".into(),
                },
                FailedRule {
                    rule: CmfRule::Assessment,
                    expected: "the last edition ends in an ID-verified summative assessment".into(),
                    actual: "the last edition ends in an online, unverified assessment".into(),
                },
            ]
        );
        // Only the last edition's assessment counts.
        let p = [
            course(60.0, 2.0, 6, Assessment::IdVerifiedSummative),
            course(60.0, 2.0, 6, Assessment::None),
        ];
        assert_eq!(rules(&check(&p)), vec![CmfRule::Assessment]);
    }

    #[test]
    fn an_empty_pathway_fails_only_empty() {
        let c = check(&[]);
        assert_eq!(rules(&c), vec![CmfRule::Empty]);
        assert_eq!(totals(&[]).eqf_range, None);
    }

    #[test]
    fn hours_and_credits_read_as_people_write_them() {
        assert_eq!(format_hours(5790), "96.5 hours");
        assert_eq!(format_hours(7200), "120 hours");
        assert_eq!(format_hours(60), "1 hour");
        assert_eq!(format_hours(6015), "100.25 hours");
        assert_eq!(format_hours(6020), "100 hours 20 minutes");
        assert_eq!(format_hours(61), "1 hour 1 minute");
        assert_eq!(format_ects(10), "5 ECTS");
        assert_eq!(format_ects(9), "4.5 ECTS");
        assert_eq!(format_ects(1), "0.5 ECTS");
    }
}
