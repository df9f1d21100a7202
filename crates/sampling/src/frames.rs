//! The population from a scan's outputs, and the sample as the `sample.csv` frame.

use std::collections::HashMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use subsidy_model::frame::text_column;
use subsidy_model::vocab::Category;

use crate::{Sample, Selection, Source, Unit};

/// What the strata of a stratified sample are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrataBy {
    /// the finding's category; a claim hit by findings of several categories goes to the first
    /// in the contract's order (fake_training, fake_evaluation, duplicate_claim, over_claim,
    /// ineligible, institution, funds_use)
    Category,
    /// the province of the institution's region code (`330000`), `unknown` without one
    Region,
    /// the responsible party
    Party,
}

impl StrataBy {
    /// The choice as written on the command line and in the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            StrataBy::Category => "category",
            StrataBy::Region => "region",
            StrataBy::Party => "party",
        }
    }
}

/// What a unit is besides its id, amount and stratum: the columns sample.csv shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitInfo {
    /// the findings behind it (`;`-separated; a finding's own id for a finding)
    pub findings: String,
    /// who answers for it
    pub party: String,
    /// the institution involved
    pub institution: Option<String>,
    /// its category (see [`StrataBy::Category`])
    pub category: String,
}

/// The population: units and what they are, position by position.
#[derive(Debug, Clone)]
pub struct Population {
    /// the units
    pub units: Vec<Unit>,
    /// what each is
    pub info: Vec<UnitInfo>,
    /// claims (recoveries) or findings
    pub source: Source,
}

/// The population of `source` from the scan's findings and recoveries (contract columns, money
/// in fen), each unit in the stratum `strata` gives; `region_of` maps an institution to its
/// 6-digit region code.
pub fn population(
    source: Source,
    strata: StrataBy,
    findings: &DataFrame,
    recoveries: &DataFrame,
    region_of: &dyn Fn(&str) -> Option<String>,
) -> PolarsResult<Population> {
    let fid = text_column(findings, "finding_id")?;
    let fcat = text_column(findings, "category")?;
    let category_of: HashMap<&str, Category> = fid
        .iter()
        .zip(fcat.iter())
        .filter_map(|(f, c)| Some((f?, Category::parse(c?)?)))
        .collect();
    let stratum = |category: &str, party: &str, inst: Option<&str>| -> String {
        match strata {
            StrataBy::Category => category.to_string(),
            StrataBy::Party => party.to_string(),
            StrataBy::Region => inst
                .and_then(region_of)
                .filter(|r| r.len() == 6 && r.is_ascii())
                .map_or_else(|| "unknown".to_string(), |r| format!("{}0000", &r[..2])),
        }
    };
    let mut pop = Population {
        units: Vec::new(),
        info: Vec::new(),
        source,
    };
    let (frame, id, amount, ids) = match source {
        Source::Findings => (findings, "finding_id", "amount_at_risk", "finding_id"),
        Source::Recoveries => (recoveries, "claim_id", "recover_amount", "finding_ids"),
    };
    let (uid, party, inst, fids) = (
        text_column(frame, id)?,
        text_column(frame, "responsible_party")?,
        text_column(frame, "institution_id")?,
        text_column(frame, ids)?,
    );
    let amounts = frame.column(amount)?.i64()?.rechunk().into_owned();
    for i in 0..frame.height() {
        let f = fids.get(i).unwrap_or("");
        let category = match source {
            Source::Findings => fcat.get(i).unwrap_or("").to_string(),
            Source::Recoveries => f
                .split(';')
                .filter_map(|x| category_of.get(x))
                .min()
                .map_or("", |c| c.as_str())
                .to_string(),
        };
        let (p, ins) = (
            party.get(i).unwrap_or(""),
            inst.get(i).filter(|s| !s.is_empty()),
        );
        pop.units.push(Unit {
            id: uid.get(i).unwrap_or("").to_string(),
            amount: amounts.get(i).unwrap_or(0),
            stratum: stratum(&category, p, ins),
        });
        pop.info.push(UnitInfo {
            findings: f.to_string(),
            party: p.to_string(),
            institution: ins.map(str::to_string),
            category,
        });
    }
    Ok(pop)
}

/// The sample as `sample.csv` shows it (`subsidy_model::output::SAMPLE`): one row per unit
/// drawn, in selection order, with its stratum or interval and its weight.
pub fn sample_frame(pop: &Population, s: &Sample) -> PolarsResult<DataFrame> {
    let n = s.drawn.len();
    let mut no = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    let mut id = Vec::with_capacity(n);
    let mut fids = Vec::with_capacity(n);
    let mut party = Vec::with_capacity(n);
    let mut inst: Vec<Option<&str>> = Vec::with_capacity(n);
    let mut cat = Vec::with_capacity(n);
    let mut amount = Vec::with_capacity(n);
    let mut stratum = Vec::with_capacity(n);
    let mut sel = Vec::with_capacity(n);
    let mut ino: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut from: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut to: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut hit: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut weight = Vec::with_capacity(n);
    for (k, d) in s.drawn.iter().enumerate() {
        let (u, info) = (&pop.units[d.unit], &pop.info[d.unit]);
        no.push(k as i64 + 1);
        kind.push(pop.source.unit_kind());
        id.push(u.id.as_str());
        fids.push(info.findings.as_str());
        party.push(info.party.as_str());
        inst.push(info.institution.as_deref());
        cat.push(info.category.as_str());
        amount.push(u.amount);
        stratum.push(d.stratum.as_str());
        let (s, i, f, t, h) = match d.selection {
            Selection::Certainty => ("certainty", None, None, None, None),
            Selection::Random => ("random", None, None, None, None),
            Selection::Interval { no, from, to, hit } => {
                ("interval", Some(no as i64), Some(from), Some(to), Some(hit))
            }
        };
        sel.push(s);
        ino.push(i);
        from.push(f);
        to.push(t);
        hit.push(h);
        weight.push(d.weight);
    }
    DataFrame::new_infer_height(vec![
        Column::new("sample_no".into(), no),
        Column::new("unit_kind".into(), kind),
        Column::new("unit_id".into(), id),
        Column::new("finding_ids".into(), fids),
        Column::new("responsible_party".into(), party),
        Column::new("institution_id".into(), inst),
        Column::new("category".into(), cat),
        Column::new("amount".into(), amount),
        Column::new("stratum".into(), stratum),
        Column::new("selection".into(), sel),
        Column::new("interval_no".into(), ino),
        Column::new("interval_from".into(), from),
        Column::new("interval_to".into(), to),
        Column::new("hit_at".into(), hit),
        Column::new("weight".into(), weight),
    ])
}
