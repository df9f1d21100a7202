//! The `claim` view: one row per claim, with its person, its class (on the claim, else on its
//! evaluation row, else in the person's enrolments: [`claim_classes`]), institution, occupation
//! version, evaluation, the verified 学时 of its enrolment, the person's statuses and the
//! entitlement (clause 17).

use subsidy_model::vocab::{Status, Vocab};

use super::*;

/// The statuses a claim is judged by, one row per person with a status: per status, `*_from`
/// is the earliest start of its spans and `*_until` the latest end (null while one is
/// open-ended, or without the status); `key_group_from` is the earliest start of any key-group
/// status. One pass over the rows.
fn status_columns(inp: &Inputs<'_>) -> PolarsResult<DataFrame> {
    /// the latest end of one status's spans
    #[derive(Clone, Copy)]
    enum Until {
        Absent,
        Open,
        Closed(i32),
    }
    const N: usize = STATUS_COLUMNS.len();
    let st = &inp.frames[&Table::PersonStatus];
    let text = |c: &str| -> PolarsResult<StringChunked> {
        Ok(st.column(c)?.cast(&DataType::String)?.str()?.clone())
    };
    let days = |c: &str| -> PolarsResult<Int32Chunked> {
        Ok(st.column(c)?.cast(&DataType::Int32)?.i32()?.clone())
    };
    let (person, status) = (text("person_id")?, text("status")?);
    let (from, until) = (days("valid_from")?, days("valid_until")?);
    let mut slot: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
    let mut ids: Vec<&str> = Vec::new();
    let mut froms: Vec<[Option<i32>; N]> = Vec::new();
    let mut untils: Vec<[Until; N]> = Vec::new();
    let mut key_group: Vec<Option<i32>> = Vec::new();
    let earliest = |a: Option<i32>, b: Option<i32>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    for (((p, s), f), u) in person
        .iter()
        .zip(status.iter())
        .zip(from.iter())
        .zip(until.iter())
    {
        let (Some(p), Some(s)) = (p, s.and_then(Status::from_canonical)) else {
            continue;
        };
        let r = *slot.entry(p).or_insert_with(|| {
            ids.push(p);
            froms.push([None; N]);
            untils.push([Until::Absent; N]);
            key_group.push(None);
            ids.len() - 1
        });
        if KEY_GROUP_STATUSES.contains(&s) {
            key_group[r] = earliest(key_group[r], f);
        }
        let Some(k) = STATUS_COLUMNS.iter().position(|(status, ..)| *status == s) else {
            continue;
        };
        froms[r][k] = earliest(froms[r][k], f);
        untils[r][k] = match (untils[r][k], u) {
            (Until::Open, _) | (_, None) => Until::Open,
            (Until::Absent, Some(u)) => Until::Closed(u),
            (Until::Closed(a), Some(u)) => Until::Closed(a.max(u)),
        };
    }
    let date = |name: &str, v: Vec<Option<i32>>| -> PolarsResult<Column> {
        Column::new(name.into(), v).cast(&DataType::Date)
    };
    let mut columns = vec![Column::new("person_id".into(), ids)];
    for (k, (_, from_col, until_col)) in STATUS_COLUMNS.iter().enumerate() {
        columns.push(date(from_col, froms.iter().map(|f| f[k]).collect())?);
        if let Some(u) = until_col {
            let v = untils
                .iter()
                .map(|u| match u[k] {
                    Until::Closed(d) => Some(d),
                    Until::Absent | Until::Open => None,
                })
                .collect();
            columns.push(date(u, v)?);
        }
    }
    columns.push(date("key_group_from", key_group)?);
    DataFrame::new_infer_height(columns)
}

/// (status, its start column, its end column where the rules read one)
const STATUS_COLUMNS: [(Status, &str, Option<&str>); 6] = [
    (Status::Deceased, "deceased_from", None),
    (Status::Pensioner, "pensioner_from", None),
    (
        Status::FullTimeStudent,
        "student_from",
        Some("student_until"),
    ),
    (Status::PublicPayroll, "payroll_from", Some("payroll_until")),
    (Status::UiInsured, "ui_from", Some("ui_until")),
    (Status::Graduate, "graduate_from", Some("graduate_until")),
];

