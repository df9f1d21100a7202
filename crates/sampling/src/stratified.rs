//! Stratified and simple random sampling: the size from the tolerable misstatement, Neyman
//! allocation over the strata, a seeded draw without replacement in each, and the separate
//! ratio estimate of the misstatement with its normal confidence interval.

use std::collections::BTreeMap;

use crate::rng::SplitMix64;
use crate::sentence::Caveat;
use crate::stats::normal_quantile;
use crate::{Drawn, Evaluation, Method, Params, Plan, Sample, Selection, Size, Stratum, Unit};

/// Below this many units with a difference, the normal interval understates the uncertainty.
const FEW_DIFFERENCES: usize = 10;

/// The sample size for strata of `(units, sd)` and an allowance for sampling risk of
/// `tolerable − expected` at one-sided `confidence` (Cochran, *Sampling Techniques*, 3rd ed.,
/// eq. 5.26, under Neyman allocation):
///
/// ```text
///   n = (Σ N_h S_h)² / ((A / z)² + Σ N_h S_h²),   A = tolerable − expected,  z = Φ⁻¹(confidence)
/// ```
///
/// S_h, the standard deviation of the misstatements, is not known before fieldwork; the
/// flagged amounts' standard deviation stands in for it (the AICPA guide's planning proxy for
/// classical variables sampling).
pub fn size(strata: &[(usize, f64)], tolerable: i64, expected: i64, confidence: f64) -> usize {
    let z = normal_quantile(confidence);
    let a = (tolerable - expected) as f64;
    let ns: f64 = strata.iter().map(|&(n, s)| n as f64 * s).sum();
    let ns2: f64 = strata.iter().map(|&(n, s)| n as f64 * s * s).sum();
    let n = ns * ns / ((a / z).powi(2) + ns2);
    let total: usize = strata.iter().map(|s| s.0).sum();
    (n.ceil() as usize).min(total)
}

/// Neyman allocation of `n` over strata of `(units, sd)`: n_h ∝ N_h S_h; a stratum whose share
/// reaches its size is taken whole and the rest shared again; the fractions go by largest
/// remainder (ties to the earlier stratum). Strata with no spread share by size. With
/// `at_least_two`, every stratum then gives at least two units (or all it has), so that its
/// variance can be estimated.
pub fn allocate(n: usize, strata: &[(usize, f64)], at_least_two: bool) -> Vec<usize> {
    let h = strata.len();
    let mut alloc = vec![0usize; h];
    let mut whole = vec![false; h];
    let mut left = n.min(strata.iter().map(|s| s.0).sum());
    loop {
        let free: Vec<usize> = (0..h).filter(|&i| !whole[i]).collect();
        if free.is_empty() || left == 0 {
            break;
        }
        let w = |i: usize| strata[i].0 as f64 * strata[i].1;
        let mut total: f64 = free.iter().map(|&i| w(i)).sum();
        let by_size = total <= 0.0;
        if by_size {
            total = free.iter().map(|&i| strata[i].0 as f64).sum();
        }
        let share =
            |i: usize| left as f64 * if by_size { strata[i].0 as f64 } else { w(i) } / total;
        let full: Vec<usize> = free
            .iter()
            .copied()
            .filter(|&i| share(i) >= strata[i].0 as f64)
            .collect();
        if !full.is_empty() {
            for i in full {
                whole[i] = true;
                alloc[i] = strata[i].0;
                left -= strata[i].0;
            }
            continue;
        }
        let mut floor_sum = 0;
        let mut rem: Vec<(f64, usize)> = Vec::new();
        for &i in &free {
            let s = share(i);
            alloc[i] = s.floor() as usize;
            floor_sum += alloc[i];
            rem.push((s - s.floor(), i));
        }
        rem.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, i) in rem.iter().take(left - floor_sum) {
            alloc[i] += 1;
        }
        break;
    }
    if at_least_two {
        for i in 0..h {
            alloc[i] = alloc[i].max(strata[i].0.min(2));
        }
    }
    alloc
}

