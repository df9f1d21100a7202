//! The `person` view: one row per person, with the checks of the resident ID (GB 11643).

use super::*;

pub(super) fn person_view(inp: &Inputs<'_>) -> PolarsResult<DataFrame> {
    let mut df = inp.frames[&Table::Persons].clone();
    let ids = df.column("person_id")?.str()?.clone();
    let mut valid = Vec::with_capacity(ids.len());
    let mut problem: Vec<Option<String>> = Vec::with_capacity(ids.len());
    let mut problem_zh: Vec<Option<String>> = Vec::with_capacity(ids.len());
    let mut birth: Vec<Option<i32>> = Vec::with_capacity(ids.len());
    let mut male: Vec<Option<bool>> = Vec::with_capacity(ids.len());
    for id in ids.iter() {
        let id = id.unwrap_or("");
        let c = check_resident_id(id, inp.today);
        valid.push(c == IdCheck::Valid);
        problem.push(match c {
            IdCheck::Valid => None,
            IdCheck::Legacy15 => Some("15-digit legacy number".into()),
            IdCheck::BadLength => Some(format!("{} characters, not 18", id.chars().count())),
            IdCheck::BadCharacters => Some("characters other than digits and a final X".into()),
            IdCheck::BadRegion => Some("no valid region prefix".into()),
            IdCheck::BadBirthDate => Some("the birth-date digits are not a real past date".into()),
            IdCheck::BadCheckDigit(e) => Some(format!("check character should be {e}")),
        });
        problem_zh.push(match c {
            IdCheck::Valid => None,
            IdCheck::Legacy15 => Some("15位旧号码".into()),
            IdCheck::BadLength => Some(format!("{}位，不是18位", id.chars().count())),
            IdCheck::BadCharacters => Some("含数字和末位X以外的字符".into()),
            IdCheck::BadRegion => Some("地区码无效".into()),
            IdCheck::BadBirthDate => Some("出生日期码不是真实的过去日期".into()),
            IdCheck::BadCheckDigit(e) => Some(format!("校验码应为{e}")),
        });
        birth.push(id_birth_date(id).map(crate::entitlement::days));
        male.push(id_is_male(id));
    }
    df.with_column(Column::new("id_valid".into(), valid))?;
    df.with_column(Column::new("id_problem".into(), problem))?;
    df.with_column(Column::new("id_problem_zh".into(), problem_zh))?;
    df.with_column(
        Int32Chunked::from_iter_options("id_birth_date".into(), birth.into_iter())
            .into_date()
            .into_column(),
    )?;
    df.with_column(Column::new("id_male".into(), male))?;
    df.lazy()
        .with_columns([
            col("person_id").alias("party_trainee"),
            col("person_id").alias("entity"),
            lit("").alias("claim_ids"),
        ])
        .collect()
}
