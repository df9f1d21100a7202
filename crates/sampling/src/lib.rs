//! Audit sampling of a scan's findings for field verification, and the projection of what the
//! field confirmed back onto the whole (`docs/sampling.md` gives the method, the formulas and
//! the tables they reproduce).
//!
//! The population is a list of [`Unit`]s: the claims to recover (recoveries.csv), or the
//! findings (findings.csv), each with the amount the engine flagged in fen. A unit with no
//! amount cannot carry a monetary projection and stays outside the population (the plan counts
//! it). Three methods draw from it:
//!
//! - [`Method::Mus`]: monetary-unit sampling. The size comes from the AICPA audit-sampling
//!   guide's gamma (Poisson) method, which reproduces its sample-size table; units at or above
//!   the sampling interval are taken with certainty and counted apart; the rest are drawn
//!   systematically from a seeded random start. The evaluation is the AICPA upper misstatement
//!   limit: basic precision, projected misstatement and the incremental allowance.
//! - [`Method::Stratified`]: strata by category, region or party, Neyman allocation, a seeded
//!   draw without replacement in each; the evaluation is the separate ratio estimate of the
//!   misstatement (each stratum's amount times its sample's misstatement ratio) with its normal
//!   confidence interval.
//! - [`Method::Random`]: simple random sampling, the stratified method with one stratum.
//!
//! A *misstatement* here is the part of a flagged amount that fieldwork does not confirm: the
//! sample tests the engine's assertion "these amounts are recoverable". Its upper limit is
//! therefore a lower limit on what is recoverable: "at least ¥X, at 95 % confidence".

#![warn(missing_docs)]

pub mod fieldwork;
pub mod frames;
pub mod mus;
pub mod rng;
pub mod sentence;
pub mod stats;
pub mod stratified;

use serde::{Deserialize, Serialize};

/// How units are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// monetary-unit sampling (probability proportional to the amount)
    Mus,
    /// stratified random sampling with Neyman allocation
    Stratified,
    /// simple random sampling without replacement
    Random,
}

impl Method {
    /// The method as written on the command line and in the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Mus => "mus",
            Method::Stratified => "stratified",
            Method::Random => "random",
        }
    }

    /// Parses a method name.
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "mus" => Some(Method::Mus),
            "stratified" => Some(Method::Stratified),
            "random" => Some(Method::Random),
            _ => None,
        }
    }
}

/// What the population is made of (it words the result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// recoveries.csv: one unit per claim to recover, its amount the amount to recover
    Recoveries,
    /// findings.csv: one unit per finding, its amount the amount at risk
    Findings,
}

impl Source {
    /// The source as written on the command line and in the plan.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Recoveries => "recoveries",
            Source::Findings => "findings",
        }
    }

    /// What one unit of it is, as sample.csv's `unit_kind` writes it.
    pub fn unit_kind(self) -> &'static str {
        match self {
            Source::Recoveries => "claim",
            Source::Findings => "finding",
        }
    }
}

/// How the sample size is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// from the tolerable and the expected misstatement, in fen
    Tolerable {
        /// the most the flagged total may overstate what is recoverable
        tolerable: i64,
        /// the overstatement expected
        expected: i64,
    },
    /// this many units (MUS: this many monetary units, hence the interval)
    Fixed(usize),
}

/// The sampling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// the method
    pub method: Method,
    /// what the units are
    pub source: Source,
    /// the confidence level, in (0, 1): 1 − the risk of incorrect acceptance
    pub confidence: f64,
    /// how the size is set
    pub size: Size,
    /// the seed of every random choice
    pub seed: u64,
}

/// One unit of the population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// the claim or finding id; the population is put in this order before drawing, so the
    /// order the rows arrive in does not matter
    pub id: String,
    /// the flagged amount, fen
    pub amount: i64,
    /// the stratum the unit belongs to (stratified sampling; ignored otherwise)
    pub stratum: String,
}

/// Why a sample cannot be drawn or evaluated.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SamplingError {
    /// the confidence is not a probability
    #[error("confidence {0} is not between 0 and 1 (exclusive): give e.g. 0.95")]
    Confidence(f64),
    /// the tolerable misstatement is not positive
    #[error("the tolerable misstatement must be more than ¥0.00")]
    Tolerable,
    /// the expected misstatement leaves no room for sampling risk
    #[error(
        "the expected misstatement {expected} is not below the tolerable misstatement {tolerable}: no sample can show the total is within tolerance"
    )]
    ExpectedNotBelowTolerable {
        /// the expected misstatement, yuan
        expected: String,
        /// the tolerable misstatement, yuan
        tolerable: String,
    },
    /// a negative expected misstatement
    #[error("the expected misstatement cannot be negative")]
    NegativeExpected,
    /// a fixed size of zero
    #[error("a sample size of 0 draws nothing: give --size 1 or more, or --tolerable")]
    ZeroSize,
    /// the results do not match the sample
    #[error("{results} results for a sample of {drawn} units")]
    Results {
        /// results given
        results: usize,
        /// units drawn
        drawn: usize,
    },
}

