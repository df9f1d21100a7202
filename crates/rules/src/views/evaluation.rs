//! The `evaluation` view: one row per candidate in a sitting, with the panel size and the candidate's paid claims.

use super::*;

pub(super) fn evaluation_view(inp: &Inputs<'_>, paid: &DataFrame) -> PolarsResult<DataFrame> {
    let panel = lf(inp, Table::Evaluations)
        .select([col("evaluation_id"), col("evaluator_ids")])
        .collect()?;
    let ev = panel.column("evaluator_ids")?.str()?.clone();
    let n: Vec<i64> = ev
        .iter()
        .map(|v| v.map_or(0, |s| s.split(';').filter(|x| !x.is_empty()).count() as i64))
        .collect();
    let counts = DataFrame::new_infer_height(vec![
        panel.column("evaluation_id")?.clone(),
        Column::new("evaluator_count".into(), n),
    ])?;
    lf(inp, Table::Evaluations)
        .left_on(counts.lazy(), &["evaluation_id"])
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
