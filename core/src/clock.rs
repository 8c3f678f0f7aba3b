//! The time the SDK reads. The light client (how old a header may be, which headers are
//! from the future), the wallet (pairing payload expiry, the day a request is judged on,
//! the times it stores) and the car take a [`Clock`]: [`SystemClock`] by default, a
//! [`ManualClock`] where a test (or an app with a time source it trusts more than the
//! device's) decides what "now" is.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, as milliseconds since the Unix epoch (0 for a clock set before 1970).
    fn now_millis(&self) -> u64;

    /// Now, as whole seconds since the Unix epoch.
    fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }

    /// Now, as a [`SystemTime`].
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_millis())
    }
}

/// A shared clock, as the SDK's types hold it.
pub type SharedClock = Arc<dyn Clock>;

/// The device's own clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            })
    }
}

/// The system clock, shared.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that reads what it was set to, moved only by [`ManualClock::set_millis`] and
/// [`ManualClock::advance`].
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    /// A clock reading `millis` since the Unix epoch.
    pub fn at_millis(millis: u64) -> Self {
        Self {
            millis: AtomicU64::new(millis),
        }
    }

    /// A clock reading the system clock's time now, offset by `offset_secs` (negative:
    /// in the past).
    pub fn offset_from_now(offset_secs: i64) -> Self {
        let now = SystemClock.now_millis();
        let offset = offset_secs.unsigned_abs().saturating_mul(1000);
        Self::at_millis(if offset_secs < 0 {
            now.saturating_sub(offset)
        } else {
            now.saturating_add(offset)
        })
    }

    /// Sets the time to `millis` since the Unix epoch.
    pub fn set_millis(&self, millis: u64) {
        self.millis.store(millis, Ordering::SeqCst);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> u64 {
        self.millis.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_reads_what_it_was_set_to() {
        let clock = ManualClock::at_millis(1_700_000_000_123);
        assert_eq!(clock.now_secs(), 1_700_000_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_millis(), 1_700_000_002_123);
        clock.set_millis(5);
        assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_millis(5));
    }

    #[test]
    fn an_offset_clock_is_that_far_from_the_system_clock() {
        let before = SystemClock.now_secs();
        let ahead = ManualClock::offset_from_now(3600).now_secs();
        let behind = ManualClock::offset_from_now(-3600).now_secs();
        let after = SystemClock.now_secs();
        assert!((before + 3600..=after + 3600).contains(&ahead));
        assert!((before - 3600..=after - 3600).contains(&behind));
    }
}
