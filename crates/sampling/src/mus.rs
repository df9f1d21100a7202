//! Monetary-unit sampling: the size from the AICPA gamma method, the systematic draw from a
//! seeded start with the certainty stratum apart, and the upper misstatement limit.

use crate::rng::SplitMix64;
use crate::stats::{gamma_quantile, upper_limit_factor};
use crate::{
    Drawn, Evaluation, MusLimit, MusPlan, Params, Plan, Sample, Selection, Size, Stratum, Unit,
};

/// The MUS sample size for a population of `amount`, a `tolerable` and an `expected`
/// misstatement (any one unit, fen) at `confidence`: the least n for which finding the expected
/// misstatement would still leave the upper limit within the tolerable one,
///
/// ```text
///   Γ⁻¹(confidence; 1 + n · expected / amount) ≤ n · tolerable / amount
/// ```
///
/// (the gamma quantile with shape one plus the expected sum of taints). This is how the AICPA
/// audit-sampling guide computes its MUS sample-size table (Stewart, *Technical Notes on the
/// AICPA Audit Guide Audit Sampling*, 2012), and it reproduces the table's entries: 60 at 5 %
/// risk and a tolerable 5 % of the population with none expected, 93 with a fifth of that
/// expected. Returns the size and the factor it rests on.
pub fn size(amount: i64, tolerable: i64, expected: i64, confidence: f64) -> (usize, f64) {
    if amount <= 0 {
        return (0, upper_limit_factor(0, confidence));
    }
    let (pt, pe) = (
        tolerable as f64 / amount as f64,
        expected as f64 / amount as f64,
    );
    let factor = |n: u64| gamma_quantile(1.0 + n as f64 * pe, confidence);
    let ok = |n: u64| factor(n) <= n as f64 * pt;
    // the condition, once met, stays met (the factor grows like n·pe + z√(n·pe), slower than
    // n·pt since pe < pt): double to a size that meets it, then halve the gap
    let mut hi = 1u64;
    while !ok(hi) {
        hi *= 2;
    }
    let mut lo = hi / 2; // fails (or is 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (hi as usize, factor(hi))
}

pub(crate) fn draw(pop: &[Unit], order: &[usize], excluded: usize, p: &Params) -> Sample {
    let amount: i64 = order.iter().map(|&i| pop[i].amount).sum();
    let (n, factor, expected) = match p.size {
        Size::Fixed(n) => (n, upper_limit_factor(0, p.confidence), 0),
        Size::Tolerable {
            tolerable,
            expected,
        } => {
            let (n, f) = size(amount, tolerable, expected, p.confidence);
            (n, f, expected)
        }
    };
    let mut plan = Plan {
        params: *p,
        units: order.len(),
        amount,
        excluded,
        size: n,
        drawn: 0,
        strata: Vec::new(),
        mus: None,
        census: false,
    };
    if n == 0 || amount == 0 {
        plan.census = true;
        return Sample {
            plan,
            drawn: Vec::new(),
        };
    }
    // the interval, rounded down: never fewer points than the size
    let interval = (amount / n as i64).max(1);
    let mut rng = SplitMix64::new(p.seed);
    let start = 1 + rng.below(interval as u64) as i64;
    let (certain, lower): (Vec<usize>, Vec<usize>) =
        order.iter().partition(|&&i| pop[i].amount >= interval);
    let mut drawn: Vec<Drawn> = certain
        .iter()
        .map(|&i| Drawn {
            unit: i,
            stratum: "certainty".into(),
            selection: Selection::Certainty,
            weight: 1.0,
        })
        .collect();
    // the monetary points start, start + interval, … over the interval part's cumulative amount
    let (mut before, mut point, mut k) = (0i64, start, 0usize);
    for &i in &lower {
        let a = pop[i].amount;
        // the unit holds the monetary units before+1 ..= before+a; a < interval, so at most one
        // point falls in it
        if point <= before + a {
            drawn.push(Drawn {
                unit: i,
                stratum: "interval".into(),
                selection: Selection::Interval {
                    no: k + 1,
                    from: k as i64 * interval + 1,
                    to: (k as i64 + 1) * interval,
                    hit: point,
                },
                weight: interval as f64 / a as f64,
            });
            k += 1;
            point += interval;
        }
        before += a;
    }
    let certain_amount: i64 = certain.iter().map(|&i| pop[i].amount).sum();
    plan.strata = vec![
        Stratum {
            key: "certainty".into(),
            units: certain.len(),
            amount: certain_amount,
            sd: 0.0,
            drawn: certain.len(),
        },
        Stratum {
            key: "interval".into(),
            units: lower.len(),
            amount: amount - certain_amount,
            sd: 0.0,
            drawn: k,
        },
    ];
    plan.drawn = drawn.len();
    plan.census = lower.is_empty();
    plan.mus = Some(MusPlan {
        interval,
        start,
        factor,
        expected_taints: n as f64 * expected as f64 / amount as f64,
    });
    Sample { plan, drawn }
}

