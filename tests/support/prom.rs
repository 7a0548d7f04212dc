//! Reading a Prometheus text exposition (a `/metrics` scrape): metric names and series values.

/// Metric names in a scrape (series and `# TYPE` lines), `_bucket`/`_sum`/`_count` stripped.
pub fn exported_names(scrape: &str) -> std::collections::BTreeSet<String> {
    scrape
        .lines()
        .filter_map(|l| match l.strip_prefix("# TYPE ") {
            Some(rest) => rest.split(' ').next(),
            None if l.starts_with('#') || l.trim().is_empty() => None,
            None => l.split(['{', ' ']).next(),
        })
        .map(base_name)
        .collect()
}

/// `name` without a histogram's `_bucket`, `_sum` or `_count` suffix.
pub fn base_name(name: &str) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(b) = name.strip_suffix(suffix) {
            return b.to_owned();
        }
    }
    name.to_owned()
}

/// The value of the series `name{labels...}` whose labels include every one of `labels`.
pub fn value(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.lines().find_map(|l| {
        let (series, v) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{').unwrap_or((series, ""));
        if n != name {
            return None;
        }
        let all = labels
            .iter()
            .all(|(k, val)| rest.contains(&format!("{k}=\"{val}\"")));
        all.then(|| v.parse().ok()).flatten()
    })
}
