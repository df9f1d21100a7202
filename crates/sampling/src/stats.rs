//! The distributions audit sampling needs, written out so that every figure can be re-derived
//! by hand: the gamma quantile (MUS confidence factors) and the standard normal quantile
//! (stratified and random estimates).

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-14).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), for a > 0, x ≥ 0:
/// the series below a + 1, the continued fraction (modified Lentz) above.
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let lead = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut sum, mut term, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        (sum.ln() + lead).exp().min(1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (1.0 - (lead.exp() * h)).max(0.0)
    }
}

/// The `p` quantile of the gamma distribution with shape `a` and scale 1: the x with
/// P(a, x) = p, by bisection to 1e-12 relative (monotone, so it cannot miss).
///
/// With `a = k + 1` this is the Poisson upper-limit factor for k misstatements at confidence
/// `p` (AICPA's confidence factors: 3.00, 4.75, 6.30 … at 95 %), and with a fractional shape
/// it gives the sample-size factor for an expected sum of taints (AICPA's sample-size table).
pub fn gamma_quantile(a: f64, p: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, a.max(1.0));
    while gamma_p(a, hi) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if gamma_p(a, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The Poisson upper-limit factor for `k` misstatements at `confidence`: the mean number of
/// misstatements that would show `k` or fewer only with probability 1 − confidence.
pub fn upper_limit_factor(k: usize, confidence: f64) -> f64 {
    gamma_quantile(k as f64 + 1.0, confidence)
}

/// The standard normal distribution function Φ(x), through erfc = Q(½, x²/2 · 2).
pub fn normal_cdf(x: f64) -> f64 {
    // Φ(x) = ½ erfc(−x/√2), and erfc(y) = 1 − P(½, y²) for y ≥ 0
    let y = x / std::f64::consts::SQRT_2;
    let erf_abs = gamma_p(0.5, y * y);
    if x >= 0.0 {
        0.5 * (1.0 + erf_abs)
    } else {
        0.5 * (1.0 - erf_abs)
    }
}

/// The `p` quantile of the standard normal distribution (bisection on Φ to 1e-12).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0_f64, 40.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_quantiles_match_known_values() {
        // chi-square(2, 0.95) / 2 = −ln 0.05
        assert!((upper_limit_factor(0, 0.95) - 2.995_732_273_553_991).abs() < 1e-9);
        // −ln 0.10 = ln 10
        assert!((upper_limit_factor(0, 0.90) - std::f64::consts::LN_10).abs() < 1e-9);
        // chi-square(4, 0.95) / 2 = 4.743864518…
        assert!((upper_limit_factor(1, 0.95) - 4.743_864_518_390_577).abs() < 1e-8);
        assert!((upper_limit_factor(5, 0.95) - 10.513_034_908_741_535).abs() < 1e-8);
    }

    #[test]
    fn normal_quantiles_match_known_values() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-8);
        assert!((normal_quantile(0.95) - 1.644_853_626_951_472_7).abs() < 1e-8);
        assert!(normal_quantile(0.5).abs() < 1e-9);
        assert!((normal_cdf(-1.0) - 0.158_655_253_931_457_05).abs() < 1e-10);
    }
}
