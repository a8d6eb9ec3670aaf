//! A bounded map whose entries expire: the memory behind the replay guard and
//! the duplicate-push filter.
//!
//! Both need "have I seen this key in the last N seconds?" under hostile load,
//! so the map is capped: when full, the oldest entry goes first. Time is passed
//! in by the caller, which keeps tests free of sleeps.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct ExpiringMap<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<K, (Instant, V)>,
    /// Insertion order, for expiry and eviction. A key removed early stays here
    /// until it reaches the front; `entries` is the truth.
    order: VecDeque<(Instant, K)>,
}

impl<K: Hash + Eq + Clone, V> ExpiringMap<K, V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The value stored for `key`, if it has not expired at `now`.
    pub(crate) fn get(&self, key: &K, now: Instant) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(_, v)| v)
    }

    /// Stores `value` for `key` at `now`, replacing an older value.
    pub(crate) fn insert(&mut self, key: K, value: V, now: Instant) {
        self.purge(now);
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some((at, old)) => self.remove_if_stamped(&old, at),
                None => break,
            }
        }
        self.order.push_back((now, key.clone()));
        self.entries.insert(key, (now, value));
    }

    pub(crate) fn remove(&mut self, key: &K) {
        self.entries.remove(key);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn purge(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl {
                break;
            }
            if let Some((at, key)) = self.order.pop_front() {
                self.remove_if_stamped(&key, at);
            }
        }
        // Keys removed early leave stale order entries; keep that list bounded too.
        if self.order.len() > self.capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(at, key)| entries.get(key).is_some_and(|(stamp, _)| stamp == at));
        }
    }

    /// Removes `key` only if its entry is the one stamped `at` (it may have been
    /// inserted again since).
    fn remove_if_stamped(&mut self, key: &K, at: Instant) {
        if self.entries.get(key).is_some_and(|(stamp, _)| *stamp == at) {
            self.entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_ttl() {
        let t0 = Instant::now();
        let mut map = ExpiringMap::new(Duration::from_secs(10), 100);
        map.insert("a", 1, t0);
        assert_eq!(map.get(&"a", t0 + Duration::from_secs(9)), Some(&1));
        assert_eq!(map.get(&"a", t0 + Duration::from_secs(10)), None);
        map.insert("b", 2, t0 + Duration::from_secs(11));
        assert_eq!(map.len(), 1, "the expired entry is purged on insert");
    }

    #[test]
    fn capacity_evicts_oldest_first() {
        let t0 = Instant::now();
        let mut map = ExpiringMap::new(Duration::from_secs(60), 2);
        map.insert(1, (), t0);
        map.insert(2, (), t0 + Duration::from_millis(1));
        map.insert(3, (), t0 + Duration::from_millis(2));
        assert_eq!(map.len(), 2);
        assert!(map.get(&1, t0).is_none());
        assert!(map.get(&3, t0).is_some());
    }

    #[test]
    fn reinserted_key_is_not_evicted_by_its_old_stamp() {
        let t0 = Instant::now();
        let mut map = ExpiringMap::new(Duration::from_secs(10), 100);
        map.insert("k", 1, t0);
        map.insert("k", 2, t0 + Duration::from_secs(8));
        assert_eq!(map.get(&"k", t0 + Duration::from_secs(12)), Some(&2));
        map.insert("other", 0, t0 + Duration::from_secs(12));
        assert_eq!(map.get(&"k", t0 + Duration::from_secs(12)), Some(&2));
    }

    #[test]
    fn removal_keeps_order_list_bounded() {
        let t0 = Instant::now();
        let mut map = ExpiringMap::new(Duration::from_secs(600), 4);
        for i in 0..1000 {
            map.insert(i, (), t0);
            map.remove(&i);
        }
        assert!(map.order.len() <= 9);
    }
}