/// The parts of the upper misstatement limit of the interval part, for `taints` in descending
/// order, an `interval` and the confidence factors `factor(k)` for k misstatements:
///
/// ```text
///   basic precision          = factor(0) · interval
///   projected misstatement   = Σ taint_k · interval
///   incremental allowance    = Σ (factor(k) − factor(k−1) − 1) · taint_k · interval
/// ```
///
/// (the AICPA guide's evaluation; the limit is their sum). The engine passes the exact gamma
/// factors; the guide's table rounds them up to two decimals.
pub fn upper_limit(
    taints: &[f64],
    interval: f64,
    factor: impl Fn(usize) -> f64,
) -> (f64, f64, f64) {
    let bp = factor(0) * interval;
    let (mut pm, mut ia, mut prev) = (0.0, 0.0, factor(0));
    for (k, t) in taints.iter().enumerate() {
        let f = factor(k + 1);
        pm += t * interval;
        ia += (f - prev - 1.0) * t * interval;
        prev = f;
    }
    (bp, pm, ia)
}

pub(crate) fn evaluate(pop: &[Unit], s: &Sample, misstated: &[i64], e: &mut Evaluation) {
    let plan = &s.plan;
    let Some(m) = &plan.mus else {
        // nothing to sample: the population is empty
        return;
    };
    let c = plan.params.confidence;
    let si = m.interval as f64;
    let lower_amount = plan
        .strata
        .iter()
        .find(|st| st.key == "interval")
        .map_or(0, |st| st.amount);
    let mut certainty = 0i64;
    let mut taints = Vec::new();
    for (d, &x) in s.drawn.iter().zip(misstated) {
        match d.selection {
            Selection::Certainty => certainty += x,
            _ => {
                if x > 0 {
                    taints.push(x as f64 / pop[d.unit].amount as f64);
                }
            }
        }
    }
    taints.sort_by(|a, b| b.total_cmp(a));
    let (bp, pm, ia) = if lower_amount > 0 {
        upper_limit(&taints, si, |k| upper_limit_factor(k, c))
    } else {
        // no interval part: nothing was projected, so there is no sampling risk
        (0.0, 0.0, 0.0)
    };
    // the interval part cannot be misstated by more than it holds
    let lower_point = pm.min(lower_amount as f64);
    let lower_limit = (bp + pm + ia).min(lower_amount as f64);
    e.projected_misstatement = certainty + lower_point.round() as i64;
    e.upper_misstatement_limit = certainty + lower_limit.ceil() as i64;
    e.confirmed_estimate = plan.amount - e.projected_misstatement;
    e.confirmed_lower_limit = (plan.amount - e.upper_misstatement_limit).max(0);
    e.mus = Some(MusLimit {
        certainty_misstatement: certainty,
        basic_precision: bp,
        projected: pm,
        incremental_allowance: ia,
        misstatements: taints.len(),
    });
}
