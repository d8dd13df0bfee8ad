//! Who holds a blob checkpoint's lease: host, process and start time, kept in the blob's
//! metadata so a second runner can name the holder.

use std::collections::HashMap;

/// Metadata key of the holder note.
pub(crate) const HOLDER_KEY: &str = "twinup_holder";
/// Metadata key saying why a snapshot was taken.
pub(crate) const REASON_KEY: &str = "twinup_reason";

/// The note describing this process: `host H, process P, since T`.
pub(crate) fn this_process() -> String {
    format!(
        "host {}, process {}, since {}",
        host_name(),
        std::process::id(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
    )
}

/// Metadata naming the holder.
pub(crate) fn metadata(holder: &str) -> HashMap<String, String> {
    HashMap::from([(HOLDER_KEY.to_string(), holder.to_string())])
}

/// The holder named in `metadata`, if any.
pub(crate) fn from_metadata(metadata: &HashMap<String, String>) -> Option<String> {
    metadata
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(HOLDER_KEY))
        .map(|(_, v)| v.clone())
        .filter(|v| !v.trim().is_empty())
}

/// This machine's name (metadata values are HTTP headers: printable ASCII only).
fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    if clean.is_empty() {
        "unknown".to_string()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_host_process_and_time_and_round_trips() {
        let note = this_process();
        assert!(note.contains(&format!("process {}", std::process::id())));
        assert!(note.starts_with("host ") && note.ends_with("UTC"));
        assert!(note.is_ascii());
        let mut upper = HashMap::new();
        upper.insert("TWINUP_HOLDER".to_string(), note.clone());
        assert_eq!(from_metadata(&upper), Some(note));
        assert_eq!(from_metadata(&HashMap::new()), None);
    }
}
