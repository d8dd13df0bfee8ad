//! The client-side rate limiter every request of a run goes through. ARM throttles each
//! subscription with token buckets (reads, writes, deletes) and reports what is left in
//! `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`. The limiter keeps a model of
//! each bucket per host: it starts from the reported remaining count, refills it at ARM's
//! documented rate, takes one token per request and makes a request wait when none is left, so
//! many concurrent steps share the budget instead of each one running into 429s and retrying on
//! its own. A 429's `Retry-After` pauses the whole bucket (every task) until then, at most
//! `max_pause` (60 s): a server asking for a day does not stall the run silently.
//!
//! Waiters are served first come, first served: a request that waits for a token queues behind
//! those that asked earlier, so the steps that started first (in a fleet, the long-running
//! creates) are not overtaken by later ones and the run does not end on a tail of late starts.
//!
//! Hosts that send no remaining-count header (Graph, the token endpoint) are never delayed,
//! except after a 429 from them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Which ARM bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// GET and HEAD.
    Reads,
    /// PUT, POST and PATCH.
    Writes,
    /// DELETE.
    Deletes,
}

impl Bucket {
    /// The bucket of an HTTP method.
    pub fn of(method: &reqwest::Method) -> Bucket {
        match *method {
            reqwest::Method::GET | reqwest::Method::HEAD => Bucket::Reads,
            reqwest::Method::DELETE => Bucket::Deletes,
            _ => Bucket::Writes,
        }
    }

    fn header(self) -> &'static str {
        match self {
            Bucket::Reads => "x-ms-ratelimit-remaining-subscription-reads",
            Bucket::Writes => "x-ms-ratelimit-remaining-subscription-writes",
            Bucket::Deletes => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Tuning of the limiter.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitConfig {
    /// Tokens per second each bucket regains: reads, writes, deletes. ARM's subscription
    /// buckets refill 25 reads, 10 writes and 10 deletes per second.
    pub refill_per_second: [f64; 3],
    /// Pause after a 429 that names no `Retry-After`.
    pub default_pause: Duration,
    /// The longest pause a 429 can impose (a larger `Retry-After` is cut to this).
    pub max_pause: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            refill_per_second: [25.0, 10.0, 10.0],
            default_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(60),
        }
    }
}

/// What the limiter believes about one bucket of one host.
#[derive(Debug, Clone, Default)]
struct BucketModel {
    /// Tokens left; `None` until the server has reported a count (then nothing is limited).
    tokens: Option<f64>,
    /// The largest count the server reported (the bucket never refills above it).
    capacity: f64,
    /// When `tokens` was last brought up to date.
    at: Option<Instant>,
    /// No request is sent before this instant (set by a 429).
    paused_until: Option<Instant>,
}

/// The line of callers waiting for one bucket's tokens.
type Queue = Arc<tokio::sync::Mutex<()>>;

/// The shared limiter: one per [`HttpClient`](super::HttpClient), shared by `Arc`.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<(String, Bucket), BucketModel>>,
    /// One queue per host and bucket: tokio's mutex hands itself over in the order it was
    /// asked for, which makes waiting for a token first come, first served.
    queues: Mutex<HashMap<(String, Bucket), Queue>>,
}

