//! The wall clock protocol decisions read, injected so tests can fix it: [`SystemClock`]
//! by default, [`FixedClock`] for a time that only moves when told.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch now (0 if the clock reads before the epoch).
    fn unix_now(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
    }
}

/// A clock that reads what it was set to, moved only by [`FixedClock::set`] and
/// [`FixedClock::advance`].
#[derive(Debug, Default)]
pub struct FixedClock {
    now: AtomicU64,
}

impl FixedClock {
    /// A clock reading `unix_seconds`.
    pub fn at(unix_seconds: u64) -> Self {
        Self {
            now: AtomicU64::new(unix_seconds),
        }
    }

    /// Sets the time to `unix_seconds`.
    pub fn set(&self, unix_seconds: u64) {
        self.now.store(unix_seconds, Ordering::SeqCst);
    }

    /// Moves the time forward by `seconds` (saturating).
    pub fn advance(&self, seconds: u64) {
        let now = self.now.load(Ordering::SeqCst);
        self.now
            .store(now.saturating_add(seconds), Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn unix_now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at(1_700_000_000);
        assert_eq!(clock.unix_now(), 1_700_000_000);
        clock.advance(60);
        assert_eq!(clock.unix_now(), 1_700_000_060);
        clock.set(5);
        assert_eq!(clock.unix_now(), 5);
    }

    #[test]
    fn system_clock_is_past_2020() {
        assert!(SystemClock.unix_now() > 1_577_836_800);
    }
}