/// One stratum of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stratum {
    /// the stratum's key (`fake_training`, a region code, a party …; `all` for random; for MUS
    /// `certainty` and `interval`)
    pub key: String,
    /// units in the population
    pub units: usize,
    /// their amount, fen
    pub amount: i64,
    /// the standard deviation of their amounts, fen (the planning proxy; 0 for MUS)
    pub sd: f64,
    /// units drawn from it
    pub drawn: usize,
}

/// The MUS part of a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MusPlan {
    /// the sampling interval, fen (the population amount over the size, rounded down)
    pub interval: i64,
    /// the random start, fen, in 1..=interval
    pub start: i64,
    /// the confidence factor the size rests on (the gamma quantile at the expected sum of taints)
    pub factor: f64,
    /// the expected sum of taints in the sample (size × expected / population amount)
    pub expected_taints: f64,
}

/// The sampling plan: what was asked, what the formulas gave, what was drawn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// the parameters
    pub params: Params,
    /// units in the population (amount above zero)
    pub units: usize,
    /// their amount, fen
    pub amount: i64,
    /// units left out for having no amount
    pub excluded: usize,
    /// the size the formula gave (or the one asked for)
    pub size: usize,
    /// units drawn (MUS: certainty units plus units hit; stratified: at least two per stratum)
    pub drawn: usize,
    /// the strata (MUS: `certainty` and `interval`)
    pub strata: Vec<Stratum>,
    /// the MUS details
    pub mus: Option<MusPlan>,
    /// every unit was drawn: the result is exact, with no sampling risk
    pub census: bool,
}

/// Where a drawn unit came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Selection {
    /// taken with certainty (MUS: amount at or above the interval; a stratum taken whole)
    Certainty,
    /// hit by a monetary point of a MUS interval
    Interval {
        /// the interval's number, from 1
        no: usize,
        /// its first monetary unit, fen (cumulative over the interval part of the population)
        from: i64,
        /// its last monetary unit, fen
        to: i64,
        /// the unit selected
        hit: i64,
    },
    /// drawn at random from its stratum
    Random,
}

/// One drawn unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// its position in the population slice given to [`draw`]
    pub unit: usize,
    /// its stratum (MUS: `certainty` or `interval`)
    pub stratum: String,
    /// how it was selected
    pub selection: Selection,
    /// how many population units it stands for (the inverse of its selection probability)
    pub weight: f64,
}

/// A drawn sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// the plan
    pub plan: Plan,
    /// the units, in selection order
    pub drawn: Vec<Drawn>,
}

impl Params {
    /// Whether the parameters can draw a sample: a confidence in (0, 1), a size above zero, a
    /// tolerable misstatement above zero and an expected one from zero to below it.
    pub fn check(&self) -> Result<(), SamplingError> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(SamplingError::Confidence(self.confidence));
        }
        match self.size {
            Size::Fixed(0) => Err(SamplingError::ZeroSize),
            Size::Tolerable { tolerable, .. } if tolerable <= 0 => Err(SamplingError::Tolerable),
            Size::Tolerable { expected, .. } if expected < 0 => {
                Err(SamplingError::NegativeExpected)
            }
            Size::Tolerable {
                tolerable,
                expected,
            } if expected >= tolerable => Err(SamplingError::ExpectedNotBelowTolerable {
                expected: subsidy_model::money::format_yuan(expected),
                tolerable: subsidy_model::money::format_yuan(tolerable),
            }),
            _ => Ok(()),
        }
    }
}

/// Draws a sample from `population` (amounts in fen).
pub fn draw(population: &[Unit], p: &Params) -> Result<Sample, SamplingError> {
    p.check()?;
    // the population in id order, whatever order it came in
    let mut order: Vec<usize> = (0..population.len())
        .filter(|&i| population[i].amount > 0)
        .collect();
    order.sort_by(|&a, &b| population[a].id.cmp(&population[b].id).then(a.cmp(&b)));
    let excluded = population.len() - order.len();
    match p.method {
        Method::Mus => Ok(mus::draw(population, &order, excluded, p)),
        Method::Stratified | Method::Random => {
            Ok(stratified::draw(population, &order, excluded, p))
        }
    }
}

/// What fieldwork found for one drawn unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// examined: this much of the flagged amount (fen) is confirmed (0 for a dismissal)
    Confirmed(i64),
    /// not examined, or still under investigation: counted as not confirmed at all, the
    /// reading that cannot overstate what is recoverable
    NotExamined,
}

