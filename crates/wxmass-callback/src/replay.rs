//! The replay guard: which signed queries have been used, remembered until
//! their timestamp's own window closes.
//!
//! A signed query (timestamp, nonce, signature) is valid for as long as its
//! timestamp is within the window of now: up to `window` past the timestamp,
//! not past the moment we first saw it. So an entry lives until
//! `timestamp + window`, whatever mode the request came in, and a durable
//! recorder stores the entries with the pushes and hands them back at start
//! ([`crate::PushRecorder::seen_requests`]), so a restart opens nothing.
//!
//! The same query with the same content is WeChat retrying; with other
//! content it is a replay. A retry that arrives while the first copy is
//! still being recorded waits for that copy's outcome instead of being
//! answered `success` for a push that might yet fail.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use tokio::sync::watch;

use crate::envelope::ReplayKey;
use crate::signature::{Sha1Digest, SignatureError};

/// A request the guard remembers, as a durable recorder stores it.
pub use wxmass_vocab::SeenRequest;

/// What the guard says of a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Never seen: handle it (a durable recorder stores the entry), then
    /// [`ReplayGuard::settle`] it.
    New(SeenRequest),
    /// Seen and accepted before: a retry, to be answered `success` again.
    Retry,
    /// The same request is being handled now; the receiver gets `Some(true)`
    /// when it is accepted, `Some(false)` (or a closed channel) when not.
    InFlight(watch::Receiver<Option<bool>>),
}

struct Entry {
    content: Sha1Digest,
    expires_at: i64,
    /// Present while the first copy is being handled.
    in_flight: Option<watch::Sender<Option<bool>>>,
}

/// Signed queries seen, each until its timestamp's window closes.
pub(crate) struct ReplayGuard {
    window: i64,
    capacity: usize,
    entries: HashMap<(i64, Box<str>), Entry>,
    /// (expires_at, timestamp, nonce): the order entries are forgotten in.
    by_expiry: BTreeSet<(i64, i64, Box<str>)>,
}

