//! The `institution` view: one row per institution, with the checks of the credit code (GB 32100).

use super::*;

pub(super) fn institution_view(inp: &Inputs<'_>) -> PolarsResult<DataFrame> {
    let mut df = inp.frames[&Table::Institutions].clone();
    let ids = df.column("institution_id")?.str()?.clone();
    let mut valid = Vec::with_capacity(ids.len());
    let mut problem: Vec<Option<String>> = Vec::with_capacity(ids.len());
    let mut problem_zh: Vec<Option<String>> = Vec::with_capacity(ids.len());
    for id in ids.iter() {
        let c = check_uscc(id.unwrap_or(""));
        valid.push(matches!(c, UsccCheck::Valid | UsccCheck::OrgCodeWarning));
        problem.push(match c {
            UsccCheck::Valid => None,
            UsccCheck::OrgCodeWarning => {
                Some("embedded organisation code fails GB 11714 (warning)".into())
            }
            UsccCheck::BadLength => Some("not 18 characters".into()),
            UsccCheck::BadCharacters => Some("characters outside the GB 32100 set".into()),
            UsccCheck::BadCheckChar(e) => Some(format!("check character should be {e}")),
        });
        problem_zh.push(match c {
            UsccCheck::Valid => None,
            UsccCheck::OrgCodeWarning => Some("所含组织机构代码未通过GB 11714校验（警示）".into()),
            UsccCheck::BadLength => Some("不是18位".into()),
            UsccCheck::BadCharacters => Some("含GB 32100字符集以外的字符".into()),
            UsccCheck::BadCheckChar(e) => Some(format!("校验码应为{e}")),
        });
    }
    df.with_column(Column::new("uscc_valid".into(), valid))?;
    df.with_column(Column::new("uscc_problem".into(), problem))?;
    df.with_column(Column::new("uscc_problem_zh".into(), problem_zh))?;
    df.lazy()
        .with_columns([
            col("institution_id").alias("party_training_institution"),
            col("institution_id").alias("party_evaluation_organisation"),
            col("institution_id").alias("party_enterprise"),
            col("supervisor").alias("party_approving_department"),
            col("institution_id").alias("entity"),
            lit("").alias("claim_ids"),
        ])
        .collect()
}
