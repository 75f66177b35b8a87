//! Snowflake layouts: the bit widths and epoch that give a 63-bit integer its meaning,
//! with presets for this crate, Twitter and Discord so existing IDs can be decomposed.

use std::time::SystemTime;

use super::{GenerateError, system_time};
use crate::body::Snowflake;

/// Bit layout and epoch of a snowflake: `[sign][timestamp][worker][process][sequence]`.
///
/// The timestamp counts milliseconds since the layout's epoch. Values always keep the
/// sign bit clear (they fit a signed `BIGINT`), which for a 64-bit layout such as
/// Discord's halves the usable timestamp range.
///
/// ```
/// use typed_id::Snowflake;
/// use typed_id::generator::Layout;
///
/// // Discord's documented example.
/// let parts = Layout::DISCORD.decompose(Snowflake::new(175928847299117063)?);
/// assert_eq!(parts.timestamp_ms, 1_462_015_105_796); // 2016-04-30 11:18:25.796 UTC
/// assert_eq!((parts.worker, parts.process, parts.sequence), (1, Some(0), 7));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    timestamp_bits: u8,
    worker_bits: u8,
    process_bits: u8,
    sequence_bits: u8,
    epoch_ms: u64,
}

impl Layout {
    /// This crate's default: 41 bits of milliseconds since 2024-01-01T00:00:00Z (good
    /// until 2093), 10 bits of worker, 12 bits of sequence.
    pub const DEFAULT: Layout = Layout::preset(41, 10, 0, 12, 1_704_067_200_000);
    /// Twitter's: 41/10/12 bits, epoch 1288834974657 (2010-11-04T01:42:54.657Z).
    pub const TWITTER: Layout = Layout::preset(41, 10, 0, 12, 1_288_834_974_657);
    /// Discord's: 42 bits of milliseconds since 2015-01-01T00:00:00Z, 5 bits of worker,
    /// 5 bits of process, 12 bits of increment.
    pub const DISCORD: Layout = Layout::preset(42, 5, 5, 12, 1_420_070_400_000);

    const fn preset(ts: u8, worker: u8, process: u8, seq: u8, epoch_ms: u64) -> Layout {
        match Layout::new(ts, worker, seq, epoch_ms) {
            Ok(l) => match l.with_process_bits(process) {
                Ok(l) => l,
                Err(_) => panic!("invalid preset"),
            },
            Err(_) => panic!("invalid preset"),
        }
    }

    /// A layout with the given bit widths and epoch (Unix milliseconds).
    ///
    /// # Errors
    /// [`GenerateError::InvalidConfig`] unless `1 <= sequence_bits <= 30`,
    /// `worker_bits <= 31`, `timestamp_bits >= 1` and all bits together are at most 64.
    pub const fn new(
        timestamp_bits: u8,
        worker_bits: u8,
        sequence_bits: u8,
        epoch_ms: u64,
    ) -> Result<Layout, GenerateError> {
        Layout {
            timestamp_bits,
            worker_bits,
            process_bits: 0,
            sequence_bits,
            epoch_ms,
        }
        .validated()
    }

    /// The same layout with a process field of `process_bits` between the worker and the
    /// sequence (Discord has 5).
    ///
    /// # Errors
    /// [`GenerateError::InvalidConfig`] when the field is wider than 31 bits or the
    /// layout no longer fits 64 bits.
    pub const fn with_process_bits(self, process_bits: u8) -> Result<Layout, GenerateError> {
        Layout {
            process_bits,
            ..self
        }
        .validated()
    }

    const fn validated(self) -> Result<Layout, GenerateError> {
        let reason = if self.sequence_bits == 0 || self.sequence_bits > 30 {
            "sequence bits must be 1..=30"
        } else if self.worker_bits > 31 || self.process_bits > 31 {
            "worker and process fields must be at most 31 bits each"
        } else if self.timestamp_bits == 0 {
            "timestamp bits must be at least 1"
        } else if self.timestamp_bits as u32
            + self.worker_bits as u32
            + self.process_bits as u32
            + self.sequence_bits as u32
            > 64
        {
            "a layout has at most 64 bits"
        } else {
            return Ok(self);
        };
        Err(GenerateError::InvalidConfig { reason })
    }

    /// Bits of the timestamp field.
    #[must_use]
    pub const fn timestamp_bits(&self) -> u8 {
        self.timestamp_bits
    }

    /// Bits of the worker field.
    #[must_use]
    pub const fn worker_bits(&self) -> u8 {
        self.worker_bits
    }

