//! ARM subscription throttling: token buckets per subscription for reads, writes and deletes
//! (250 refilling 25/s, 200 refilling 10/s, 200 refilling 10/s), enforced only when switched on.

use std::collections::HashMap;
use std::time::Instant;

use serde::Deserialize;

/// The three request classes ARM counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Read,
    Write,
    Delete,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Read => "read",
            Class::Write => "write",
            Class::Delete => "delete",
        }
    }

    pub fn header(self) -> &'static str {
        match self {
            Class::Read => "x-ms-ratelimit-remaining-subscription-reads",
            Class::Write => "x-ms-ratelimit-remaining-subscription-writes",
            Class::Delete => "x-ms-ratelimit-remaining-subscription-deletes",
        }
    }
}

/// Settings posted to `POST /_emulator/throttling`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ThrottleSettings {
    pub enabled: bool,
    #[serde(default)]
    pub read_capacity: Option<f64>,
    #[serde(default)]
    pub read_refill_per_second: Option<f64>,
    #[serde(default)]
    pub write_capacity: Option<f64>,
    #[serde(default)]
    pub write_refill_per_second: Option<f64>,
    #[serde(default)]
    pub delete_capacity: Option<f64>,
    #[serde(default)]
    pub delete_refill_per_second: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    capacity: f64,
    refill: f64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub(crate) struct Throttle {
    enabled: bool,
    limits: HashMap<Class, Limits>,
    buckets: HashMap<(String, Class), Bucket>,
}

/// The outcome of asking for one token.
pub(crate) enum Verdict {
    Allowed { remaining: u64 },
    Throttled { retry_after_secs: u64 },
}

impl Default for Throttle {
    fn default() -> Self {
        let mut limits = HashMap::new();
        limits.insert(
            Class::Read,
            Limits {
                capacity: 250.0,
                refill: 25.0,
            },
        );
        limits.insert(
            Class::Write,
            Limits {
                capacity: 200.0,
                refill: 10.0,
            },
        );
        limits.insert(
            Class::Delete,
            Limits {
                capacity: 200.0,
                refill: 10.0,
            },
        );
        Throttle {
            enabled: false,
            limits,
            buckets: HashMap::new(),
        }
    }
}

impl Throttle {
    pub fn configure(&mut self, s: &ThrottleSettings) {
        *self = Throttle::default();
        self.enabled = s.enabled;
        for (class, cap, refill) in [
            (Class::Read, s.read_capacity, s.read_refill_per_second),
            (Class::Write, s.write_capacity, s.write_refill_per_second),
            (Class::Delete, s.delete_capacity, s.delete_refill_per_second),
        ] {
            if let Some(l) = self.limits.get_mut(&class) {
                if let Some(c) = cap {
                    l.capacity = c.max(0.0);
                }
                if let Some(r) = refill {
                    l.refill = r.max(0.001);
                }
            }
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Takes one token for `subscription` and `class`.
    pub fn take(&mut self, subscription: &str, class: Class) -> Verdict {
        let limits = self.limits[&class];
        if !self.enabled {
            return Verdict::Allowed {
                remaining: limits.capacity as u64,
            };
        }
        let now = Instant::now();
        let bucket = self
            .buckets
            .entry((subscription.to_lowercase(), class))
            .or_insert(Bucket {
                tokens: limits.capacity,
                at: now,
            });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limits.refill).min(limits.capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Verdict::Allowed {
                remaining: bucket.tokens.floor() as u64,
            }
        } else {
            let wait = (1.0 - bucket.tokens) / limits.refill;
            Verdict::Throttled {
                retry_after_secs: wait.ceil().max(1.0) as u64,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_bucket_throttles_and_disabled_never_does() {
        let mut t = Throttle::default();
        for _ in 0..1000 {
            assert!(matches!(t.take("s", Class::Write), Verdict::Allowed { .. }));
        }
        t.configure(&ThrottleSettings {
            enabled: true,
            read_capacity: None,
            read_refill_per_second: None,
            write_capacity: Some(2.0),
            write_refill_per_second: Some(0.01),
            delete_capacity: None,
            delete_refill_per_second: None,
        });
        assert!(matches!(
            t.take("s", Class::Write),
            Verdict::Allowed { remaining: 1 }
        ));
        assert!(matches!(
            t.take("s", Class::Write),
            Verdict::Allowed { remaining: 0 }
        ));
        assert!(
            matches!(t.take("s", Class::Write), Verdict::Throttled { retry_after_secs } if retry_after_secs >= 1)
        );
        assert!(matches!(
            t.take("other", Class::Write),
            Verdict::Allowed { .. }
        ));
        assert!(matches!(t.take("s", Class::Read), Verdict::Allowed { .. }));
    }
}
