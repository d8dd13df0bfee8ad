//! A client-side rate limiter shared by every request of a run: it reads ARM's
//! `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` headers and, when a bucket is
//! nearly empty, delays the next request of that kind so that the server does not have to throttle.

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;

/// Which ARM bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Start pausing when a bucket reports this many or fewer remaining requests.
    pub low_water: u32,
    /// Pause before a request when its bucket is at or below `low_water` (ARM refills 10-25/s).
    pub pause: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            low_water: 10,
            pause: Duration::from_secs(1),
        }
    }
}

/// The shared limiter: one per [`HttpClient`](super::HttpClient), cloned by `Arc`.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    remaining: Mutex<[Option<u32>; 3]>,
}

impl RateLimiter {
    /// A limiter with the given tuning.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            remaining: Mutex::new([None; 3]),
        }
    }

    /// Records the remaining-requests header of a response, if present.
    pub fn observe(&self, bucket: Bucket, headers: &HeaderMap) {
        let Some(value) = headers
            .get(bucket.header())
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok())
        else {
            return;
        };
        if let Ok(mut state) = self.remaining.lock() {
            state[bucket.index()] = Some(value);
        }
    }

    /// How long to wait before sending a request from `bucket`. Consumes the low reading so
    /// that the next response decides again.
    pub fn delay_before(&self, bucket: Bucket) -> Duration {
        let Ok(mut state) = self.remaining.lock() else {
            return Duration::ZERO;
        };
        let slot = &mut state[bucket.index()];
        let delay = pause_for(*slot, &self.config);
        if !delay.is_zero() {
            *slot = None;
        }
        delay
    }
}

/// The pause for a bucket with `remaining` requests left.
pub fn pause_for(remaining: Option<u32>, config: &RateLimitConfig) -> Duration {
    match remaining {
        Some(left) if left <= config.low_water => config.pause,
        _ => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    #[test]
    fn low_bucket_pauses_once_then_waits_for_a_new_reading() {
        let l = RateLimiter::new(RateLimitConfig::default());
        assert_eq!(l.delay_before(Bucket::Writes), Duration::ZERO);
        l.observe(
            Bucket::Writes,
            &headers("x-ms-ratelimit-remaining-subscription-writes", "3"),
        );
        assert_eq!(l.delay_before(Bucket::Reads), Duration::ZERO);
        assert_eq!(l.delay_before(Bucket::Writes), Duration::from_secs(1));
        assert_eq!(l.delay_before(Bucket::Writes), Duration::ZERO);
    }

    #[test]
    fn healthy_or_malformed_readings_do_not_pause() {
        let l = RateLimiter::new(RateLimitConfig::default());
        l.observe(
            Bucket::Reads,
            &headers("x-ms-ratelimit-remaining-subscription-reads", "11999"),
        );
        assert_eq!(l.delay_before(Bucket::Reads), Duration::ZERO);
        l.observe(
            Bucket::Reads,
            &headers("x-ms-ratelimit-remaining-subscription-reads", "lots"),
        );
        assert_eq!(l.delay_before(Bucket::Reads), Duration::ZERO);
    }

    #[test]
    fn methods_map_to_buckets() {
        assert_eq!(Bucket::of(&reqwest::Method::GET), Bucket::Reads);
        assert_eq!(Bucket::of(&reqwest::Method::PUT), Bucket::Writes);
        assert_eq!(Bucket::of(&reqwest::Method::POST), Bucket::Writes);
        assert_eq!(Bucket::of(&reqwest::Method::DELETE), Bucket::Deletes);
    }
}
