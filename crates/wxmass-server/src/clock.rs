//! The server's clock for what people schedule: when a campaign is due,
//! which day's and month's quota a send counts against, the times in the
//! audit log. It is the machine's clock, unless the server was started
//! with `--movable-clock` (tests and demos), when an admin may move it
//! forward through `POST /api/v1/clock`, as the emulator's clock moves,
//! to watch tomorrow's campaign run today.
//!
//! What WeChat checks against the real time stays on the machine's clock:
//! the timestamps of pushes (their replay window) and the leases between
//! servers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Called with the seconds each move adds (the demo moves its emulator's
/// clock with the server's).
pub type Follower = Box<dyn Fn(i64) + Send + Sync>;

/// Unix seconds, moved forward by an offset when movable.
#[derive(Default)]
pub struct Clock {
    offset: AtomicI64,
    movable: AtomicBool,
    follower: Mutex<Option<Follower>>,
}

/// The most one move may add: a year and a bit, enough for any schedule.
pub const MAX_ADVANCE: i64 = 400 * 86_400;

impl Clock {
    /// Unix seconds now, on this clock.
    pub fn now(&self) -> i64 {
        wxmass_campaign::beijing::now() + self.offset.load(Ordering::Relaxed)
    }

    /// Seconds this clock is ahead of the machine's.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Whether [`Clock::advance`] may move it.
    pub fn is_movable(&self) -> bool {
        self.movable.load(Ordering::Relaxed)
    }

    /// Lets [`Clock::advance`] move it, telling `follower` each time.
    pub fn make_movable(&self, follower: Option<Follower>) {
        *self.follower.lock().unwrap_or_else(|e| e.into_inner()) = follower;
        self.movable.store(true, Ordering::Relaxed);
    }

    /// Moves it forward by `seconds` (0 to [`MAX_ADVANCE`]), returning
    /// the new time; refused (with why) unless movable.
    pub fn advance(&self, seconds: i64) -> Result<i64, &'static str> {
        if !self.is_movable() {
            return Err(
                "this server keeps the machine's time: start it with --movable-clock (for tests and demos) to move it",
            );
        }
        if !(0..=MAX_ADVANCE).contains(&seconds) {
            return Err("the clock moves forward only, at most 400 days at a time");
        }
        self.offset.fetch_add(seconds, Ordering::Relaxed);
        if let Some(follow) = self
            .follower
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            follow(seconds);
        }
        Ok(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_movable_clock_moves_and_only_forward() {
        let clock = Clock::default();
        assert!(clock.advance(60).is_err());
        assert_eq!(clock.offset(), 0);
        let moved = std::sync::Arc::new(AtomicI64::new(0));
        let seen = moved.clone();
        clock.make_movable(Some(Box::new(move |s| {
            seen.fetch_add(s, Ordering::Relaxed);
        })));
        let t0 = clock.now();
        assert!(clock.advance(86_400).is_ok_and(|t| t >= t0 + 86_400));
        assert!(clock.advance(-1).is_err());
        assert!(clock.advance(MAX_ADVANCE + 1).is_err());
        assert_eq!(clock.offset(), 86_400);
        assert_eq!(moved.load(Ordering::Relaxed), 86_400);
    }
}