    /// Bits of the process field (0 when the layout has none).
    #[must_use]
    pub const fn process_bits(&self) -> u8 {
        self.process_bits
    }

    /// Bits of the sequence field.
    #[must_use]
    pub const fn sequence_bits(&self) -> u8 {
        self.sequence_bits
    }

    /// The epoch in milliseconds since the Unix epoch.
    #[must_use]
    pub const fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }

    /// The epoch.
    #[must_use]
    pub fn epoch(&self) -> SystemTime {
        system_time(self.epoch_ms)
    }

    /// The largest worker ID.
    #[must_use]
    pub const fn max_worker(&self) -> u32 {
        mask(self.worker_bits as u32) as u32
    }

    /// The largest process ID (0 when the layout has no process field).
    #[must_use]
    pub const fn max_process(&self) -> u32 {
        mask(self.process_bits as u32) as u32
    }

    /// The largest sequence number: IDs per millisecond per worker, minus one.
    #[must_use]
    pub const fn max_sequence(&self) -> u32 {
        mask(self.sequence_bits as u32) as u32
    }

    /// The format's ceiling: IDs per second per worker (4 096 000 for 12 sequence bits).
    #[must_use]
    pub const fn ids_per_second(&self) -> u64 {
        (self.max_sequence() as u64 + 1) * 1000
    }

    const fn node_bits(&self) -> u32 {
        self.worker_bits as u32 + self.process_bits as u32
    }

    pub(super) const fn shift(&self) -> u32 {
        self.node_bits() + self.sequence_bits as u32
    }

    /// Largest timestamp (milliseconds since the layout's epoch) whose IDs keep the sign
    /// bit clear.
    pub(super) const fn max_ticks(&self) -> u64 {
        let by_width = mask(self.timestamp_bits as u32);
        let by_sign = (i64::MAX as u64) >> self.shift();
        if by_width < by_sign {
            by_width
        } else {
            by_sign
        }
    }

    /// The last millisecond (since the Unix epoch) this layout can represent.
    #[must_use]
    pub const fn max_timestamp_ms(&self) -> u64 {
        self.epoch_ms.saturating_add(self.max_ticks())
    }

    /// Splits an ID into its fields.
    #[must_use]
    pub fn decompose(&self, id: Snowflake) -> SnowflakeParts {
        let v = id.as_u64();
        let seq_bits = u32::from(self.sequence_bits);
        let ticks = v >> self.shift();
        let timestamp_ms = self.epoch_ms.saturating_add(ticks);
        let process = (v >> seq_bits) & mask(u32::from(self.process_bits));
        let worker =
            (v >> (seq_bits + u32::from(self.process_bits))) & mask(self.worker_bits.into());
        SnowflakeParts {
            timestamp: system_time(timestamp_ms),
            timestamp_ms,
            worker: worker as u32,
            process: (self.process_bits > 0).then_some(process as u32),
            sequence: (v & mask(seq_bits)) as u32,
        }
    }

    /// Builds an ID from its fields (for tools and range queries: the smallest ID at a
    /// time is `compose(t, 0, 0, 0)`).
    ///
    /// ```
    /// use typed_id::generator::Layout;
    ///
    /// let id = Layout::DISCORD.compose(1_462_015_105_796, 1, 0, 7)?;
    /// assert_eq!(id.as_u64(), 175928847299117063);
    /// # Ok::<(), typed_id::GenerateError>(())
    /// ```
    ///
    /// # Errors
    /// A field out of range: [`GenerateError::ClockBeforeEpoch`],
    /// [`GenerateError::TimestampOverflow`], [`GenerateError::WorkerOutOfRange`],
    /// [`GenerateError::ProcessOutOfRange`], or [`GenerateError::InvalidConfig`] for the
    /// sequence.
    pub fn compose(
        &self,
        timestamp_ms: u64,
        worker: u32,
        process: u32,
        sequence: u32,
    ) -> Result<Snowflake, GenerateError> {
        let ticks = self.ticks(timestamp_ms)?;
        let node = self.node(worker, process)?;
        if sequence > self.max_sequence() {
            return Err(GenerateError::InvalidConfig {
                reason: "sequence number does not fit the layout",
            });
        }
        Snowflake::new((ticks << self.shift()) | node | u64::from(sequence))
            .map_err(GenerateError::Id)
    }

    /// Milliseconds since the layout's epoch, range-checked.
    pub(super) fn ticks(&self, unix_ms: u64) -> Result<u64, GenerateError> {
        let Some(ticks) = unix_ms.checked_sub(self.epoch_ms) else {
            return Err(GenerateError::ClockBeforeEpoch {
                now_ms: unix_ms,
                epoch_ms: self.epoch_ms,
            });
        };
        if ticks > self.max_ticks() {
            return Err(GenerateError::TimestampOverflow {
                max_ms: self.max_timestamp_ms(),
            });
        }
        Ok(ticks)
    }

    /// The worker and process fields, shifted into place.
    pub(super) fn node(&self, worker: u32, process: u32) -> Result<u64, GenerateError> {
        if worker > self.max_worker() {
            return Err(GenerateError::WorkerOutOfRange {
                worker,
                max: self.max_worker(),
            });
        }
        if process > self.max_process() {
            return Err(GenerateError::ProcessOutOfRange {
                process,
                max: self.max_process(),
            });
        }
        let seq_bits = u32::from(self.sequence_bits);
        Ok(
            (u64::from(worker) << (seq_bits + u32::from(self.process_bits)))
                | (u64::from(process) << seq_bits),
        )
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout::DEFAULT
    }
}

