//! The views as a declared interface: one table says, for each view, its grain, the date column
//! a rule's effective dates apply to, the input tables it is built from, and whether its rows
//! are keyed by enrolment (their claims are found from `class_id` and `person_id`). The runner,
//! the rule checker, `subsidy-audit rules views` and docs/rules.md read this table; the columns
//! and their types are the built view's own ([`crate::view_schemas`]).

use subsidy_model::contract::Table;

/// One view's declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewDecl {
    /// the name rule files use (`view = "claim"`)
    pub name: &'static str,
    /// what one row is
    pub grain: &'static str,
    /// the column a rule's `effective_from` / `effective_until` are compared with (none: the
    /// rule applies to every row)
    pub date_column: Option<&'static str>,
    /// the input tables it is built from
    pub tables: &'static [Table],
    /// rows per sign-in or per day: a finding's claims are resolved from (class_id, person_id)
    pub keyed_by_enrolment: bool,
    /// one line on what it holds
    pub doc: &'static str,
}

use Table::*;

/// Every view, in the order they are listed.
pub const VIEWS: &[ViewDecl] = &[
    ViewDecl {
        name: "claim",
        grain: "claim",
        date_column: Some("claimed_on"),
        tables: &[
            Claims,
            Persons,
            Institutions,
            Classes,
            Sessions,
            Enrollments,
            Attendance,
            Evaluations,
            Occupations,
            PersonStatus,
            SubsidyStandards,
        ],
        keyed_by_enrolment: false,
        doc: "the claim with its person, class, institution, occupation version, evaluation, the verified 学时 of its enrolment, the person's statuses and the entitlement (clause 17)",
    },
    ViewDecl {
        name: "person",
        grain: "person",
        date_column: None,
        tables: &[Persons],
        keyed_by_enrolment: false,
        doc: "the person with the checks of the resident ID (GB 11643)",
    },
    ViewDecl {
        name: "institution",
        grain: "institution",
        date_column: None,
        tables: &[Institutions],
        keyed_by_enrolment: false,
        doc: "the institution with the checks of the credit code (GB 32100)",
    },
    ViewDecl {
        name: "class",
        grain: "class",
        date_column: Some("start_date"),
        tables: &[Classes, Institutions, Enrollments, Attendance, Claims],
        keyed_by_enrolment: false,
        doc: "the class with its institution, its busiest sign-in day and its paid claims",
    },
    ViewDecl {
        name: "evaluation",
        grain: "candidate in a sitting",
        date_column: Some("starts_at"),
        tables: &[Evaluations, Claims],
        keyed_by_enrolment: false,
        doc: "the evaluation row with its sitting's panel size and the candidate's paid claims",
    },
    ViewDecl {
        name: "presence",
        grain: "trainee, class and day",
        date_column: Some("day"),
        tables: &[Attendance, Sessions, Enrollments, Classes],
        keyed_by_enrolment: true,
        doc: "first sign-in, last sign-out and the credited presence envelope of trainees enrolled in two or more classes",
    },
    ViewDecl {
        name: "teaching",
        grain: "session",
        date_column: Some("starts_at"),
        tables: &[Sessions, Classes, Claims],
        keyed_by_enrolment: false,
        doc: "the timetabled session with its class's venue, teacher and institution",
    },
    ViewDecl {
        name: "signin",
        grain: "sign-in event",
        date_column: Some("ts"),
        tables: &[Attendance, Classes],
        keyed_by_enrolment: true,
        doc: "sign-ins (direction in) on devices that signed in two or more trainees",
    },
    ViewDecl {
        name: "enterprise_funds",
        grain: "enterprise and year",
        date_column: None,
        tables: &[EnterpriseFunds],
        keyed_by_enrolment: false,
        doc: "an enterprise's training funds for a year and its frontline share",
    },
];

/// The declaration of the view named `name`.
pub fn view(name: &str) -> Option<&'static ViewDecl> {
    VIEWS.iter().find(|v| v.name == name)
}

/// The view names, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    VIEWS.iter().map(|v| v.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_date_columns_exist_in_the_built_views() {
        let mut seen = std::collections::BTreeSet::new();
        assert!(VIEWS.iter().all(|v| seen.insert(v.name)));
        let empty = Table::ALL
            .into_iter()
            .map(|t| (t, subsidy_ingest::empty_table(t.spec())))
            .collect();
        let schemas =
            crate::view_schemas(&empty, &crate::views::ViewSettings::default()).expect("schemas");
        // every declared view is built, and nothing else
        assert_eq!(schemas.keys().map(String::as_str).collect::<Vec<_>>(), {
            let mut n: Vec<&str> = names().collect();
            n.sort_unstable();
            n
        });
        for v in VIEWS {
            let cols = &schemas[v.name];
            if let Some(d) = v.date_column {
                assert!(cols.contains_key(d), "{}: no date column {d}", v.name);
            }
            if v.keyed_by_enrolment {
                assert!(
                    cols.contains_key("class_id") && cols.contains_key("person_id"),
                    "{}: keyed by enrolment without class_id and person_id",
                    v.name
                );
            }
        }
    }
}
