//! "Did you mean" suggestions for names.

/// The candidate closest to `wanted`, if it is close enough to be a plausible typo.
pub fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = wanted.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&w, &c.to_lowercase()), c))
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names_only() {
        let cands = ["claim_id", "person_id", "scheme"];
        assert_eq!(super::nearest("claimid", cands), Some("claim_id"));
        assert_eq!(super::nearest("CLAIM_ID ", cands), Some("claim_id"));
        assert_eq!(super::nearest("zzz", cands), None);
    }
}
