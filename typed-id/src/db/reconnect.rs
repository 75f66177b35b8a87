//! Re-establishing a broken connection: how long a session keeps trying.
//!
//! The rule that keeps numbers unique: a session reconnects only when it found the
//! connection broken *before* sending anything of the caller's (see `session.rs`). A
//! statement that was sent and whose answer was lost is never sent again: its number, if
//! the server committed it, is skipped.

use std::time::{Duration, Instant};

use super::error::DbError;

/// What a store's or registry's connection has been through since it was opened: read
/// with [`SqlStore::stats`](crate::store::SqlStore::stats) or
/// [`Registry::stats`](crate::instance::Registry::stats), with or without the `tracing`
/// feature (which reports each as an event on `typed_id::db`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Times the connection was found broken (by the check before an operation, or
    /// marked by a failed one) and had to be replaced.
    pub connections_lost: u64,
    /// Connections re-established.
    pub reconnects: u64,
    /// Connection attempts that failed while reconnecting (each one retried while the
    /// [`ReconnectPolicy`] allowed).
    pub failed_attempts: u64,
    /// Times the policy gave up: the operation failed as unreachable.
    pub gave_up: u64,
    /// Times the SQLite database file was found deleted or replaced under the open
    /// connection (counted once: every later call fails).
    pub file_replaced: u64,
}

/// How a [`SqlStore`](crate::store::SqlStore) connects again after finding its connection
/// broken (PostgreSQL: a terminated backend, a restarted server, an idle-session
/// timeout).
///
/// The store tries at once, then after pauses that double (see
/// [`pauses`](Self::pauses)), and gives
/// up with [`StoreError::Unreachable`](crate::store::StoreError::Unreachable) (the
/// registry: [`RegistryError::Connect`](crate::instance::RegistryError::Connect)) once
/// the next attempt would start later than
/// [`within`](Self::within) after the first. The defaults: within 10 s, pauses from
/// 50 ms to 2 s (ten attempts when each fails at once). One attempt may itself take as long as the
/// driver's connect timeout: put `connect_timeout=…` in a PostgreSQL URL whose server
/// may become unreachable over TCP, or an attempt can hang for minutes.
///
/// ```
/// use std::time::Duration;
/// use typed_id::store::ReconnectPolicy;
///
/// let patient = ReconnectPolicy::new().within(Duration::from_secs(60));
/// let once = ReconnectPolicy::new().within(Duration::ZERO); // a single attempt
/// assert_ne!(patient, once);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReconnectPolicy {
    within: Duration,
    first_pause: Duration,
    max_pause: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            within: Duration::from_secs(10),
            first_pause: Duration::from_millis(50),
            max_pause: Duration::from_secs(2),
        }
    }
}

impl ReconnectPolicy {
    /// The defaults: within 10 s, pauses from 50 ms doubling up to 2 s.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How long after the first attempt a new attempt may still start
    /// ([`Duration::ZERO`]: a single attempt).
    #[must_use]
    pub fn within(mut self, within: Duration) -> Self {
        self.within = within;
        self
    }

    /// The pause after the first failed attempt; each later pause doubles.
    #[must_use]
    pub fn pauses(mut self, first: Duration, max: Duration) -> Self {
        self.first_pause = first;
        self.max_pause = max.max(first);
        self
    }

    /// Calls `connect` until it succeeds or the policy gives up.
    pub(crate) fn connect<C>(
        &self,
        connect: &dyn Fn() -> Result<C, DbError>,
    ) -> Result<C, DbError> {
        let started = Instant::now();
        let mut pause = self.first_pause;
        let mut attempts = 0_u32;
        loop {
            attempts = attempts.saturating_add(1);
            let error = match connect() {
                Ok(conn) => return Ok(conn),
                Err(e) => e,
            };
            let waited = started.elapsed();
            if waited + pause > self.within {
                return Err(DbError::Unreachable {
                    attempts,
                    waited,
                    source: Box::new(error),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(self.max_pause);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn gives_up_within_the_bound_and_counts_attempts() {
        let policy = ReconnectPolicy::new()
            .within(Duration::from_millis(300))
            .pauses(Duration::from_millis(10), Duration::from_millis(40));
        let calls = Cell::new(0_u32);
        let started = Instant::now();
        let result: Result<(), DbError> = policy.connect(&|| {
            calls.set(calls.get() + 1);
            Err(DbError::UnsupportedUrl { reason: "down" })
        });
        let elapsed = started.elapsed();
        match result {
            Err(DbError::Unreachable {
                attempts, source, ..
            }) => {
                assert_eq!(attempts, calls.get());
                // 10 + 20 + 40 + 40 … ms: at least five attempts fit in 300 ms.
                assert!(attempts >= 5, "{attempts} attempts");
                assert!(matches!(*source, DbError::UnsupportedUrl { .. }));
            }
            other => panic!("{other:?}"),
        }
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    }

    #[test]
    fn a_single_attempt_and_a_late_success() {
        let once = ReconnectPolicy::new().within(Duration::ZERO);
        let calls = Cell::new(0_u32);
        let result: Result<(), DbError> = once.connect(&|| {
            calls.set(calls.get() + 1);
            Err(DbError::UnsupportedUrl { reason: "" })
        });
        assert!(matches!(
            result,
            Err(DbError::Unreachable { attempts: 1, .. })
        ));
        assert_eq!(calls.get(), 1);

        let policy =
            ReconnectPolicy::new().pauses(Duration::from_millis(1), Duration::from_millis(2));
        let calls = Cell::new(0_u32);
        let result = policy.connect(&|| {
            calls.set(calls.get() + 1);
            if calls.get() < 3 {
                Err(DbError::UnsupportedUrl { reason: "" })
            } else {
                Ok(calls.get())
            }
        });
        assert_eq!(result.unwrap(), 3);
    }
}
