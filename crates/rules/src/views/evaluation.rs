//! The `evaluation` view: one row per candidate in a sitting, with the panel (its distinct
//! examiners, and a teacher of the candidate sitting on it) and the candidate's paid claims.

use foldhash::{HashMap, HashMapExt, HashSet};

use super::*;

/// The candidate's classes: the evaluation's own `class_id`, else the classes the person is
/// enrolled in for the evaluation's occupation.
fn candidate_classes(inp: &Inputs<'_>) -> PolarsResult<HashMap<String, Vec<String>>> {
    let ev = lf(inp, Table::Evaluations)
        .select([
            col("evaluation_id"),
            col("person_id"),
            col("class_id"),
            col("occupation_code"),
        ])
        .collect()?;
    let cls = lf(inp, Table::Classes)
        .select([col("class_id"), col("occupation_code")])
        .collect()?;
    let occ_of: HashMap<&str, &str> = cls
        .column("class_id")?
        .str()?
        .iter()
        .zip(cls.column("occupation_code")?.str()?.iter())
        .filter_map(|(c, o)| Some((c?, o?)))
        .collect();
    let en = lf(inp, Table::Enrollments)
        .select([col("person_id"), col("class_id")])
        .collect()?;
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
    let mut out = HashMap::new();
    let ids = ev.column("evaluation_id")?.str()?;
    let persons = ev.column("person_id")?.str()?;
    let own = ev.column("class_id")?.str()?;
    let occs = ev.column("occupation_code")?.str()?;
    for i in 0..ev.height() {
        let Some(id) = ids.get(i) else { continue };
        let classes: Vec<String> = match own.get(i) {
            Some(c) => vec![c.to_string()],
            None => persons
                .get(i)
                .and_then(|p| enrolled.get(p))
                .into_iter()
                .flatten()
                .filter(|c| occ_of.get(*c).copied() == occs.get(i))
                .map(|c| c.to_string())
                .collect(),
        };
        out.insert(id.to_string(), classes);
    }
    Ok(out)
}

/// Per evaluation: the distinct examiners (ids trimmed, empty items and repeats dropped) and the
/// first of them who teaches one of the candidate's classes (the class's teacher, or a session's
/// teacher). Staff ids are compared as persons: an id with a `staff` row stands for its
/// `person_id`, so a teacher filed under one staff id and examining under another is still found.
fn panels(inp: &Inputs<'_>) -> PolarsResult<DataFrame> {
    let staff = &inp.frames[&Table::Staff];
    let person_of: HashMap<&str, &str> = staff
        .column("staff_id")?
        .str()?
        .iter()
        .zip(staff.column("person_id")?.str()?.iter())
        .filter_map(|(s, p)| Some((s?.trim(), p?.trim())))
        .collect();
    let who = |id: &str| -> String { person_of.get(id).copied().unwrap_or(id).to_string() };
    let mut teachers: HashMap<String, HashSet<String>> = HashMap::new();
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
                teachers
                    .entry(c.to_string())
                    .or_default()
                    .insert(who(x.trim()));
            }
        }
    }
    let classes = candidate_classes(inp)?;
    let ev = lf(inp, Table::Evaluations)
        .select([col("evaluation_id"), col("evaluator_ids")])
        .collect()?;
    let ids = ev.column("evaluation_id")?.str()?;
    let lists = ev.column("evaluator_ids")?.str()?;
    let mut count = Vec::with_capacity(ev.height());
    let mut teacher = Vec::with_capacity(ev.height());
    for i in 0..ev.height() {
        let mut panel: Vec<&str> = Vec::new();
        for x in lists.get(i).unwrap_or("").split(';').map(str::trim) {
            if !x.is_empty() && !panel.contains(&x) {
                panel.push(x);
            }
        }
        let persons: HashSet<String> = panel.iter().map(|x| who(x)).collect();
        count.push(persons.len() as i64);
        let own = ids
            .get(i)
            .and_then(|id| classes.get(id))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let on_panel = panel.iter().find(|x| {
            own.iter()
                .any(|c| teachers.get(c).is_some_and(|t| t.contains(&who(x))))
        });
        teacher.push(on_panel.map(|x| x.to_string()));
    }
    DataFrame::new_infer_height(vec![
        ids.clone().into_column(),
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