impl RateLimiter {
    /// A limiter with the given tuning.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
            queues: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` from `bucket` may be sent, and takes its token. Callers
    /// that have to wait are served in the order they called.
    pub async fn acquire(&self, host: &str, bucket: Bucket) {
        if self.reserve_if_free(host, bucket) {
            return;
        }
        let queue = self.queue(host, bucket);
        let _turn = queue.lock().await;
        loop {
            let wait = self.reserve(host, bucket, Instant::now());
            if wait.is_zero() {
                return;
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                ?bucket,
                "rate limit: waiting for a token"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes a token without waiting when nobody is queued for this bucket and one is there.
    fn reserve_if_free(&self, host: &str, bucket: Bucket) -> bool {
        let queue = self.queue(host, bucket);
        let Ok(_turn) = queue.try_lock() else {
            return false;
        };
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        let Some(model) = buckets.get_mut(&(host.to_string(), bucket)) else {
            return true;
        };
        if model.paused_until.is_some_and(|until| until > now) {
            return false;
        }
        let rate = self.config.refill_per_second[bucket.index()].max(0.001);
        match refilled(model, rate, now) {
            None => true,
            Some(tokens) if tokens >= 1.0 => {
                model.tokens = Some(tokens - 1.0);
                true
            }
            Some(tokens) => {
                model.tokens = Some(tokens);
                false
            }
        }
    }

    fn queue(&self, host: &str, bucket: Bucket) -> Queue {
        match self.queues.lock() {
            Ok(mut queues) => queues
                .entry((host.to_string(), bucket))
                .or_default()
                .clone(),
            Err(_) => Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Takes a token at `now` and returns zero, or returns how long to wait before asking again.
    pub fn reserve(&self, host: &str, bucket: Bucket, now: Instant) -> Duration {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Duration::ZERO;
        };
        let Some(model) = buckets.get_mut(&(host.to_string(), bucket)) else {
            return Duration::ZERO;
        };
        if let Some(until) = model.paused_until {
            if until > now {
                return until - now;
            }
            model.paused_until = None;
        }
        let rate = self.config.refill_per_second[bucket.index()].max(0.001);
        let Some(tokens) = refilled(model, rate, now) else {
            return Duration::ZERO;
        };
        if tokens >= 1.0 {
            model.tokens = Some(tokens - 1.0);
            Duration::ZERO
        } else {
            model.tokens = Some(tokens);
            Duration::from_secs_f64((1.0 - tokens) / rate).max(Duration::from_millis(1))
        }
    }

    /// Records the remaining-requests header of a response from `host`, if present. The model
    /// keeps the lower of its own count and the server's (other clients share the bucket too).
    pub fn observe(&self, host: &str, bucket: Bucket, headers: &HeaderMap, now: Instant) {
        let Some(remaining) = headers
            .get(bucket.header())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
        else {
            return;
        };
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        let model = buckets.entry((host.to_string(), bucket)).or_default();
        let rate = self.config.refill_per_second[bucket.index()].max(0.001);
        let remaining = f64::from(remaining);
        model.capacity = model.capacity.max(remaining);
        let estimate = refilled(model, rate, now).unwrap_or(remaining);
        model.tokens = Some(estimate.min(remaining));
        model.at = Some(now);
    }

    /// Records a 429: no request from `bucket` to `host` is sent for `retry_after` (or the
    /// default pause), and the bucket is taken as empty.
    pub fn throttled(
        &self,
        host: &str,
        bucket: Bucket,
        retry_after: Option<Duration>,
        now: Instant,
    ) {
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        let model = buckets.entry((host.to_string(), bucket)).or_default();
        let pause = retry_after
            .unwrap_or(self.config.default_pause)
            .min(self.config.max_pause);
        let until = now + pause;
        model.paused_until = Some(model.paused_until.map_or(until, |u| u.max(until)));
        if model.tokens.is_some() {
            model.tokens = Some(0.0);
            model.at = Some(until);
        }
    }
}

/// The bucket's tokens at `now` after refilling at `rate` since the last update (and records
/// `now` as the update time); `None` when the server never reported a count.
fn refilled(model: &mut BucketModel, rate: f64, now: Instant) -> Option<f64> {
    let tokens = model.tokens?;
    let since = model
        .at
        .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
    model.at = Some(now.max(model.at.unwrap_or(now)));
    Some((tokens + since.as_secs_f64() * rate).min(model.capacity.max(1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "management.azure.com";

    fn remaining(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    fn writes(value: &str) -> HeaderMap {
        remaining("x-ms-ratelimit-remaining-subscription-writes", value)
    }

    #[test]
    fn without_a_reported_count_nothing_waits() {
        let l = RateLimiter::new(RateLimitConfig::default());
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(l.reserve(HOST, Bucket::Writes, now), Duration::ZERO);
        }
    }

    #[test]
    fn an_empty_bucket_paces_requests_at_the_refill_rate() {
        let l = RateLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        l.observe(HOST, Bucket::Writes, &writes("2"), t0);
        assert_eq!(l.reserve(HOST, Bucket::Writes, t0), Duration::ZERO);
        assert_eq!(l.reserve(HOST, Bucket::Writes, t0), Duration::ZERO);
        // Empty: the next token comes after 1/10 s at 10 writes per second.
        let wait = l.reserve(HOST, Bucket::Writes, t0);
        assert_eq!(wait, Duration::from_millis(100));
        // Reads and other hosts are separate buckets.
        assert_eq!(l.reserve(HOST, Bucket::Reads, t0), Duration::ZERO);
        assert_eq!(l.reserve("graph", Bucket::Writes, t0), Duration::ZERO);
        // After the wait exactly one request goes, the next waits again.
        let t1 = t0 + wait;
        assert_eq!(l.reserve(HOST, Bucket::Writes, t1), Duration::ZERO);
        assert!(l.reserve(HOST, Bucket::Writes, t1) > Duration::ZERO);
        // Over 2 s, 20 requests go through and no more.
        let t2 = t1 + Duration::from_secs(2);
        let sent = (0..100)
            .filter(|_| l.reserve(HOST, Bucket::Writes, t2).is_zero())
            .count();
        assert_eq!(sent, 2, "refill is capped at the largest count seen");
    }

    #[test]
    fn the_lower_of_model_and_server_count_wins() {
        let l = RateLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        l.observe(HOST, Bucket::Writes, &writes("100"), t0);
        // Another client used most of the bucket.
        l.observe(HOST, Bucket::Writes, &writes("1"), t0);
        assert_eq!(l.reserve(HOST, Bucket::Writes, t0), Duration::ZERO);
        assert!(l.reserve(HOST, Bucket::Writes, t0) > Duration::ZERO);
        // A stale, higher count does not refill the model.
        l.observe(HOST, Bucket::Writes, &writes("50"), t0);
        assert!(l.reserve(HOST, Bucket::Writes, t0) > Duration::ZERO);
    }

    #[test]
    fn a_429_pauses_the_whole_bucket_for_retry_after() {
        let l = RateLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        l.throttled(HOST, Bucket::Reads, Some(Duration::from_secs(3)), t0);
        assert_eq!(l.reserve(HOST, Bucket::Reads, t0), Duration::from_secs(3));
        assert_eq!(
            l.reserve(HOST, Bucket::Reads, t0 + Duration::from_secs(1)),
            Duration::from_secs(2)
        );
        assert_eq!(l.reserve(HOST, Bucket::Writes, t0), Duration::ZERO);
        assert_eq!(
            l.reserve(HOST, Bucket::Reads, t0 + Duration::from_secs(3)),
            Duration::ZERO
        );
    }

    #[test]
    fn a_huge_retry_after_pauses_at_most_max_pause() {
        let l = RateLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        l.throttled(HOST, Bucket::Writes, Some(Duration::from_secs(100_000)), t0);
        assert_eq!(l.reserve(HOST, Bucket::Writes, t0), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_caller_does_not_overtake_those_already_waiting() {
        let l = RateLimiter::new(RateLimitConfig::default());
        l.observe(HOST, Bucket::Writes, &writes("2"), Instant::now());
        assert!(
            l.reserve_if_free(HOST, Bucket::Writes),
            "a free token is taken at once"
        );
        // Someone is queued for the bucket: the token left goes to them, not to a newcomer.
        let queue = l.queue(HOST, Bucket::Writes);
        let waiting = queue.lock().await;
        assert!(!l.reserve_if_free(HOST, Bucket::Writes));
        drop(waiting);
        assert!(l.reserve_if_free(HOST, Bucket::Writes));
        // Empty now: the next caller waits.
        assert!(!l.reserve_if_free(HOST, Bucket::Writes));
        // Other buckets have their own queue.
        assert!(l.reserve_if_free(HOST, Bucket::Reads));
    }

    #[tokio::test]
    async fn queued_callers_are_served_in_order() {
        let config = RateLimitConfig {
            refill_per_second: [1000.0, 1000.0, 1000.0],
            ..RateLimitConfig::default()
        };
        let l = Arc::new(RateLimiter::new(config));
        l.observe(HOST, Bucket::Writes, &writes("0"), Instant::now());
        let served = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (l, served) = (l.clone(), served.clone());
            tasks.push(tokio::spawn(async move {
                l.acquire(HOST, Bucket::Writes).await;
                served.lock().unwrap().push(i);
            }));
            // Let the task reach its place in the queue before the next one starts.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*served.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn malformed_counts_are_ignored() {
        let l = RateLimiter::new(RateLimitConfig::default());
        let t0 = Instant::now();
        l.observe(HOST, Bucket::Writes, &writes("lots"), t0);
        for _ in 0..100 {
            assert_eq!(l.reserve(HOST, Bucket::Writes, t0), Duration::ZERO);
        }
    }

    #[test]
    fn methods_map_to_buckets() {
        assert_eq!(Bucket::of(&reqwest::Method::GET), Bucket::Reads);
        assert_eq!(Bucket::of(&reqwest::Method::PUT), Bucket::Writes);
        assert_eq!(Bucket::of(&reqwest::Method::POST), Bucket::Writes);
        assert_eq!(Bucket::of(&reqwest::Method::DELETE), Bucket::Deletes);
    }
}
