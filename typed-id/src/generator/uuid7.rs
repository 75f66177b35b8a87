//! UUIDv7 generation for TypeIDs ([`TypeIdUuid::now_v7`], [`DynTypeId::now_v7`]):
//! milliseconds, then random bits that count up within a millisecond, so the values one
//! process generates strictly increase.

use std::sync::Mutex;

use super::{GenerateError, fill_random, system_now_ms};
use crate::body::{DynTypeId, TypeIdUuid};

impl TypeIdUuid {
    /// A new UUIDv7 from the system clock: 48 bits of Unix milliseconds, then 74 bits
    /// that are random at the first ID of each millisecond and count up by one after
    /// it, so the values one process generates are strictly increasing, even while the
    /// clock stands still or steps back (they then run ahead of the clock until it
    /// catches up).
    ///
    /// # Errors
    /// [`GenerateError::Entropy`](GenerateError::Entropy) when the
    /// operating system has no randomness to give.
    pub fn now_v7() -> Result<TypeIdUuid, GenerateError> {
        V7.next(system_now_ms())
    }
}

impl DynTypeId {
    /// A TypeID with `prefix` and a new UUIDv7 (see [`TypeIdUuid::now_v7`]).
    ///
    /// # Errors
    /// [`GenerateError::Id`](GenerateError::Id) for a prefix the
    /// specification does not allow; `Entropy` when there is no randomness.
    pub fn now_v7(prefix: &str) -> Result<DynTypeId, GenerateError> {
        let uuid = TypeIdUuid::now_v7()?;
        DynTypeId::new(prefix, uuid).map_err(GenerateError::Id)
    }
}

/// The process-wide UUIDv7 state behind [`TypeIdUuid::now_v7`].
static V7: V7Generator = V7Generator::new();

/// UUIDv7 generation, monotonic within a process.
///
/// The 122 bits that are not version or variant are handled as one number, `payload`:
/// the millisecond in its top 48 bits, the 74 "random" bits below. A new millisecond
/// draws fresh random bits (with the top one clear, so at least 2^73 increments fit
/// before the millisecond field is borrowed from); otherwise the payload is the last
/// one plus one. The payload never goes down, so neither does the UUID.
pub(crate) struct V7Generator {
    state: Mutex<V7State>,
}

struct V7State {
    last: u128,
    pool: [u8; 256],
    used: usize,
}

/// Bits below the millisecond field.
const RANDOM_BITS: u32 = 74;

impl V7Generator {
    pub(crate) const fn new() -> V7Generator {
        V7Generator {
            state: Mutex::new(V7State {
                last: 0,
                pool: [0; 256],
                used: 256,
            }),
        }
    }

    /// The next UUID for a clock reading of `now_ms`.
    pub(crate) fn next(&self, now_ms: u64) -> Result<TypeIdUuid, GenerateError> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = u128::from(now_ms & ((1 << 48) - 1));
        let payload = if ms > state.last >> RANDOM_BITS {
            let random = state.random_u128()? & ((1 << (RANDOM_BITS - 1)) - 1);
            (ms << RANDOM_BITS) | random
        } else {
            // Only past 2^122 - 1 (the millisecond field full: the year 10889) would
            // the payload wrap; refuse rather than repeat.
            state.last.checked_add(1).filter(|p| p >> 122 == 0).ok_or(
                GenerateError::InvalidConfig {
                    reason: "the UUIDv7 millisecond field is exhausted",
                },
            )?
        };
        state.last = payload;
        Ok(TypeIdUuid::from_u128(with_version_and_variant(payload)))
    }
}

impl V7State {
    fn random_u128(&mut self) -> Result<u128, GenerateError> {
        if self.used + 16 > self.pool.len() {
            fill_random(&mut self.pool)?;
            self.used = 0;
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&self.pool[self.used..self.used + 16]);
        self.used += 16;
        Ok(u128::from_le_bytes(bytes))
    }
}

/// Spreads a 122-bit payload over a UUID around its version (`0111`) and variant (`10`)
/// bits: 48 bits of time, the version, 12 bits, the variant, 62 bits.
const fn with_version_and_variant(payload: u128) -> u128 {
    let time = payload >> RANDOM_BITS; // 48 bits
    let rand_a = (payload >> 62) & 0xfff; // 12 bits
    let rand_b = payload & ((1 << 62) - 1); // 62 bits
    (time << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_spreads_around_version_and_variant() {
        let all = with_version_and_variant((1 << 122) - 1);
        assert_eq!(TypeIdUuid::from_u128(all).version(), 7);
        assert_eq!((all >> 62) & 0b11, 0b10);
        assert_eq!(all >> 80, (1 << 48) - 1);
        assert_eq!(with_version_and_variant(0), (0x7 << 76) | (0b10 << 62));
    }

    #[test]
    fn v7_is_monotonic_when_the_clock_stands_still_or_steps_back() {
        let generator = V7Generator::new();
        let mut last = generator.next(1_000).unwrap();
        assert_eq!(last.timestamp_ms(), Some(1_000));
        for now in [1_000, 1_000, 999, 10, 1_000, 1_001, 1_001, 5] {
            let next = generator.next(now).unwrap();
            assert!(next > last, "{next:?} after {last:?} at {now}");
            assert_eq!(next.version(), 7);
            assert!(next.timestamp_ms().unwrap() >= 1_000);
            last = next;
        }
        // A new millisecond starts with fresh random bits below it.
        let later = generator.next(2_000).unwrap();
        assert_eq!(later.timestamp_ms(), Some(2_000));
    }

    #[test]
    fn the_payload_carries_into_the_millisecond() {
        let generator = V7Generator::new();
        generator.state.lock().unwrap().last = (5 << RANDOM_BITS) | ((1 << RANDOM_BITS) - 1);
        let next = generator.next(5).unwrap();
        assert_eq!(next.timestamp_ms(), Some(6));
    }
}
