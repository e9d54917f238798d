//! Order statistics over a handful of samples: median, p10, p90 (nearest rank), min, max.

/// A summary of samples, in the samples' unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
    pub min: f64,
    pub max: f64,
}

/// The nearest-rank percentile `p` (0..=100) of sorted, non-empty `v`.
fn nearest_rank(v: &[f64], p: usize) -> f64 {
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank.min(v.len()) - 1]
}

/// Summarize `samples`; `None` when there are none.
pub fn summarize(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    };
    Some(Summary {
        n,
        median,
        p10: nearest_rank(&v, 10),
        p90: nearest_rank(&v, 90),
        min: v[0],
        max: v[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread_of_ten() {
        let s = summarize(&[10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0]).unwrap();
        assert!((s.median - 5.5).abs() < 1e-9);
        assert!((s.p10 - 1.0).abs() < 1e-9);
        assert!((s.p90 - 9.0).abs() < 1e-9);
        assert!((s.min - 1.0).abs() < 1e-9 && (s.max - 10.0).abs() < 1e-9);
    }

    #[test]
    fn odd_count_and_single_sample() {
        let s = summarize(&[3.0, 1.0, 2.0]).unwrap();
        assert!((s.median - 2.0).abs() < 1e-9);
        let one = summarize(&[4.0]).unwrap();
        assert!((one.p10 - 4.0).abs() < 1e-9 && (one.p90 - 4.0).abs() < 1e-9);
        assert!(summarize(&[]).is_none());
    }
}
