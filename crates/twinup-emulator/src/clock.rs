//! Simulated time: the latency model of real Azure (in real-world seconds) and the scale that
//! turns it into wall-clock time for this emulator, plus retry hints derived from it.

use chrono::{DateTime, Utc};

/// Real-world seconds an Azure Digital Twins instance takes to provision.
pub(crate) const DT_CREATE_SECS: f64 = 46.0;
/// Real-world seconds an instance PATCH stays `Updating` (no published figure: one poll interval).
pub(crate) const DT_UPDATE_SECS: f64 = 10.0;
/// Real-world seconds an Azure Digital Twins instance takes to delete.
pub(crate) const DT_DELETE_SECS: f64 = 30.0;
/// Real-world seconds a resource group takes to delete.
pub(crate) const RG_DELETE_SECS: f64 = 20.0;
/// Seconds a resource provider stays `Registering` after `POST .../register` (Azure takes
/// "a few minutes" at most; a minute is typical for Microsoft.DigitalTwins).
pub(crate) const PROVIDER_REGISTER_SECS: f64 = 60.0;
/// Poll interval Azure Digital Twins suggests (the examples send `retry-after: 10`).
pub(crate) const DT_POLL_SECS: f64 = 10.0;
/// Poll interval ARM suggests for resource group deletion.
pub(crate) const RG_POLL_SECS: f64 = 15.0;

/// A retry hint as sent on the wire: integer seconds (`Retry-After`) and milliseconds (`retry-after-ms`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryHint {
    pub secs: u64,
    pub millis: u64,
}

/// Turns real-world durations into emulator durations.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    scale: f64,
}

impl Clock {
    pub fn new(scale: f64) -> Self {
        Clock { scale }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// The emulator duration for `real_secs` real-world seconds.
    pub fn scaled(&self, real_secs: f64) -> chrono::Duration {
        let micros = (real_secs * self.scale * 1_000_000.0).round();
        chrono::Duration::microseconds(micros.max(0.0) as i64)
    }

    /// The retry hint for a real-world poll interval: `Retry-After` is the scaled value rounded up
    /// to whole seconds, `retry-after-ms` the scaled value in milliseconds (at least 1).
    pub fn retry_hint(&self, real_secs: f64) -> RetryHint {
        let scaled = real_secs * self.scale;
        RetryHint {
            secs: scaled.ceil().max(0.0) as u64,
            millis: ((scaled * 1000.0).round() as u64).max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_hint_rounds_seconds_up_and_keeps_milliseconds() {
        let hint = Clock::new(0.01).retry_hint(10.0);
        assert_eq!(hint.secs, 1);
        assert_eq!(hint.millis, 100);
        let real = Clock::new(1.0).retry_hint(10.0);
        assert_eq!(real.secs, 10);
        assert_eq!(real.millis, 10_000);
    }

    #[test]
    fn scaled_duration_follows_the_scale() {
        assert_eq!(Clock::new(0.5).scaled(46.0).num_milliseconds(), 23_000);
    }
}
