//! Features of classes and evaluation sittings, computed with polars lazy plans from the
//! ingested tables. Every feature is one column, documented in [`CLASS_FEATURES`] and
//! [`SITTING_FEATURES`]; a feature a class has no data for is null (the detectors impute the
//! peer median and say so in the evidence).

use std::collections::BTreeMap;

use polars::prelude::*;
use subsidy_model::contract::Table;

/// One feature: its column, what it measures, and why it separates scripted from real training.
#[derive(Debug, Clone, Copy)]
pub struct Feature {
    /// the column in the feature frame
    pub name: &'static str,
    /// what it measures, in plain words (used in messages)
    pub what: &'static str,
    /// the same in Chinese (used in `message_zh`)
    pub what_zh: &'static str,
    /// the unit or scale, for messages
    pub unit: &'static str,
}

/// The per-class features, in matrix order.
pub const CLASS_FEATURES: &[Feature] = &[
    Feature {
        name: "signin_spread_min",
        what: "spread of trainees' sign-in times on a class day (median over days, standard deviation in minutes)",
        what_zh: "培训日参训人员签到时间的离散度",
        unit: "min",
    },
    Feature {
        name: "signout_spread_min",
        what: "spread of trainees' sign-out times on a class day (median over days, standard deviation in minutes)",
        what_zh: "培训日参训人员签退时间的离散度",
        unit: "min",
    },
    Feature {
        name: "face_score_mean",
        what: "mean face-match score of face sign-ins",
        what_zh: "人脸核验签到的平均比对分",
        unit: "",
    },
    Feature {
        name: "face_score_sd",
        what: "standard deviation of face-match scores",
        what_zh: "人脸比对分的标准差",
        unit: "",
    },
    Feature {
        name: "devices_per_trainee",
        what: "distinct sign-in devices per trainee",
        what_zh: "人均签到设备数",
        unit: "",
    },
    Feature {
        name: "location_spread_m",
        what: "spread of sign-in locations (standard deviation, metres)",
        what_zh: "签到位置的离散度（米）",
        unit: "m",
    },
    Feature {
        name: "attended_share",
        what: "sign-ins per trainee on an average class day (a day with any sign-in)",
        what_zh: "平均每个培训日的人均签到次数",
        unit: "",
    },
    Feature {
        name: "exam_mean",
        what: "mean exam score ((theory + practical) / 2) of the class's candidates",
        what_zh: "本班考生的平均考试成绩",
        unit: "points",
    },
    Feature {
        name: "exam_sd",
        what: "standard deviation of the class's exam scores",
        what_zh: "本班考试成绩的标准差",
        unit: "points",
    },
    Feature {
        name: "pass_rate",
        what: "share of the class's candidates who passed",
        what_zh: "本班考生的合格率",
        unit: "",
    },
];

/// The per-sitting features (a sitting: one organisation, site and start time).
pub const SITTING_FEATURES: &[Feature] = &[
    Feature {
        name: "pass_rate",
        what: "share of candidates who passed",
        what_zh: "考生合格率",
        unit: "",
    },
    Feature {
        name: "score_mean",
        what: "mean exam score ((theory + practical) / 2)",
        what_zh: "平均考试成绩",
        unit: "points",
    },
    Feature {
        name: "score_sd",
        what: "standard deviation of exam scores",
        what_zh: "考试成绩的标准差",
        unit: "points",
    },
    Feature {
        name: "score_skew",
        what: "skewness of exam scores (negative: bunched at the top)",
        what_zh: "考试成绩的偏度（负值表示集中于高分）",
        unit: "",
    },
    Feature {
        name: "same_answer_share",
        what: "share of answer sheets repeating another sheet of the sitting (1 - distinct hashes / hashes)",
        what_zh: "与同场次其他答卷雷同的答卷占比",
        unit: "",
    },
    Feature {
        name: "candidates_per_evaluator_hour",
        what: "candidates per evaluator per hour of the sitting",
        what_zh: "每名考评员每小时考核人数",
        unit: "",
    },
    Feature {
        name: "duration_min",
        what: "length of the sitting in minutes",
        what_zh: "考核场次时长（分钟）",
        unit: "min",
    },
    Feature {
        name: "top_institution_share",
        what: "share of candidates prepared by the single most frequent class institution",
        what_zh: "来自同一培训机构的考生占比",
        unit: "",
    },
];

/// The output columns: the identifying ones, then every feature as a number.
fn output(ids: [Expr; 4], features: &[Feature]) -> Vec<Expr> {
    ids.into_iter()
        .chain(features.iter().map(|f| col(f.name).cast(DataType::Float64)))
        .collect()
}

fn frame(frames: &BTreeMap<Table, DataFrame>, t: Table) -> LazyFrame {
    frames.get(&t).cloned().unwrap_or_default().lazy()
}