/// How many amount bands a stratum is cut into.
const BANDS: usize = 3;
/// The equal-width classes the cumulative √f rule works over.
const CLASSES: usize = 32;

/// Each amount's band (0 = smallest), by the cumulative √f rule of Dalenius and Hodges
/// (Cochran, *Sampling Techniques*, 3rd ed., §5A.7): the amounts' range in equal-width
/// classes, the running sum of the square roots of their counts cut into [`BANDS`] equal parts.
/// Large claims, the few that carry most of the variance, fall in a band of their own, which
/// Neyman allocation then samples heavily. Fewer than 2 × BANDS amounts stay in one band.
pub fn bands(amounts: &[i64]) -> Vec<usize> {
    let (Some(&lo), Some(&hi)) = (amounts.iter().min(), amounts.iter().max()) else {
        return Vec::new();
    };
    if amounts.len() < 2 * BANDS || hi == lo {
        return vec![0; amounts.len()];
    }
    let width = (hi - lo) as f64 / CLASSES as f64;
    let class = |a: i64| (((a - lo) as f64 / width) as usize).min(CLASSES - 1);
    let mut count = [0usize; CLASSES];
    for &a in amounts {
        count[class(a)] += 1;
    }
    // the running √f at each class's end; each of the BANDS − 1 cuts goes to the class end
    // nearest its share of the total (Cochran's rule), and cuts that coincide merge
    let mut run = 0.0;
    let ends: Vec<f64> = count
        .iter()
        .map(|&c| {
            run += (c as f64).sqrt();
            run
        })
        .collect();
    let total = run;
    let mut cuts: Vec<usize> = (1..BANDS)
        .map(|j| {
            let target = total * j as f64 / BANDS as f64;
            (0..CLASSES - 1)
                .min_by(|&a, &b| {
                    (ends[a] - target)
                        .abs()
                        .total_cmp(&(ends[b] - target).abs())
                        .then(a.cmp(&b))
                })
                .unwrap_or(0)
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    // a class's band: how many cuts lie before it; then renumber the bands that hold amounts
    let band_of = |k: usize| cuts.iter().filter(|&&c| c < k).count();
    let mut used: Vec<usize> = (0..CLASSES)
        .filter(|&k| count[k] > 0)
        .map(band_of)
        .collect();
    used.dedup();
    amounts
        .iter()
        .map(|&a| {
            used.iter()
                .position(|&b| b == band_of(class(a)))
                .unwrap_or(0)
        })
        .collect()
}

/// The sample standard deviation (n − 1); 0 below two values.
fn sd(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = xs.clone().count();
    if n < 2 {
        return 0.0;
    }
    let mean = xs.clone().sum::<f64>() / n as f64;
    (xs.map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

pub(crate) fn draw(pop: &[Unit], order: &[usize], excluded: usize, p: &Params) -> Sample {
    let one = p.method == Method::Random;
    // strata in key order, units in id order within each; a stratified sample splits each
    // stratum further into amount bands
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in order {
        let key = if one { "all" } else { pop[i].stratum.as_str() };
        groups.entry(key).or_default().push(i);
    }
    let mut by: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (key, units) in groups {
        if one {
            by.insert(key.to_string(), units);
            continue;
        }
        let amounts: Vec<i64> = units.iter().map(|&i| pop[i].amount).collect();
        let band = bands(&amounts);
        for (j, &i) in units.iter().enumerate() {
            by.entry(format!("{key}/{}", band[j] + 1))
                .or_default()
                .push(i);
        }
    }
    let keys: Vec<&str> = by.keys().map(String::as_str).collect();
    let shape: Vec<(usize, f64)> = keys
        .iter()
        .map(|k| {
            let units = &by[*k];
            (units.len(), sd(units.iter().map(|&i| pop[i].amount as f64)))
        })
        .collect();
    let total = order.len();
    let n = match p.size {
        Size::Fixed(n) => n.min(total),
        Size::Tolerable {
            tolerable,
            expected,
        } => size(&shape, tolerable, expected, p.confidence),
    };
    let alloc = if n == 0 {
        vec![0; keys.len()]
    } else {
        allocate(n, &shape, !one)
    };
    let mut rng = SplitMix64::new(p.seed);
    let mut drawn = Vec::new();
    let mut strata = Vec::new();
    for ((k, &(units, s)), &nh) in keys.iter().zip(&shape).zip(&alloc) {
        let mut idx = by[*k].clone();
        // a partial Fisher–Yates shuffle: the first nh places are the draw
        for j in 0..nh {
            let r = j + rng.below((units - j) as u64) as usize;
            idx.swap(j, r);
        }
        let whole = nh == units;
        for &i in &idx[..nh] {
            drawn.push(Drawn {
                unit: i,
                stratum: (*k).to_string(),
                selection: if whole {
                    Selection::Certainty
                } else {
                    Selection::Random
                },
                weight: units as f64 / nh as f64,
            });
        }
        strata.push(Stratum {
            key: (*k).to_string(),
            units,
            amount: by[*k].iter().map(|&i| pop[i].amount).sum(),
            sd: s,
            drawn: nh,
        });
    }
    let plan = Plan {
        params: *p,
        units: total,
        amount: order.iter().map(|&i| pop[i].amount).sum(),
        excluded,
        size: n,
        drawn: drawn.len(),
        census: strata.iter().all(|s| s.drawn == s.units),
        strata,
        mus: None,
    };
    Sample { plan, drawn }
}

pub(crate) fn evaluate(pop: &[Unit], s: &Sample, misstated: &[i64], e: &mut Evaluation) {
    let plan = &s.plan;
    let c = plan.params.confidence;
    let (z1, z2) = (normal_quantile(c), normal_quantile((1.0 + c) / 2.0));
    // each stratum's (amount, misstatement) pairs
    let mut by: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for (d, &x) in s.drawn.iter().zip(misstated) {
        by.entry(d.stratum.as_str())
            .or_default()
            .push((pop[d.unit].amount as f64, x as f64));
    }
    // the separate ratio estimate: each stratum's amount times its sample's misstatement ratio,
    // with the variance of the residuals d − R·a
    let (mut point, mut var) = (0.0, 0.0);
    let mut single = 0;
    for st in &plan.strata {
        let Some(xs) = by.get(st.key.as_str()) else {
            continue;
        };
        let (nh, big) = (xs.len() as f64, st.units as f64);
        let (sa, sd_): (f64, f64) = xs.iter().fold((0.0, 0.0), |(a, d), p| (a + p.0, d + p.1));
        let ratio = if sa > 0.0 { sd_ / sa } else { 0.0 };
        point += st.amount as f64 * ratio;
        if xs.len() >= 2 {
            let s = sd(xs.iter().map(|&(a, d)| d - ratio * a));
            var += big * big * (1.0 - nh / big) * s * s / nh;
        } else if xs.len() < st.units {
            single += 1;
        }
    }
    let differences = misstated.iter().filter(|&&x| x != 0).count();
    let se = var.sqrt();
    let b = plan.amount as f64;
    let clamp = |x: f64| x.clamp(0.0, b);
    e.projected_misstatement = clamp(point).round() as i64;
    e.upper_misstatement_limit = clamp(point + z1 * se).ceil() as i64;
    e.confirmed_estimate = plan.amount - e.projected_misstatement;
    e.confirmed_lower_limit = (plan.amount - e.upper_misstatement_limit).max(0);
    e.confirmed_interval = Some((
        clamp(b - point - z2 * se).floor() as i64,
        clamp(b - point + z2 * se).ceil() as i64,
    ));
    e.standard_error = Some(se);
    if !plan.census && differences < FEW_DIFFERENCES {
        e.caveats.push(Caveat::FewDifferences(differences));
    }
    if single > 0 {
        e.caveats.push(Caveat::SingleUnitStrata(single));
    }
}
