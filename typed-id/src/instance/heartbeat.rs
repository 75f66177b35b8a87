//! A background thread that keeps an instance alive in the registry and its worker-ID
//! lease renewed, and reports failures instead of crashing.

use core::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::error::RegistryError;
use super::lease::WorkerLease;
use super::record::{Progress, Registration};
use super::registry::Registry;
use crate::generator::Clock;
use crate::trace::event;

/// Default time between heartbeats when no lease sets a shorter one.
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

type Renew = Box<dyn Fn() -> Result<(), RegistryError> + Send + Sync>;
type OnError = Box<dyn FnMut(RegistryError) + Send>;

/// Configures a [`Heartbeat`]; start from [`Heartbeat::builder`].
#[must_use]
pub struct HeartbeatBuilder {
    registry: Arc<Registry>,
    registration: Option<Registration>,
    lease: Option<(Renew, Duration)>,
    interval: Option<Duration>,
    progress: Progress,
    on_error: Option<OnError>,
}

impl HeartbeatBuilder {
    /// Heartbeats this registration.
    pub fn instance(mut self, registration: Registration) -> Self {
        self.registration = Some(registration);
        self
    }

    /// Renews this lease on every beat.
    pub fn lease<C: Clock + 'static>(mut self, lease: Arc<WorkerLease<C>>) -> Self {
        let period = lease.period();
        self.lease = Some((Box::new(move || lease.renew()), period));
        self
    }

    /// Time between beats (default: a third of the lease period, or 10 s without a
    /// lease). After a failure the next attempt comes after a third of this.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// The initial status sent with each heartbeat (see [`Heartbeat::set_status`]).
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.progress.status = Some(status.into());
        self
    }

    /// The initial progress (status, context percent, epic) sent with each heartbeat
    /// (see [`Heartbeat::set_progress`]).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Called on the heartbeat thread with every failure (a panic in it is caught).
    /// To receive failures elsewhere, send them into a channel:
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// # use std::sync::Arc;
    /// # use typed_id::instance::{Heartbeat, Registry};
    /// # let dir = std::env::temp_dir().join(format!("typed-id-doc-hb-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let registry = Arc::new(Registry::open(dir.join("r.db").to_str().unwrap())?);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let heartbeat = Heartbeat::builder(registry)
    ///     .on_error(move |e| drop(tx.send(e)))
    ///     .spawn()?;
    /// assert!(rx.try_recv().is_err()); // nothing failed
    /// heartbeat.stop();
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_error(mut self, f: impl FnMut(RegistryError) + Send + 'static) -> Self {
        self.on_error = Some(Box::new(f));
        self
    }

    /// Starts the thread (named `typed-id-heartbeat`). The first beat comes after one
    /// interval: registering and acquiring already count as one.
    ///
    /// # Errors
    /// The operating system refused to start a thread.
    pub fn spawn(self) -> std::io::Result<Heartbeat> {
        let interval = self.interval.unwrap_or_else(|| match &self.lease {
            Some((_, period)) => *period / 3,
            None => DEFAULT_HEARTBEAT_INTERVAL,
        });
        let shared = Arc::new(Shared {
            stop: Mutex::new(false),
            wake: Condvar::new(),
            progress: Mutex::new(self.progress),
            beats: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
        });
        let task = Task {
            registry: self.registry,
            registration: self.registration,
            lease: self.lease.map(|(renew, _)| renew),
            interval,
            on_error: self.on_error,
            shared: shared.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("typed-id-heartbeat".into())
            .spawn(move || task.run())?;
        Ok(Heartbeat {
            shared,
            thread: Some(thread),
            interval,
        })
    }
}

impl fmt::Debug for HeartbeatBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeartbeatBuilder")
            .field("registration", &self.registration)
            .field("lease", &self.lease.as_ref().map(|(_, period)| period))
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
    progress: Mutex<Progress>,
    beats: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

struct Task {
    registry: Arc<Registry>,
    registration: Option<Registration>,
    lease: Option<Renew>,
    interval: Duration,
    on_error: Option<OnError>,
    shared: Arc<Shared>,
}

impl Task {
    fn run(mut self) {
        let mut wait = self.interval;
        while self.sleep(wait) {
            let ok = self.beat();
            wait = if ok {
                self.interval
            } else {
                (self.interval / 3).max(Duration::from_millis(10))
            };
        }
    }

    /// Sleeps for `wait` unless stopped; returns whether to go on.
    fn sleep(&self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        let mut stop = self
            .shared
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if *stop {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            stop = self
                .shared
                .wake
                .wait_timeout(stop, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// One beat: lease first (it fences the generator), then the instance row.
    fn beat(&mut self) -> bool {
        let mut ok = true;
        if let Some(renew) = &self.lease
            && let Err(e) = renew()
        {
            ok = false;
            if is_final(&e) {
                self.lease = None;
            }
            self.report(e);
        }
        if let Some(registration) = &self.registration {
            let progress = self
                .shared
                .progress
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Err(e) = self.registry.heartbeat_with(registration, &progress) {
                ok = false;
                if is_final(&e) {
                    self.registration = None;
                }
                self.report(e);
            }
        }
        if ok {
            self.shared.beats.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    fn report(&mut self, e: RegistryError) {
        let failures = self.shared.failures.fetch_add(1, Ordering::Relaxed) + 1;
        event!(
            lease,
            WARN,
            "heartbeat failed",
            error = %e,
            failures,
            gives_up = is_final(&e),
        );
        *self
            .shared
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
        if let Some(f) = &mut self.on_error {
            // A panicking callback must not stop the heartbeat (the lease would lapse).
            let _ = catch_unwind(AssertUnwindSafe(|| f(e)));
        }
    }
}

/// Errors after which retrying the same task is pointless.
fn is_final(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::LeaseLost { .. }
            | RegistryError::LeaseReleased { .. }
            | RegistryError::Superseded { .. }
            | RegistryError::Closed { .. }
            | RegistryError::NotFound { .. }
            | RegistryError::DatabaseReplaced { .. }
    )
}

/// The running heartbeat thread. Stop it with [`stop`](Self::stop) (dropping it stops
/// it too).
pub struct Heartbeat {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    interval: Duration,
}

impl Heartbeat {
    /// Starts configuring a heartbeat against `registry`.
    pub fn builder(registry: Arc<Registry>) -> HeartbeatBuilder {
        HeartbeatBuilder {
            registry,
            registration: None,
            lease: None,
            interval: None,
            progress: Progress::new(),
            on_error: None,
        }
    }

    /// The status sent with the following heartbeats (`None` keeps the last one sent).
    pub fn set_status(&self, status: Option<String>) {
        self.shared
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .status = status;
    }

    /// The progress (status, context percent, epic) sent with the following
    /// heartbeats; parts left unset keep what the registry has. A context percent
    /// above 100 or an invalid epic makes those heartbeats fail (reported to the
    /// error callback).
    pub fn set_progress(&self, progress: Progress) {
        *self
            .shared
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = progress;
    }

    /// Beats that fully succeeded so far.
    #[must_use]
    pub fn beats(&self) -> u64 {
        self.shared.beats.load(Ordering::Relaxed)
    }

    /// Failures reported so far.
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.shared.failures.load(Ordering::Relaxed)
    }

    /// The message of the last failure, if any.
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        self.shared
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Time between beats.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Stops the thread and waits for it (at most one beat in progress).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        *self
            .shared
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Heartbeat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Heartbeat")
            .field("interval", &self.interval)
            .field("beats", &self.beats())
            .field("failures", &self.failures())
            .finish_non_exhaustive()
    }
}