/// Per class: `class_id`, `institution_id`, `peer_group` (the occupation's sector and the
/// level), `trainees` and the [`CLASS_FEATURES`]. The sign-in features come from the one pass
/// over the sign-ins ([`subsidy_model::sign_ins`], its `classes` frame): `sign_in_classes` when
/// the caller has made the pass already, else it is made here.
pub fn class_features(
    frames: &BTreeMap<Table, DataFrame>,
    sign_in_classes: Option<&DataFrame>,
) -> PolarsResult<DataFrame> {
    let per_class = match sign_in_classes {
        Some(c) => c.clone(),
        None => {
            let empty = frames.get(&Table::Attendance).cloned().unwrap_or_default();
            let table = |t: Table| frames.get(&t).cloned().unwrap_or_default();
            // no day rows are kept (an empty set of persons): the features need the classes'
            // figures alone, which no pack setting changes
            let none = PlHashSet::new();
            subsidy_model::sign_ins::sign_in_days(
                &empty,
                &table(Table::Classes),
                &table(Table::Sessions),
                Some(&none),
                subsidy_model::sign_ins::DaySettings::default(),
            )?
            .classes
        }
    };
    let per_class = per_class
        .drop("max_daily_trainees")?
        .drop("max_concurrent_trainees")?;
    let score = ((col("theory_score") + col("practical_score")) / lit(2.0)).alias("score");
    let exams = frame(frames, Table::Evaluations)
        .filter(col("class_id").is_not_null())
        .group_by([col("class_id")])
        .agg([
            score.clone().mean().alias("exam_mean"),
            score.std(1).alias("exam_sd"),
            col("passed")
                .cast(DataType::Float64)
                .mean()
                .alias("pass_rate"),
        ]);
    let sectors = frame(frames, Table::Occupations)
        .group_by([col("occupation_code")])
        .agg([col("sector").first().alias("sector")]);
    let left = || JoinArgs::new(JoinType::Left);
    let on = |c: &str| [col(c)];
    let out = frame(frames, Table::Classes)
        .select([
            col("class_id"),
            col("institution_id"),
            col("occupation_code"),
            col("level"),
        ])
        .join(
            sectors,
            on("occupation_code"),
            on("occupation_code"),
            left(),
        )
        .with_column(
            concat_str(
                [
                    col("sector").fill_null(lit("unknown")),
                    col("level").fill_null(lit("unknown")),
                ],
                "/",
                false,
            )
            .alias("peer_group"),
        )
        .join(per_class.lazy(), on("class_id"), on("class_id"), left())
        .with_column(
            (col("signins_per_day") / col("trainees").cast(DataType::Float64))
                .alias("attended_share"),
        )
        .join(exams, on("class_id"), on("class_id"), left())
        .select(output(
            [
                col("class_id"),
                col("institution_id"),
                col("peer_group"),
                col("trainees").fill_null(lit(0)).cast(DataType::Int64),
            ],
            CLASS_FEATURES,
        ))
        .sort(["class_id"], Default::default())
        .collect()?;
    Ok(out)
}

/// Per evaluation sitting (organisation, site, start): `sitting`, `evaluation_org_id`,
/// `peer_group` (occupation and level), `candidates` and the [`SITTING_FEATURES`].
pub fn sitting_features(frames: &BTreeMap<Table, DataFrame>) -> PolarsResult<DataFrame> {
    let ev = frame(frames, Table::Evaluations);
    let score = ((col("theory_score") + col("practical_score")) / lit(2.0)).alias("score");
    let sitting = concat_str(
        [
            col("evaluation_org_id"),
            col("site_id").fill_null(lit("")),
            col("starts_at").cast(DataType::String),
        ],
        "|",
        false,
    )
    .alias("sitting");
    let inst = frame(frames, Table::Classes).select([
        col("class_id"),
        col("institution_id").alias("class_institution"),
    ]);
    let base = ev
        .with_columns([
            sitting,
            score,
            ((col("ends_at").cast(DataType::Int64) - col("starts_at").cast(DataType::Int64))
                .cast(DataType::Float64)
                / lit(60_000.0))
            .alias("duration_min"),
            (col("evaluator_ids").str().count_matches(lit(";"), true) + lit(1))
                .cast(DataType::Float64)
                .alias("evaluators"),
        ])
        .join(
            inst,
            [col("class_id")],
            [col("class_id")],
            JoinArgs::new(JoinType::Left),
        );
    let top_share = base
        .clone()
        .filter(col("class_institution").is_not_null())
        .group_by([col("sitting"), col("class_institution")])
        .agg([len().alias("k")])
        .group_by([col("sitting")])
        .agg([col("k").max().alias("top_k")]);
    let m = col("score").mean();
    let sd = col("score").std(0);
    let out = base
        .group_by([col("sitting")])
        .agg([
            col("evaluation_org_id").first(),
            concat_str(
                [col("occupation_code").first(), col("level").first()],
                "/",
                false,
            )
            .alias("peer_group"),
            len().cast(DataType::Int64).alias("candidates"),
            col("passed")
                .cast(DataType::Float64)
                .mean()
                .alias("pass_rate"),
            m.clone().alias("score_mean"),
            col("score").std(1).alias("score_sd"),
            // population skewness: E[(x - m)^3] / sd^3
            ((col("score") - m).pow(3).mean() / sd.pow(3)).alias("score_skew"),
            // sheets repeating another sheet's hash: 1 - distinct / all (0 without hashes)
            (lit(1.0)
                - col("answer_hash")
                    .drop_nulls()
                    .n_unique()
                    .cast(DataType::Float64)
                    / col("answer_hash").count().cast(DataType::Float64))
            .fill_nan(lit(0.0))
            .alias("same_answer_share"),
            (len().cast(DataType::Float64)
                / (col("evaluators").max() * (col("duration_min").max() / lit(60.0))))
            .alias("candidates_per_evaluator_hour"),
            col("duration_min").max(),
        ])
        .join(
            top_share,
            [col("sitting")],
            [col("sitting")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(
            (col("top_k").cast(DataType::Float64) / col("candidates").cast(DataType::Float64))
                .alias("top_institution_share"),
        )
        .select(output(
            [
                col("sitting"),
                col("evaluation_org_id"),
                col("peer_group"),
                col("candidates"),
            ],
            SITTING_FEATURES,
        ))
        .sort(["sitting"], Default::default())
        .collect()?;
    Ok(out)
}