/// `2^bits - 1`, for `bits <= 64`.
pub(super) const fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The fields of a snowflake, from [`Layout::decompose`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SnowflakeParts {
    /// When the ID was issued.
    pub timestamp: SystemTime,
    /// The same instant in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The worker field.
    pub worker: u32,
    /// The process field, for layouts that have one (Discord's).
    pub process: Option<u32>,
    /// The sequence number within the millisecond (Discord's "increment").
    pub sequence: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z

    #[test]
    fn presets() {
        assert_eq!(Layout::DEFAULT.max_worker(), 1023);
        assert_eq!(Layout::DEFAULT.ids_per_second(), 4_096_000);
        assert_eq!(Layout::DEFAULT.process_bits(), 0);
        // 2^41 ms ≈ 69.7 years after 2024: valid until 2093.
        let years = (Layout::DEFAULT.max_timestamp_ms() - Layout::DEFAULT.epoch_ms()) as f64
            / (365.25 * 86_400_000.0);
        assert!((69.0..70.0).contains(&years), "{years}");
        assert_eq!(Layout::DISCORD.max_worker(), 31);
        assert_eq!(Layout::DISCORD.max_process(), 31);
        assert_eq!(Layout::TWITTER.epoch_ms(), 1_288_834_974_657);
        assert!(Layout::new(41, 10, 0, 0).is_err());
        assert!(Layout::new(42, 10, 12, 0).is_ok());
        assert!(Layout::new(43, 10, 12, 0).is_err());
        assert!(
            Layout::new(42, 10, 12, 0)
                .unwrap()
                .with_process_bits(1)
                .is_err()
        );
    }

    #[test]
    fn discord_example() {
        let id = Snowflake::new(175_928_847_299_117_063).unwrap();
        let parts = Layout::DISCORD.decompose(id);
        assert_eq!(parts.timestamp_ms, 1_462_015_105_796);
        assert_eq!(parts.worker, 1);
        assert_eq!(parts.process, Some(0));
        assert_eq!(parts.sequence, 7);
        assert_eq!(Layout::DISCORD.compose(parts.timestamp_ms, 1, 0, 7), Ok(id));
    }

    #[test]
    fn compose_decompose_round_trip() {
        let layout = Layout::DEFAULT;
        let id = layout.compose(T0 + 17, 1023, 0, 4095).unwrap();
        let parts = layout.decompose(id);
        assert_eq!(
            (
                parts.timestamp_ms,
                parts.worker,
                parts.process,
                parts.sequence
            ),
            (T0 + 17, 1023, None, 4095)
        );
        assert!(layout.compose(T0, 1024, 0, 0).is_err());
        assert!(layout.compose(T0, 0, 1, 0).is_err());
        assert!(layout.compose(T0, 0, 0, 4096).is_err());
        assert!(matches!(
            layout.compose(layout.epoch_ms() - 1, 0, 0, 0),
            Err(GenerateError::ClockBeforeEpoch { .. })
        ));
        assert!(matches!(
            layout.compose(layout.max_timestamp_ms() + 1, 0, 0, 0),
            Err(GenerateError::TimestampOverflow { .. })
        ));
        // Discord: 64 bits, so the sign bit limits the timestamp to 41 usable bits.
        let top = Layout::DISCORD.max_timestamp_ms();
        let id = Layout::DISCORD.compose(top, 31, 31, 4095).unwrap();
        assert_eq!(id, Snowflake::MAX);
    }
}
