//! "Did you mean ...?" suggestions for misspelt keys, kinds, inputs and steps.

/// The candidate closest to `word`, if it is close enough to be a likely typo.
///
/// Exact matches that differ only in case or in `-`/`_` win; otherwise the
/// candidate with the highest Jaro-Winkler similarity of at least 0.8 (ties go
/// to the earlier candidate), or one within a small edit distance.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let normal = normalise(word);
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let c_normal = normalise(candidate);
        let score = if c_normal == normal {
            2.0
        } else {
            let jw = strsim::jaro_winkler(&normal, &c_normal);
            let distance = strsim::damerau_levenshtein(&normal, &c_normal);
            let longest = normal.chars().count().max(c_normal.chars().count());
            let close = distance <= 2 && distance * 3 <= longest;
            if jw >= 0.8 || close { jw.max(0.8) } else { 0.0 }
        };
        if score > 0.0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

fn normalise(word: &str) -> String {
    word.to_lowercase().replace('-', "_")
}

/// A `help` text: "did you mean `x`?" when there is a close candidate,
/// otherwise `fallback`.
pub(crate) fn help_or<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    fallback: impl FnOnce() -> String,
) -> String {
    match did_you_mean(word, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => fallback(),
    }
}

/// Lists names as `` `a`, `b`, `c` `` (or "none").
pub(crate) fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let parts: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_likely_typos() {
        let kinds = [
            "azure.resource_group",
            "azure.digital_twins_instance",
            "azure.role_assignment",
        ];
        assert_eq!(
            did_you_mean("azure.digitl_twins", kinds).as_deref(),
            Some("azure.digital_twins_instance")
        );
        assert_eq!(
            did_you_mean("nme", ["name", "needs"]).as_deref(),
            Some("name")
        );
        assert_eq!(
            did_you_mean("Instance-Name", ["instance_name"]).as_deref(),
            Some("instance_name")
        );
        assert_eq!(
            did_you_mean("timout", ["id", "kind", "timeout"]).as_deref(),
            Some("timeout")
        );
    }

    #[test]
    fn ignores_unrelated_words() {
        assert_eq!(
            did_you_mean("banana", ["id", "kind", "with", "needs"]),
            None
        );
        assert_eq!(did_you_mean("x", ["version", "steps"]), None);
        assert_eq!(did_you_mean("anything", std::iter::empty()), None);
    }
}
