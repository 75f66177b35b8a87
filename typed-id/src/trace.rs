//! Operator events through `tracing`, behind the `tracing` feature.
//!
//! Code that reports something calls `event!(area, LEVEL, "message", field = value, …)`
//! with `area` one of the stable targets below and each value optionally marked `%`
//! (`Display`) or `?` (`Debug`), as in `tracing`. With the feature the macro becomes
//! `tracing::event!` with the target `typed_id::{area}`; without it, its twin expands to
//! a block that only borrows the message and each value inside `if false`, so the build has no tracing
//! code and values computed for an event do not count as unused. Either way a value is
//! evaluated only when the event is recorded, so events belong on cold paths: the
//! counters behind each `stats()` are what every occurrence updates.
//!
//! Targets (stable, for filters such as `RUST_LOG=typed_id::lease=debug`):
//! `typed_id::generator` (hash collisions, snowflake waits and clock steps),
//! `typed_id::instance` (detection, validation, start-up), `typed_id::lease` (worker-ID
//! leases and the heartbeat), `typed_id::db` (connections lost, reconnects and their
//! retries, SQLite files replaced), `typed_id::store` (the file store's lock files).

/// Records an operator event (see the module docs).
#[cfg(feature = "tracing")]
macro_rules! event {
    ($area:ident, $level:ident, $message:literal $(,)?) => {
        ::tracing::event!(
            target: concat!("typed_id::", stringify!($area)),
            ::tracing::Level::$level,
            $message
        )
    };
    ($area:ident, $level:ident, $message:literal, $($fields:tt)+) => {
        ::tracing::event!(
            target: concat!("typed_id::", stringify!($area)),
            ::tracing::Level::$level,
            { $($fields)+ },
            $message
        )
    };
}

/// The feature-off twin of `event!`: evaluates nothing, emits nothing. (The message is
/// kept so that two branches with different events stay different to clippy.)
#[cfg(not(feature = "tracing"))]
macro_rules! event {
    ($area:ident, $level:ident, $message:literal $(,)?) => {
        if false {
            let _: &str = $message;
        }
    };
    ($area:ident, $level:ident, $message:literal, $($fields:tt)+) => {
        if false {
            let _: &str = $message;
            $crate::trace::unused_fields!($($fields)+);
        }
    };
}

/// Borrows each field value of an `event!` without evaluating anything at run time
/// (it only appears inside `if false`).
#[cfg(not(feature = "tracing"))]
macro_rules! unused_fields {
    () => {};
    ($name:ident = % $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::unused_fields!($($rest)*);)?
    };
    ($name:ident = ? $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::unused_fields!($($rest)*);)?
    };
    ($name:ident = $value:expr $(, $($rest:tt)*)?) => {
        let _ = &$value;
        $($crate::trace::unused_fields!($($rest)*);)?
    };
    ($name:ident $(, $($rest:tt)*)?) => {
        let _ = &$name;
        $($crate::trace::unused_fields!($($rest)*);)?
    };
}

pub(crate) use event;
#[cfg(not(feature = "tracing"))]
pub(crate) use unused_fields;
