//! The `evaluation` view: one row per candidate in a sitting, with the panel (its distinct
//! examiners, and a teacher of the candidate sitting on it) and the candidate's paid claims.

use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;

use super::*;

/// Per evaluation: the distinct examiners (ids trimmed, empty items and repeats dropped) and the
/// first of them who teaches one of the candidate's classes (the class's teacher, or a session's
/// teacher). The candidate's classes are the evaluation's own `class_id`, else the classes the
/// person is enrolled in for the evaluation's occupation. Staff ids are compared as persons: an id
/// with a `staff` row stands for its `person_id`, so a teacher filed under one staff id and
/// examining under another is still found. Rows are independent, and are judged in parallel.
fn panels(inp: &Inputs<'_>) -> PolarsResult<DataFrame> {
    let staff = &inp.frames[&Table::Staff];
    let person_of: HashMap<&str, &str> = staff
        .column("staff_id")?
        .str()?
        .iter()
        .zip(staff.column("person_id")?.str()?.iter())
        .filter_map(|(s, p)| Some((s?.trim(), p?.trim())))
        .collect();
    fn person<'a>(person_of: &HashMap<&'a str, &'a str>, id: &'a str) -> &'a str {
        person_of.get(id).copied().unwrap_or(id)
    }
    let who = |id| person(&person_of, id);
    let mut teachers: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (t, key) in [
        (Table::Classes, "teacher_id"),
        (Table::Sessions, "teacher_id"),
    ] {
        let df = &inp.frames[&t];
        for (c, x) in df
            .column("class_id")?
            .str()?
            .iter()
            .zip(df.column(key)?.str()?.iter())
        {
            if let (Some(c), Some(x)) = (c, x) {
                teachers.entry(c).or_default().insert(who(x.trim()));
            }
        }
    }
    let cls = &inp.frames[&Table::Classes];
    let occ_of: HashMap<&str, &str> = cls
        .column("class_id")?
        .str()?
        .iter()
        .zip(cls.column("occupation_code")?.str()?.iter())
        .filter_map(|(c, o)| Some((c?, o?)))
        .collect();
    let en = &inp.frames[&Table::Enrollments];
    let mut enrolled: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, c) in en
        .column("person_id")?
        .str()?
        .iter()
        .zip(en.column("class_id")?.str()?.iter())
    {
        if let (Some(p), Some(c)) = (p, c) {
            enrolled.entry(p).or_default().push(c);
        }
    }
    let ev = &inp.frames[&Table::Evaluations];
    let column =
        |c: &str| -> PolarsResult<Vec<Option<&str>>> { Ok(ev.column(c)?.str()?.iter().collect()) };
    let (lists, persons, own, occs) = (
        column("evaluator_ids")?,
        column("person_id")?,
        column("class_id")?,
        column("occupation_code")?,
    );
    let judged: Vec<(i64, Option<&str>)> = (0..ev.height())
        .into_par_iter()
        .map(|i| {
            let mut panel: Vec<&str> = Vec::new();
            for x in lists[i].unwrap_or("").split(';').map(str::trim) {
                if !x.is_empty() && !panel.contains(&x) {
                    panel.push(x);
                }
            }
            let distinct: HashSet<&str> = panel.iter().map(|x| who(x)).collect();
            let classes: Vec<&str> = match own[i] {
                Some(c) => vec![c],
                None => persons[i]
                    .and_then(|p| enrolled.get(p))
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|c| occ_of.get(c).copied() == occs[i])
                    .collect(),
            };
            let first = panel.iter().copied().find(|x| {
                classes
                    .iter()
                    .any(|c| teachers.get(c).is_some_and(|t| t.contains(who(x))))
            });
            (distinct.len() as i64, first)
        })
        .collect();
    let (count, teacher): (Vec<i64>, Vec<Option<&str>>) = judged.into_iter().unzip();
    DataFrame::new_infer_height(vec![
        ev.column("evaluation_id")?.clone(),
        Column::new("evaluator_count".into(), count),
        Column::new("panel_teacher".into(), teacher),
    ])
}

pub(super) fn evaluation_view(inp: &Inputs<'_>, paid: &DataFrame) -> PolarsResult<DataFrame> {
    let panel = panels(inp)?;
    lf(inp, Table::Evaluations)
        .left_on(panel.lazy(), &["evaluation_id"])
        .left_on(ids_by(paid, &["evaluation_id"]), &["evaluation_id"])
        .with_columns([
            col("evaluation_org_id").alias("institution_id"),
            col("evaluation_org_id").alias("party_evaluation_organisation"),
            col("person_id").alias("party_trainee"),
            col("evaluation_id").alias("entity"),
            col("claim_ids").fill_null(lit("")),
        ])
        .sort(["evaluation_id"], SortMultipleOptions::default())
        .collect()
}