/// The projection of fieldwork onto the population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// the method
    pub method: Method,
    /// what the units are
    pub source: Source,
    /// the confidence level
    pub confidence: f64,
    /// the population amount, fen
    pub population_amount: i64,
    /// units in the population
    pub population_units: usize,
    /// units drawn
    pub drawn: usize,
    /// drawn units confirmed in full
    pub confirmed_in_full: usize,
    /// drawn units confirmed in part
    pub confirmed_in_part: usize,
    /// drawn units dismissed (nothing confirmed)
    pub dismissed: usize,
    /// drawn units without a result (counted as dismissed)
    pub not_examined: usize,
    /// drawn units whose confirmed amount exceeded the flagged amount (counted at the flagged
    /// amount)
    pub capped: usize,
    /// the amount confirmed in the sample, fen
    pub sample_confirmed: i64,
    /// the amount drawn, fen
    pub sample_amount: i64,
    /// the projected misstatement (unconfirmed part) of the population, fen
    pub projected_misstatement: i64,
    /// its upper limit at the confidence level, fen
    pub upper_misstatement_limit: i64,
    /// the point estimate of what is recoverable, fen
    pub confirmed_estimate: i64,
    /// what is recoverable at least, at the confidence level (one-sided), fen
    pub confirmed_lower_limit: i64,
    /// the two-sided confidence interval of what is recoverable, fen (stratified and random)
    pub confirmed_interval: Option<(i64, i64)>,
    /// the MUS limit's parts, fen
    pub mus: Option<MusLimit>,
    /// the standard error of the estimate, fen (stratified and random)
    pub standard_error: Option<f64>,
    /// the tolerable misstatement, when the size came from it, and whether the upper limit is
    /// within it
    pub within_tolerable: Option<bool>,
    /// every unit was examined: no sampling risk
    pub census: bool,
    /// what the reader should know before quoting the result
    pub caveats: Vec<sentence::Caveat>,
}

/// The parts of the MUS upper misstatement limit, fen.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MusLimit {
    /// the misstatement found among units taken with certainty (not projected)
    pub certainty_misstatement: i64,
    /// basic precision: the confidence factor for no misstatement × the interval
    pub basic_precision: f64,
    /// projected misstatement of the interval part: Σ taint × interval
    pub projected: f64,
    /// the incremental allowance for sampling risk: Σ (factor step − 1) × taint × interval,
    /// taints in descending order
    pub incremental_allowance: f64,
    /// misstatements found in the interval part
    pub misstatements: usize,
}

/// Projects what fieldwork found (`results[i]` for `sample.drawn[i]`) onto the population.
pub fn evaluate(
    population: &[Unit],
    sample: &Sample,
    results: &[Verified],
) -> Result<Evaluation, SamplingError> {
    if results.len() != sample.drawn.len() {
        return Err(SamplingError::Results {
            results: results.len(),
            drawn: sample.drawn.len(),
        });
    }
    let plan = &sample.plan;
    let mut e = Evaluation {
        method: plan.params.method,
        source: plan.params.source,
        confidence: plan.params.confidence,
        population_amount: plan.amount,
        population_units: plan.units,
        drawn: sample.drawn.len(),
        confirmed_in_full: 0,
        confirmed_in_part: 0,
        dismissed: 0,
        not_examined: 0,
        capped: 0,
        sample_confirmed: 0,
        sample_amount: 0,
        projected_misstatement: 0,
        upper_misstatement_limit: 0,
        confirmed_estimate: 0,
        confirmed_lower_limit: 0,
        confirmed_interval: None,
        mus: None,
        standard_error: None,
        within_tolerable: None,
        census: plan.census,
        caveats: Vec::new(),
    };
    // each drawn unit's unconfirmed part, fen
    let mut misstated = Vec::with_capacity(results.len());
    for (d, r) in sample.drawn.iter().zip(results) {
        let amount = population[d.unit].amount;
        let confirmed = match *r {
            Verified::NotExamined => {
                e.not_examined += 1;
                0
            }
            Verified::Confirmed(c) => {
                if c > amount {
                    e.capped += 1;
                }
                let c = c.clamp(0, amount);
                if c == amount {
                    e.confirmed_in_full += 1;
                } else if c == 0 {
                    e.dismissed += 1;
                } else {
                    e.confirmed_in_part += 1;
                }
                c
            }
        };
        e.sample_amount += amount;
        e.sample_confirmed += confirmed;
        misstated.push(amount - confirmed);
    }
    match plan.params.method {
        Method::Mus => mus::evaluate(population, sample, &misstated, &mut e),
        Method::Stratified | Method::Random => {
            stratified::evaluate(population, sample, &misstated, &mut e)
        }
    }
    if let Size::Tolerable { tolerable, .. } = plan.params.size {
        e.within_tolerable = Some(e.upper_misstatement_limit <= tolerable);
    }
    if e.not_examined > 0 {
        e.caveats
            .push(sentence::Caveat::NotExamined(e.not_examined));
    }
    if e.capped > 0 {
        e.caveats.push(sentence::Caveat::Capped(e.capped));
    }
    Ok(e)
}