/// The key groups of clause 17's uplift.
const KEY_GROUP_STATUSES: [Status; 4] = [
    Status::PovertyAlleviated,
    Status::HardToEmploy,
    Status::ZeroEmploymentFamily,
    Status::Disabled,
];

fn level_rank_expr(c: &str) -> Expr {
    let mut e = null_of(DataType::Int64);
    for l in Level::ALL.iter().rev() {
        if let Some(r) = l.rank() {
            e = when(col(c).eq(lit(l.as_str())))
                .then(lit(i64::from(r)))
                .otherwise(e);
        }
    }
    e
}

fn level_digit_expr(c: &str) -> Expr {
    let mut e = null_of(DataType::Int64);
    for l in Level::ALL {
        if let Some(d) = l.certificate_digit() {
            e = when(col(c).eq(lit(l.as_str())))
                .then(lit(i64::from(d)))
                .otherwise(e);
        }
    }
    e
}

/// The claims with their class and evaluation found by the contract's convention: the claim's
/// own `class_id`; else the class on its evaluation row; else the person's enrolment in a class
/// of the claim's occupation and level whose dates cover, or most recently precede, the exam (or,
/// with no exam, the claim date). The evaluation is the claim's own `evaluation_id`, else the
/// person's evaluation row carrying the claim's certificate number. `claim_class_id` and
/// `claim_evaluation_id` keep what the claim itself said; `class_source` says where the class
/// came from (`claim`, `evaluation`, `enrollment`; null: no class, e.g. direct recognition).
fn claim_classes(inp: &Inputs<'_>) -> PolarsResult<LazyFrame> {
    let evals = lf(inp, Table::Evaluations);
    let by_certificate = evals
        .clone()
        .filter(col("certificate_no").is_not_null())
        .group_by([col("certificate_no"), col("person_id")])
        .agg([col("evaluation_id").min().alias("_cert_eval")]);
    let eval_class = evals.select([
        col("evaluation_id"),
        col("class_id").alias("_eval_class"),
        col("starts_at").dt().date().alias("_exam_day"),
    ]);
    let claims = lf(inp, Table::Claims)
        .with_columns([
            col("class_id").alias("claim_class_id"),
            col("evaluation_id").alias("claim_evaluation_id"),
        ])
        .left_on(by_certificate, &["certificate_no", "person_id"])
        .with_columns([col("evaluation_id")
            .fill_null(col("_cert_eval"))
            .alias("evaluation_id")])
        .left_on(eval_class, &["evaluation_id"])
        .with_columns([
            col("class_id")
                .fill_null(col("_eval_class"))
                .alias("class_id"),
            when(col("class_id").is_not_null())
                .then(lit("claim"))
                .when(col("_eval_class").is_not_null())
                .then(lit("evaluation"))
                .otherwise(null_of(DataType::String))
                .alias("class_source"),
            col("_exam_day")
                .fill_null(col("claimed_on"))
                .alias("_ref_day"),
        ]);
    // read twice below, so made once: without polars' `cse` feature a lazy frame read twice is
    // planned, and run, twice
    let claims = claims.collect()?.lazy();
    let classes = lf(inp, Table::Classes).select([
        col("class_id").alias("_enrol_class"),
        col("occupation_code"),
        col("level"),
        col("start_date").alias("_start"),
        col("end_date").alias("_end"),
    ]);
    let enrolled = lf(inp, Table::Enrollments)
        .select([col("person_id"), col("class_id").alias("_enrol_class")])
        .unique(None, UniqueKeepStrategy::First)
        .join(
            classes,
            [col("_enrol_class")],
            [col("_enrol_class")],
            JoinArgs::new(JoinType::Inner),
        );
    let from_enrolments = claims
        .clone()
        .filter(col("class_id").is_null())
        .select([
            col("claim_id"),
            col("person_id"),
            col("occupation_code"),
            col("level"),
            col("_ref_day"),
        ])
        .join(
            enrolled,
            [col("person_id"), col("occupation_code"), col("level")],
            [col("person_id"), col("occupation_code"), col("level")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("_start").lt_eq(col("_ref_day")))
        .with_columns([col("_end").gt_eq(col("_ref_day")).alias("_covers")])
        .group_by([col("claim_id")])
        // covering classes first, then the most recent; the class id breaks ties
        .agg([col("_enrol_class")
            .sort_by(
                [col("_covers"), col("_start"), col("_enrol_class")],
                SortMultipleOptions::default().with_order_descending_multi([true, true, false]),
            )
            .first()]);
    Ok(claims
        .left_on(from_enrolments, &["claim_id"])
        .with_columns([
            when(
                col("class_id")
                    .is_null()
                    .and(col("_enrol_class").is_not_null()),
            )
            .then(lit("enrollment"))
            .otherwise(col("class_source"))
            .alias("class_source"),
            col("class_id")
                .fill_null(col("_enrol_class"))
                .alias("class_id"),
        ])
        .drop(cols([
            "_cert_eval",
            "_eval_class",
            "_exam_day",
            "_ref_day",
            "_enrol_class",
        ])))
}

/// One sitting: an evaluation organisation's exam of one occupation and level, at one site and
/// start time.
const SITTING: [&str; 5] = [
    "evaluation_org_id",
    "site_id",
    "starts_at",
    "occupation_code",
    "level",
];

/// Per evaluation row, the figures of its sitting, each a window over the evaluations (one
/// grouping per set of keys, no join back): `answer_dup_count`, the candidates of the sitting
/// and site with the same answer-sheet hash (null without one); `practical_dup_count`, those of
/// the sitting with the same practical score (as a number: `85` and `85.00` are one score; null
/// where the score or a key is missing; FE-02's identical practical scores);
/// `sitting_candidates`, `sitting_all_passed`, and `sitting_score_sd`, the smaller of the theory
/// and practical scores' standard deviations (each over the candidates with that score; FE-02's
/// uniform half). A missing key groups with the other missing ones, as the sitting's own key.
fn sitting_figures() -> PolarsResult<[Expr; 5]> {
    let sitting = || SITTING.map(col);
    let answer = [
        col("evaluation_org_id"),
        col("site_id"),
        col("starts_at"),
        col("answer_hash"),
    ];
    let practical: Vec<Expr> = sitting()
        .into_iter()
        .chain([col("practical_score")])
        .collect();
    let all_present = practical
        .iter()
        .fold(lit(true), |a, k| a.and(k.clone().is_not_null()));
    Ok([
        when(col("answer_hash").is_not_null())
            .then(len().over(answer)?.cast(DataType::Int64))
            .otherwise(null_of(DataType::Int64))
            .alias("answer_dup_count"),
        when(all_present)
            .then(len().over(practical)?.cast(DataType::Int64))
            .otherwise(null_of(DataType::Int64))
            .alias("practical_dup_count"),
        len()
            .over(sitting())?
            .cast(DataType::Int64)
            .alias("sitting_candidates"),
        col("passed")
            .all(true)
            .over(sitting())?
            .alias("sitting_all_passed"),
        polars::lazy::dsl::min_horizontal([
            col("theory_score").std(1).over(sitting())?,
            col("practical_score").std(1).over(sitting())?,
        ])?
        .alias("sitting_score_sd"),
    ])
}

pub(super) fn claim_view(
    inp: &Inputs<'_>,
    s: &ViewSettings,
    persons: &DataFrame,
    insts: &DataFrame,
    enrol: &DataFrame,
) -> PolarsResult<DataFrame> {
    // the view's steps, for `scan --profile`: the plan, the Rust-side checks, entitlement, the
    // parties and the sort
    let t = subsidy_model::trace::begin("step", "");
    let p = persons.clone().lazy().select([
        col("person_id"),
        col("name").alias("person_name"),
        col("gender"),
        col("birth_date"),
        col("bank_account"),
        col("phone"),
        col("hukou_region"),
        col("employer_id"),
        col("id_valid"),
        col("id_problem"),
        col("id_problem_zh"),
        col("id_birth_date"),
        col("id_male"),
    ]);
    let timetabled = lf(inp, Table::Sessions)
        .filter(col("ends_at").gt(col("starts_at")))
        .unique(
            Some(cols(["class_id", "starts_at", "ends_at"])),
            UniqueKeepStrategy::First,
        )
        .group_by([col("class_id")])
        .agg([((col("ends_at") - col("starts_at"))
            .dt()
            .total_minutes(false)
            .cast(DataType::Float64)
            .sum()
            / lit(45.0))
        .alias("timetabled_hours")]);
    let classes = lf(inp, Table::Classes)
        .left_on(timetabled, &["class_id"])
        .select([
            col("class_id"),
            col("timetabled_hours"),
            col("mode").alias("class_mode"),
            col("institution_id").alias("class_institution_id"),
            col("filed_on"),
            col("start_date").alias("class_start"),
            col("end_date").alias("class_end"),
            col("planned_hours"),
            col("fee_per_trainee"),
            col("teacher_id"),
        ]);
    let i = insts.clone().lazy().select([
        col("institution_id"),
        col("kind").alias("inst_kind"),
        col("region_code").alias("inst_region"),
        col("in_catalogue_from"),
        col("in_catalogue_until"),
        col("revoked_on"),
        col("approved_occupations"),
        col("supervisor"),
    ]);
    let evals = lf(inp, Table::Evaluations);
    let e = evals
        .clone()
        .with_columns(sitting_figures()?)
        .left_on(
            insts.clone().lazy().select([
                col("institution_id").alias("evaluation_org_id"),
                col("region_code")
                    .str()
                    .slice(lit(0), lit(2))
                    .alias("eval_org_province"),
            ]),
            &["evaluation_org_id"],
        )
        .select([
            col("evaluation_id"),
            col("evaluation_org_id"),
            col("eval_org_province"),
            col("sitting_candidates"),
            col("sitting_all_passed"),
            col("sitting_score_sd"),
            col("starts_at").alias("eval_starts_at"),
            col("starts_at").dt().date().alias("eval_date"),
            col("certificate_issued_on").alias("eval_cert_issued_on"),
            col("answer_dup_count"),
            col("practical_dup_count"),
        ]);
    let holders = evals
        .filter(col("certificate_no").is_not_null())
        .sort(
            ["certificate_issued_on"],
            SortMultipleOptions::default().with_nulls_last(true),
        )
        .group_by([col("certificate_no")])
        .agg([
            col("person_id").first().alias("cert_holder"),
            col("certificate_issued_on").first().alias("cert_issued_on"),
        ]);
    let statuses = status_columns(inp)?.lazy();
    let identity = match inp.identities {
        Some(ids) => ids
            .clone()
            .lazy()
            .select([col("person_id"), col("identity_id")]),
        None => persons
            .clone()
            .lazy()
            .select([col("person_id"), col("person_id").alias("identity_id")]),
    };

    let q = claim_classes(inp)?
        .left_on(p, &["person_id"])
        .left_on(identity, &["person_id"])
        .left_on(classes, &["class_id"])
        .with_columns([when(col("class_institution_id").is_not_null())
            .then(col("class_institution_id"))
            .otherwise(col("claimant_id"))
            .alias("institution_id")])
        .left_on(i, &["institution_id"])
        .with_columns([when(col("inst_kind").is_null())
            .then(null_of(DataType::String))
            .otherwise(col("institution_id"))
            .alias("institution_id")])
        .left_on(e, &["evaluation_id"])
        .left_on(holders, &["certificate_no"])
        .left_on(enrol.clone().lazy(), &["class_id", "person_id"]);
    // made here, half way: a plan of some twenty joins in one piece overflows a 2 MiB thread
    // stack when polars converts it in a debug build (each join is a level of recursion)
    let q = q
        .collect()?
        .lazy()
        .left_on(statuses, &["person_id"])
        .with_columns([
            col("claimed_on")
                .dt()
                .year()
                .cast(DataType::Int64)
                .alias("claim_year"),
            when(col("class_start").is_not_null())
                .then(col("class_start"))
                .otherwise(
                    when(col("eval_date").is_not_null())
                        .then(col("eval_date"))
                        .otherwise(col("claimed_on")),
                )
                .alias("judged_on"),
            col("claimant_id")
                .eq(col("person_id"))
                .alias("claimant_is_person"),
            // registrations of this claim's resolved identity that claimed (2+: a merged identity)
            col("person_id")
                .n_unique()
                .over([col("identity_id")])?
                .cast(DataType::Int64)
                .alias("identity_persons"),
            when(col("gender").is_not_null())
                .then(col("gender").eq(lit("m")))
                .otherwise(col("id_male"))
                .alias("is_male"),
            level_rank_expr("level").alias("level_rank"),
            level_digit_expr("level").alias("level_digit"),
            when(col("scheme").eq(lit("skill_upgrade")))
                .then(lit("unemployment_insurance"))
                .otherwise(
                    when(
                        col("scheme").is_in(
                            lit(Series::new(
                                "s".into(),
                                ["training", "apprenticeship", "project"],
                            ))
                            .implode(false),
                            false,
                        ),
                    )
                    .then(lit("employment"))
                    .otherwise(null_of(DataType::String)),
                )
                .alias("scheme_route"),
            when(col("planned_hours").gt(lit(0.0)))
                .then(col("verified_hours").fill_null(lit(0.0)) / col("planned_hours"))
                .otherwise(null_of(DataType::Float64))
                .alias("attendance_ratio"),
            when(col("face_checks").gt(lit(0)))
                .then(
                    col("face_fails").cast(DataType::Float64)
                        / col("face_checks").cast(DataType::Float64),
                )
                .otherwise(lit(0.0))
                .alias("face_fail_share"),
        ])
        .with_columns([(((col("judged_on").cast(DataType::Int32)
            - when(col("birth_date").is_not_null())
                .then(col("birth_date"))
                .otherwise(col("id_birth_date"))
                .cast(DataType::Int32))
        .cast(DataType::Float64))
            / lit(365.2425))
        .floor()
        .cast(DataType::Int64)
        .alias("age_at_start")]);
    // made once: the occupation versions below read it, and are joined back to it
    let mut q = q.collect()?.lazy();
    // occupation version in force on the judged date
    let occ = lf(inp, Table::Occupations).select([
        col("occupation_code").alias("occ_code"),
        col("shortage_tier"),
        col("standard_hours"),
        col("valid_from").alias("occ_from"),
        col("valid_until").alias("occ_until"),
    ]);
    let versions = q
        .clone()
        .select([col("claim_id"), col("occupation_code"), col("judged_on")])
        .join(
            occ,
            [col("occupation_code")],
            [col("occ_code")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col("occ_from")
                .is_null()
                .or(col("occ_from").lt_eq(col("judged_on")))
                .and(
                    col("occ_until")
                        .is_null()
                        .or(col("occ_until").gt_eq(col("judged_on"))),
                ),
        )
        .group_by([col("claim_id")])
        .agg([col("shortage_tier").first(), col("standard_hours").first()]);
    q = q
        .left_on(versions, &["claim_id"])
        .with_columns([col("shortage_tier")
            .is_not_null()
            .alias("occupation_in_catalogue")]);
    let mut df = q.collect()?;
    let t = t.lap("claim plan");
    add_certificate_checks(&mut df)?;
    add_scope_check(&mut df)?;
    let t = t.lap("claim checks");
    let standards = if inp.present.contains(&Table::SubsidyStandards) {
        crate::entitlement::standards_from_frame(&inp.frames[&Table::SubsidyStandards])?
    } else {
        s.default_standards.clone()
    };
    let (entitled, (basis, basis_zh)) = entitle(&df, &standards, s.uplift_max)?;
    df.with_column(Column::new("entitled".into(), entitled))?;
    df.with_column(Column::new("entitlement_basis".into(), basis))?;
    df.with_column(Column::new("entitlement_basis_zh".into(), basis_zh))?;
    let t = t.lap("claim entitlement");
    let df = df
        .lazy()
        .with_columns([
            when(col("class_institution_id").is_not_null())
                .then(col("class_institution_id"))
                .otherwise(
                    when(
                        col("inst_kind")
                            .eq(lit("training"))
                            .or(col("inst_kind").eq(lit("school"))),
                    )
                    .then(col("institution_id"))
                    .otherwise(null_of(DataType::String)),
                )
                .alias("party_training_institution"),
            col("evaluation_org_id").alias("party_evaluation_organisation"),
            when(col("inst_kind").eq(lit("enterprise")))
                .then(col("institution_id"))
                .otherwise(col("employer_id"))
                .alias("party_enterprise"),
            col("person_id").alias("party_trainee"),
            col("approver").alias("party_approving_department"),
            col("claim_id").alias("entity"),
            col("claim_id").alias("claim_ids"),
            // judged as a 职业技能等级证书 (FE-05): a claim at a level with a certificate digit
            // (初级 … 高级技师) whose scheme pays on a level certificate, or whose number is of
            // that family (Y/S and four digits) or was issued at a sitting; special-ability and training
            // certificates follow provincial numbering and are not judged
            col("certificate_no")
                .is_not_null()
                .and(col("level_digit").is_not_null())
                .and(
                    col("scheme")
                        .is_in(
                            lit(Series::new("s".into(), ["skill_upgrade", "evaluation"]))
                                .implode(false),
                            false,
                        )
                        .or(col("cert_level_family"))
                        .or(col("cert_holder").is_not_null()),
                )
                .alias("cert_is_level"),
        ])
        .sort(["claim_id"], SortMultipleOptions::default())
        .collect()?;
    t.end_as("claim parties+sort");
    Ok(df)
}

/// Whether a certificate number is of the 职业技能等级证书 family (see `add_certificate_checks`).
fn is_level_family(c: &str) -> bool {
    let b = c.trim().as_bytes();
    if b.is_empty() || !matches!(b[0], b'Y' | b'S' | b'y' | b's') {
        return false;
    }
    let rest = if b.len() > 1 && b[1].is_ascii_alphabetic() {
        &b[2..]
    } else {
        &b[1..]
    };
    rest.len() >= 4 && rest.iter().all(u8::is_ascii_digit)
}

fn add_certificate_checks(df: &mut DataFrame) -> PolarsResult<()> {
    let certs = df.column("certificate_no")?.str()?.clone();
    let mut ok: Vec<Option<bool>> = Vec::with_capacity(certs.len());
    let mut digit: Vec<Option<i64>> = Vec::with_capacity(certs.len());
    let mut year: Vec<Option<i64>> = Vec::with_capacity(certs.len());
    // the province of a provincially filed number (organisation code 0000)
    let mut province: Vec<Option<String>> = Vec::with_capacity(certs.len());
    // of the level-certificate family: Y or S (a second letter for 特级技师), then digits only,
    // at least the four of an organisation code. A number with other letters or separators
    // after them is another numbering: a 培训合格证书 of the institution's own (its credit-code
    // tail `Y6165B-2025-728400`), a special-ability certificate
    let mut family: Vec<bool> = Vec::with_capacity(certs.len());
    for c in certs.iter() {
        family.push(c.is_some_and(is_level_family));
        let parsed = c.map(|c| parse_certificate_no(c.trim()));
        ok.push(parsed.as_ref().map(Option::is_some));
        let p = parsed.flatten();
        digit.push(p.as_ref().map(|p| i64::from(p.level_digit)));
        year.push(p.as_ref().map(|p| 2000 + i64::from(p.year)));
        province.push(
            p.as_ref()
                .filter(|p| p.org == "0000")
                .map(|p| p.province.to_string()),
        );
    }
    df.with_column(Column::new("cert_filed_province".into(), province))?;
    df.with_column(Column::new("cert_level_family".into(), family))?;
    df.with_column(Column::new("cert_structure_ok".into(), ok))?;
    df.with_column(Column::new("cert_level_digit".into(), digit))?;
    df.with_column(Column::new("cert_year".into(), year))?;
    Ok(())
}

/// `occupation_approved`: whether the institution's filed scope lists the claim's occupation
/// (null where the scope is not recorded).
fn add_scope_check(df: &mut DataFrame) -> PolarsResult<()> {
    let scope = df.column("approved_occupations")?.str()?.clone();
    let occ = df.column("occupation_code")?.str()?.clone();
    let v: Vec<Option<bool>> = scope
        .iter()
        .zip(occ.iter())
        .map(|(s, o)| match (s, o) {
            (Some(s), Some(o)) if !s.is_empty() => Some(s.split(';').any(|x| x == o)),
            _ => None,
        })
        .collect();
    df.with_column(Column::new("occupation_approved".into(), v))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_spread_one_column_pair_per_status() {
        let d = |s: &str| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"));
        let spans = df!(
            "person_id" => ["P1", "P1", "P1", "P2", "P2", "P3", "P3"],
            "status" => ["ui_insured", "ui_insured", "disabled", "ui_insured", "ui_insured",
                         "hard_to_employ", "graduate"],
            "valid_from" => [d("2024-03-01"), d("2023-01-01"), d("2025-05-01"), d("2022-01-01"),
                             d("2021-06-01"), d("2024-01-01"), d("2020-07-01")],
            "valid_until" => [d("2024-12-31"), d("2023-06-30"), None, None, d("2021-12-31"),
                              None, d("2024-07-01")],
        )
        .expect("frame");
        let present = BTreeSet::from([Table::PersonStatus]);
        let inp = Inputs {
            frames: BTreeMap::from([(Table::PersonStatus, spans)]),
            present: &present,
            identities: None,
            today: NaiveDate::from_ymd_opt(2025, 12, 31).expect("date"),
            sign_ins: None,
        };
        let out = status_columns(&inp).expect("statuses");
        let dates = |c: &str| -> Vec<Option<String>> {
            let s = out
                .column(c)
                .expect(c)
                .cast(&DataType::String)
                .expect("cast");
            s.str()
                .expect("str")
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let o = |v: &[Option<&str>]| -> Vec<Option<String>> {
            v.iter().map(|x| x.map(str::to_string)).collect()
        };
        assert_eq!(out.height(), 3);
        // earliest start; latest end, or none while one span is open-ended
        assert_eq!(
            dates("ui_from"),
            o(&[Some("2023-01-01"), Some("2021-06-01"), None])
        );
        assert_eq!(dates("ui_until"), o(&[Some("2024-12-31"), None, None]));
        assert_eq!(
            dates("graduate_until"),
            o(&[None, None, Some("2024-07-01")])
        );
        // any key-group status; not graduate
        assert_eq!(
            dates("key_group_from"),
            o(&[Some("2025-05-01"), None, Some("2024-01-01")])
        );
        assert_eq!(dates("deceased_from"), o(&[None, None, None]));
    }

    #[test]
    fn the_level_certificate_family_is_letters_then_digits_only() {
        // level certificates, well-formed or not (FE-05 judges them)
        assert!(is_level_family("Y000044000001255000123"));
        assert!(is_level_family("S0000330000012540000012"));
        assert!(is_level_family("YT00004400000125000123"));
        assert!(is_level_family("Y00004400000125")); // too short: judged, and malformed
        // other numberings are not judged: a training certificate in an institution's own
        // numbering (its credit-code tail), special-ability certificates
        assert!(!is_level_family("Y6165B-2025-728400"));
        assert!(!is_level_family("S1234X-2025-000001"));
        assert!(!is_level_family("ZX2124000000000018"));
        assert!(!is_level_family("44ZX202500012345"));
        assert!(!is_level_family("PX3502032025000123"));
        assert!(!is_level_family("Y12"));
    }
}