impl ReplayGuard {
    /// A guard for timestamps accepted within `window` of now (`None`: no
    /// timestamp check, so entries are kept for 300 s), holding at most
    /// `capacity` entries. When full, the entries whose window closes first
    /// go first: they are the ones a replay could use for the shortest time.
    pub(crate) fn new(window: Option<Duration>, capacity: usize) -> Self {
        let window = window.map_or(300, |w| i64::try_from(w.as_secs()).unwrap_or(i64::MAX));
        ReplayGuard {
            window,
            capacity: capacity.max(1),
            entries: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// Takes back an entry recorded before a restart (already accepted).
    pub(crate) fn remember(&mut self, seen: SeenRequest, now_unix: i64) {
        if seen.expires_at < now_unix {
            return;
        }
        self.insert(
            (seen.timestamp, seen.nonce.into_boxed_str()),
            seen.content,
            seen.expires_at,
            None,
            now_unix,
        );
    }

    /// Checks a request; a new one is recorded as in flight until settled.
    pub(crate) fn check(
        &mut self,
        key: &ReplayKey<'_>,
        now_unix: i64,
    ) -> Result<Verdict, SignatureError> {
        self.prune(now_unix);
        let id = (key.timestamp, Box::<str>::from(key.nonce));
        if let Some(entry) = self.entries.get(&id) {
            if entry.content != key.content {
                return Err(SignatureError::Replay);
            }
            return Ok(match &entry.in_flight {
                Some(outcome) => Verdict::InFlight(outcome.subscribe()),
                None => Verdict::Retry,
            });
        }
        let expires_at = key.timestamp.saturating_add(self.window);
        let (outcome, _) = watch::channel(None);
        self.insert(id, key.content, expires_at, Some(outcome), now_unix);
        Ok(Verdict::New(SeenRequest {
            timestamp: key.timestamp,
            nonce: key.nonce.to_owned(),
            content: key.content,
            expires_at,
        }))
    }

    /// Records how a [`Verdict::New`] request ended: accepted, it is
    /// remembered as such; refused, it is forgotten, so that WeChat's retry
    /// gets through. Either way, copies waiting on it are told.
    pub(crate) fn settle(&mut self, timestamp: i64, nonce: &str, accepted: bool) {
        let id = (timestamp, Box::<str>::from(nonce));
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        if let Some(outcome) = entry.in_flight.take() {
            outcome.send_replace(Some(accepted));
        }
        if !accepted {
            let expires_at = entry.expires_at;
            self.entries.remove(&id);
            self.by_expiry.remove(&(expires_at, id.0, id.1));
        }
    }

    fn insert(
        &mut self,
        id: (i64, Box<str>),
        content: Sha1Digest,
        expires_at: i64,
        in_flight: Option<watch::Sender<Option<bool>>>,
        now_unix: i64,
    ) {
        self.prune(now_unix);
        while self.entries.len() >= self.capacity {
            let Some((expiry, ts, nonce)) = self.by_expiry.pop_first() else {
                break;
            };
            self.remove_if_expiring(ts, nonce, expiry);
        }
        // Only `remember` can meet an existing entry (a journal row the
        // router already holds): keep one index row per entry.
        if let Some(old) = self.entries.get(&id) {
            self.by_expiry.remove(&(old.expires_at, id.0, id.1.clone()));
        }
        self.by_expiry.insert((expires_at, id.0, id.1.clone()));
        self.entries.insert(
            id,
            Entry {
                content,
                expires_at,
                in_flight,
            },
        );
    }

    /// Forgets every entry whose window has closed.
    fn prune(&mut self, now_unix: i64) {
        while let Some((expiry, _, _)) = self.by_expiry.first() {
            if *expiry >= now_unix {
                break;
            }
            if let Some((expiry, ts, nonce)) = self.by_expiry.pop_first() {
                self.remove_if_expiring(ts, nonce, expiry);
            }
        }
    }

    fn remove_if_expiring(&mut self, timestamp: i64, nonce: Box<str>, expiry: i64) {
        let id = (timestamp, nonce);
        if self
            .entries
            .get(&id)
            .is_some_and(|e| e.expires_at == expiry)
        {
            self.entries.remove(&id);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(timestamp: i64, nonce: &str, content: u8) -> ReplayKey<'_> {
        ReplayKey {
            timestamp,
            nonce,
            content: [content; 20],
        }
    }

    fn accept(guard: &mut ReplayGuard, k: &ReplayKey<'_>, now: i64) {
        assert!(matches!(guard.check(k, now), Ok(Verdict::New(_))));
        guard.settle(k.timestamp, k.nonce, true);
    }

    #[test]
    fn retries_pass_and_other_content_is_a_replay() {
        let mut guard = ReplayGuard::new(Some(Duration::from_secs(300)), 1000);
        accept(&mut guard, &key(1000, "n", 7), 1000);
        assert!(matches!(
            guard.check(&key(1000, "n", 7), 1000),
            Ok(Verdict::Retry)
        ));
        assert_eq!(
            guard.check(&key(1000, "n", 8), 1000).err(),
            Some(SignatureError::Replay)
        );
        assert!(matches!(
            guard.check(&key(1000, "m", 8), 1000),
            Ok(Verdict::New(_))
        ));
    }

    #[test]
    fn entries_live_until_the_timestamp_window_closes() {
        let mut guard = ReplayGuard::new(Some(Duration::from_secs(300)), 1000);
        // Stamped 290 s ahead of now: valid until now + 590 s.
        accept(&mut guard, &key(10_290, "n", 1), 10_000);
        let replay = key(10_290, "n", 2);
        assert_eq!(
            guard.check(&replay, 10_000 + 589).err(),
            Some(SignatureError::Replay)
        );
        // Once the window has closed, the timestamp check refuses it anyway.
        assert!(matches!(
            guard.check(&replay, 10_000 + 591),
            Ok(Verdict::New(_))
        ));
    }

    #[test]
    fn a_refused_request_is_forgotten_and_waiters_are_told() {
        let mut guard = ReplayGuard::new(None, 1000);
        let k = key(5, "n", 1);
        assert!(matches!(guard.check(&k, 5), Ok(Verdict::New(_))));
        let Ok(Verdict::InFlight(waiter)) = guard.check(&k, 5) else {
            panic!("a second copy must wait for the first")
        };
        guard.settle(5, "n", false);
        assert_eq!(*waiter.borrow(), Some(false));
        assert!(matches!(guard.check(&k, 5), Ok(Verdict::New(_))));
        guard.settle(5, "n", true);
        assert!(matches!(guard.check(&k, 5), Ok(Verdict::Retry)));
    }

    #[test]
    fn remembered_entries_survive_a_restart_and_full_guards_drop_the_earliest() {
        let mut guard = ReplayGuard::new(Some(Duration::from_secs(300)), 2);
        guard.remember(
            SeenRequest {
                timestamp: 100,
                nonce: "a".into(),
                content: [1; 20],
                expires_at: 400,
            },
            150,
        );
        // Already closed: not taken back.
        guard.remember(
            SeenRequest {
                timestamp: 1,
                nonce: "old".into(),
                content: [1; 20],
                expires_at: 301,
            },
            350,
        );
        assert_eq!(guard.len(), 1);
        assert_eq!(
            guard.check(&key(100, "a", 2), 150).err(),
            Some(SignatureError::Replay)
        );
        accept(&mut guard, &key(200, "b", 1), 200);
        accept(&mut guard, &key(300, "c", 1), 300);
        assert_eq!(guard.len(), 2);
        // "a" closed first, so it made room.
        assert!(matches!(
            guard.check(&key(100, "a", 2), 300),
            Ok(Verdict::New(_))
        ));
    }
}
