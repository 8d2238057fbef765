//! A small per-container cache whose entries expire, for tenant configuration, routes,
//! API keys and decrypted secrets: read once per few minutes, never per message. When it is
//! full, the entry used longest ago makes room (one entry, not the whole cache), so a flood
//! of new keys costs the cache its oldest entries only.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    inner: Mutex<Lru<K, (Instant, V)>>,
}

/// A map of at most `capacity` entries that lets the entry used longest ago go when a new
/// one needs room. Not synchronised: its users hold it under a lock.
pub struct Lru<K, V> {
    capacity: usize,
    map: HashMap<K, (u64, V)>,
    /// Keys by their last use (a tick of this map's own), oldest first.
    by_use: BTreeMap<u64, K>,
    tick: u64,
}

impl<K: Eq + Hash + Clone, V> Lru<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            map: HashMap::new(),
            by_use: BTreeMap::new(),
            tick: 0,
        }
    }

    /// The entry, marked as used now.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        let (used, value) = self.map.get_mut(key)?;
        self.by_use.remove(used);
        *used = tick;
        self.by_use.insert(tick, key.clone());
        Some(value)
    }

    /// Stores the entry as used now; the least recently used one goes if there is no room.
    pub fn insert(&mut self, key: K, value: V) {
        self.remove(&key);
        if self.map.len() >= self.capacity
            && let Some((_, oldest)) = self.by_use.pop_first()
        {
            self.map.remove(&oldest);
        }
        self.tick += 1;
        self.by_use.insert(self.tick, key.clone());
        self.map.insert(key, (self.tick, value));
    }

    pub fn remove(&mut self, key: &K) {
        if let Some((used, _)) = self.map.remove(key) {
            self.by_use.remove(&used);
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            inner: Mutex::new(Lru::new(capacity)),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (stored_at, value) = entries.get_mut(key)?;
        if stored_at.elapsed() < self.ttl {
            return Some(value.clone());
        }
        entries.remove(key);
        None
    }

    pub fn insert(&self, key: K, value: V) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: &K) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_time_to_live() {
        let cache = TtlCache::new(Duration::from_millis(20), 10);
        cache.insert("k", 1);
        assert_eq!(cache.get(&"k"), Some(1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get(&"k"), None);
    }

    #[test]
    fn a_full_cache_lets_its_least_recently_used_entry_go_one_at_a_time() {
        let cache = TtlCache::new(Duration::from_secs(60), 3);
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.insert("c", 3);
        assert_eq!(
            cache.get(&"a"),
            Some(1),
            "a is used, so b is now the oldest"
        );
        cache.insert("d", 4);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&"b"), None);
        for kept in ["a", "c", "d"] {
            assert!(cache.get(&kept).is_some(), "{kept}");
        }
    }

    #[test]
    fn a_flood_of_new_keys_keeps_the_entry_in_use() {
        let cache = TtlCache::new(Duration::from_secs(60), 100);
        cache.insert(u32::MAX, 7);
        for i in 0..10_000 {
            cache.insert(i, 0);
            if i % 50 == 0 {
                assert_eq!(cache.get(&u32::MAX), Some(7), "lost after {i} inserts");
            }
        }
        assert_eq!(cache.len(), 100);
        assert_eq!(cache.get(&u32::MAX), Some(7));
    }

    #[test]
    fn replacing_an_entry_keeps_one_copy() {
        let cache = TtlCache::new(Duration::from_secs(60), 2);
        cache.insert("a", 1);
        cache.insert("a", 2);
        cache.insert("b", 3);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&"a"), Some(2));
    }
}
