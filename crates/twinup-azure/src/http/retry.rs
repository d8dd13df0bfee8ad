//! Retry decisions for HTTP requests: which outcomes are retried, how long to wait
//! (`retry-after-ms`, then `Retry-After`, else exponential backoff with jitter), and when to stop.
//! Everything here is a pure function so it can be tested without sleeping.

use std::time::Duration;

/// How requests are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first (at least 1).
    pub max_attempts: u32,
    /// Backoff before the second attempt when the server gives no hint; doubles each attempt.
    pub base_delay: Duration,
    /// Upper bound of the computed exponential backoff.
    pub max_backoff: Duration,
    /// Upper bound of a server-requested delay (`Retry-After`); larger values are cut to this.
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(800),
            max_backoff: Duration::from_secs(30),
            max_server_delay: Duration::from_secs(60),
        }
    }
}

/// What happened to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status; `server_delay` is its parsed retry hint.
    Status {
        /// HTTP status code.
        status: u16,
        /// Delay the server asked for, if any.
        server_delay: Option<Duration>,
    },
    /// No response: connection refused/reset, timeout, TLS failure.
    Transport,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Hand the result to the caller.
    Stop,
    /// Wait this long, then try again.
    RetryAfter(Duration),
}

/// True for statuses worth retrying: throttling and transient server errors.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Parses the server's retry hint: `retry-after-ms` (milliseconds) first, then `Retry-After`
/// (integer seconds). Missing or malformed values (including HTTP dates) give `None`.
pub fn parse_server_delay(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(parse_non_negative) {
        return Some(Duration::from_millis(ms));
    }
    retry_after
        .and_then(parse_non_negative)
        .map(|secs| Duration::from_secs(secs.min(u64::MAX / 1000)))
}

fn parse_non_negative(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Digits only: overflow means "huge", which is capped later.
    Some(raw.parse::<u64>().unwrap_or(u64::MAX))
}

/// Exponential backoff for attempt `attempt` (1-based: the delay after the first failure is
/// `base_delay`), capped at `max_backoff` and scaled by `jitter` (clamped to 0.5..=1.0).
pub fn backoff(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let raw = policy.base_delay.saturating_mul(1u32 << exp);
    let capped = raw.min(policy.max_backoff);
    capped.mul_f64(jitter.clamp(0.5, 1.0))
}

/// How many tries fit in `limit` when the first wait is `first` and each wait doubles up to
/// `longest`: the "of N" of the retries of a wait bounded by time rather than by count
/// (directory replication).
pub fn attempts_within(limit: Duration, first: Duration, longest: Duration) -> u32 {
    let (mut attempts, mut waited, mut wait) =
        (1, Duration::ZERO, first.max(Duration::from_millis(1)));
    while waited < limit {
        waited += wait;
        wait = (wait * 2).min(longest);
        attempts += 1;
    }
    attempts
}

/// Decides whether attempt number `attempt` (1-based) is retried and after how long.
pub fn decide(policy: &RetryPolicy, attempt: u32, outcome: Outcome, jitter: f64) -> Decision {
    if attempt >= policy.max_attempts.max(1) {
        return Decision::Stop;
    }
    match outcome {
        Outcome::Status { status, .. } if !is_retryable_status(status) => Decision::Stop,
        Outcome::Status {
            server_delay: Some(d),
            ..
        } => Decision::RetryAfter(d.min(policy.max_server_delay)),
        Outcome::Status { .. } | Outcome::Transport => {
            Decision::RetryAfter(backoff(policy, attempt, jitter))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_bounded_by_time_counts_the_tries_that_fit_in_it() {
        let s = Duration::from_secs;
        // Waits 1, 2, 4, 8, then 15 s seven times: 120 s after eleven waits, twelve tries.
        assert_eq!(attempts_within(s(120), s(1), s(15)), 12);
        assert_eq!(attempts_within(s(0), s(1), s(15)), 1);
        assert_eq!(attempts_within(s(1), s(5), s(30)), 2);
    }

    fn status(status: u16, server_delay: Option<Duration>) -> Outcome {
        Outcome::Status {
            status,
            server_delay,
        }
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        assert_eq!(
            parse_server_delay(Some("250"), Some("7")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_server_delay(None, Some("7")),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_server_delay(Some("bad"), Some(" 3 ")),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn malformed_retry_after_is_ignored() {
        for raw in ["", "-1", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", "abc"] {
            assert_eq!(parse_server_delay(None, Some(raw)), None, "{raw:?}");
        }
        assert_eq!(parse_server_delay(None, None), None);
    }

    #[test]
    fn huge_retry_after_is_capped() {
        let p = RetryPolicy::default();
        let hint = parse_server_delay(None, Some("99999999999999999999999"));
        assert!(hint.is_some());
        assert_eq!(
            decide(&p, 1, status(429, hint), 1.0),
            Decision::RetryAfter(Duration::from_secs(60))
        );
    }

    #[test]
    fn throttling_and_server_errors_are_retried_client_errors_are_not() {
        let p = RetryPolicy::default();
        for s in [429, 500, 502, 503, 504] {
            assert!(
                matches!(decide(&p, 1, status(s, None), 1.0), Decision::RetryAfter(_)),
                "{s}"
            );
        }
        for s in [200, 201, 204, 400, 401, 403, 404, 409, 501] {
            assert_eq!(decide(&p, 1, status(s, None), 1.0), Decision::Stop, "{s}");
        }
        assert!(matches!(
            decide(&p, 1, Outcome::Transport, 1.0),
            Decision::RetryAfter(_)
        ));
    }

    #[test]
    fn server_hint_is_used_as_given() {
        let p = RetryPolicy::default();
        assert_eq!(
            decide(&p, 2, status(503, Some(Duration::from_secs(2))), 0.5),
            Decision::RetryAfter(Duration::from_secs(2))
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        assert!(matches!(
            decide(&p, 2, status(429, None), 1.0),
            Decision::RetryAfter(_)
        ));
        assert_eq!(decide(&p, 3, status(429, None), 1.0), Decision::Stop);
        assert_eq!(decide(&p, 3, Outcome::Transport, 1.0), Decision::Stop);
    }

    #[test]
    fn backoff_grows_exponentially_with_cap_and_jitter() {
        let p = RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        assert_eq!(backoff(&p, 1, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(&p, 2, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(&p, 3, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(&p, 9, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(&p, 2, 0.5), Duration::from_secs(1));
        // Jitter outside the range is clamped, never producing zero or a longer wait.
        assert_eq!(backoff(&p, 2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(&p, 2, 3.0), Duration::from_secs(2));
        assert_eq!(backoff(&p, u32::MAX, 1.0), Duration::from_secs(10));
    }
}
