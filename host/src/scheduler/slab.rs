//! Storage indexed by job key. A key is a slot index (low 32 bits) tagged with a number that is
//! fresh for every insertion (high 32 bits), so a key outlives its entry safely: once the entry
//! is removed, the key finds nothing, even after its slot is reused.
//!
//! Entries sit in one vector, and a burst of jobs due at the same instant fires in key order
//! (the order they were taken in, which is also slot order until slots are reused), so the
//! scheduler mostly walks its jobs' state in memory order instead of hopping through a hash
//! table: with thousands of jobs the difference is the cache misses that dominate a burst.

/// The slot index of a key.
fn index(key: u64) -> usize {
    (key & 0xffff_ffff) as usize
}

/// Entries under keys it hands out.
#[derive(Debug)]
pub struct Slab<T> {
    entries: Vec<Option<(u64, T)>>,
    free: Vec<usize>,
    tag: u32,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            tag: 0,
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Store the value `make` builds from its key; the key.
    pub fn insert_with(&mut self, make: impl FnOnce(u64) -> T) -> u64 {
        let index = self.free.pop().unwrap_or(self.entries.len());
        self.tag = self.tag.wrapping_add(1);
        let key = (u64::from(self.tag) << 32) | index as u64;
        let entry = Some((key, make(key)));
        if index == self.entries.len() {
            self.entries.push(entry);
        } else {
            self.entries[index] = entry;
        }
        self.len += 1;
        key
    }

    pub fn get(&self, key: u64) -> Option<&T> {
        match self.entries.get(index(key)) {
            Some(Some((k, value))) if *k == key => Some(value),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut T> {
        match self.entries.get_mut(index(key)) {
            Some(Some((k, value))) if *k == key => Some(value),
            _ => None,
        }
    }

    pub fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    pub fn remove(&mut self, key: u64) -> Option<T> {
        let slot = self.entries.get_mut(index(key))?;
        if slot.as_ref().is_none_or(|(k, _)| *k != key) {
            return None;
        }
        let (_, value) = slot.take()?;
        self.free.push(index(key));
        self.len -= 1;
        Some(value)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().flatten().map(|(_, value)| value)
    }
}

/// Values kept beside a [`Slab`]'s entries, under the same keys (set and removed by the
/// owner; a value is found only under the exact key it was stored with).
#[derive(Debug)]
pub struct KeyedVec<T> {
    entries: Vec<Option<(u64, T)>>,
}

impl<T> Default for KeyedVec<T> {
    fn default() -> Self {
        KeyedVec {
            entries: Vec::new(),
        }
    }
}

impl<T> KeyedVec<T> {
    pub fn get(&self, key: u64) -> Option<&T> {
        match self.entries.get(index(key)) {
            Some(Some((k, value))) if *k == key => Some(value),
            _ => None,
        }
    }

    /// Store `value` under `key`, replacing whatever its slot held; the value it held under
    /// this same key.
    pub fn insert(&mut self, key: u64, value: T) -> Option<T> {
        let i = index(key);
        if i >= self.entries.len() {
            self.entries.resize_with(i + 1, || None);
        }
        match self.entries[i].replace((key, value)) {
            Some((k, old)) if k == key => Some(old),
            _ => None,
        }
    }

    pub fn remove(&mut self, key: u64) -> Option<T> {
        let slot = self.entries.get_mut(index(key))?;
        if slot.as_ref().is_none_or(|(k, _)| *k != key) {
            return None;
        }
        slot.take().map(|(_, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::{KeyedVec, Slab};

    #[test]
    fn a_removed_key_finds_nothing_even_when_its_slot_is_reused() {
        let mut slab = Slab::default();
        let a = slab.insert_with(|key| (key, "a"));
        let b = slab.insert_with(|key| (key, "b"));
        assert_eq!(slab.get(a), Some(&(a, "a")));
        assert_eq!(slab.remove(a), Some((a, "a")));
        assert_eq!(slab.remove(a), None);
        let c = slab.insert_with(|key| (key, "c"));
        assert_ne!(c, a, "a reused slot gets a fresh key");
        assert_eq!(slab.get(a), None);
        assert!(!slab.contains(a));
        assert_eq!(slab.get(c), Some(&(c, "c")));
        assert_eq!(slab.len(), 2);
        let mut values: Vec<_> = slab.values().map(|v| v.1).collect();
        values.sort();
        assert_eq!(values, ["b", "c"]);
        assert_eq!(slab.get_mut(b).map(|v| v.1), Some("b"));

        let mut side = KeyedVec::default();
        assert_eq!(side.insert(c, 2), None);
        assert_eq!(side.insert(c, 3), Some(2));
        assert_eq!(side.get(c), Some(&3));
        assert_eq!(side.get(a), None, "same slot, older key");
        assert_eq!(side.remove(a), None);
        assert_eq!(side.remove(c), Some(3));
        assert_eq!(side.get(c), None);
    }
}
