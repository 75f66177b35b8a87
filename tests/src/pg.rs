//! A real PostgreSQL server for tests, and an isolated database per test.
//!
//! With `DATABASE_URL` set (a `postgres://` URL or a libpq `key=value` string), tests use
//! that server; it must allow `CREATE DATABASE`. Otherwise the first test that asks for
//! a database starts a throwaway cluster, once per test process: `initdb` into a fresh
//! directory under `/tmp` (owned by the `postgres` user when running as root), `pg_ctl
//! start` listening on a Unix socket in that directory only (no TCP port, so parallel
//! test processes never collide), durability switched off for speed. It is stopped with
//! `pg_ctl -m fast stop` when the test process exits normally, and by a small watchdog
//! process if the test process is killed; either way its directory is removed.
//!
//! When PostgreSQL is missing the tests fail, with a message saying what to install:
//! a database test that silently skips would hide exactly what it exists to check.
//!
//! ```no_run
//! use diesel::prelude::*;
//! use typed_id_tests::pg::TestDatabase;
//!
//! let db = TestDatabase::new(); // CREATE DATABASE t_…, dropped again with `db`
//! let mut conn = db.connect();
//! diesel::sql_query("CREATE TABLE t (id TEXT PRIMARY KEY)").execute(&mut conn).unwrap();
//! ```

use std::ffi::{CString, OsStr};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use std::{env, fs};

use diesel::prelude::*;
use diesel::sql_types::Text;

/// What to tell a developer whose machine lacks PostgreSQL.
const INSTALL_HINT: &str = "install the PostgreSQL server (Debian/Ubuntu: \
     `apt-get install postgresql`), or point DATABASE_URL at a server that allows \
     CREATE DATABASE";

/// Port number of the throwaway cluster. It only names the socket file inside the
/// cluster's own directory (no TCP), so every cluster can use the same one.
const PORT: u16 = 5432;

/// The server tests run against: the throwaway cluster or `DATABASE_URL`, started or
/// checked once per process. An error is kept (not a poisoned lock) so every test that
/// needs the server fails with the same explanation.
static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

#[derive(Debug)]
struct Server {
    /// Connection string without a database name.
    base: Base,
    /// The `version()` string, for the banner.
    version: String,
    /// The cluster this process started, if it did.
    cluster: Option<Cluster>,
}

#[derive(Debug)]
enum Base {
    /// libpq `key=value` pairs; a `dbname=` is appended.
    KeyValue(String),
    /// A `postgres://` URL; the path is replaced by the database name.
    Url(String),
}

impl Base {
    fn with_dbname(&self, name: &str) -> String {
        match self {
            Base::KeyValue(base) => format!("{base} dbname={name}"),
            Base::Url(url) => url_with_dbname(url, name),
        }
    }
}

/// Replaces the database (path) of a `postgres://` URL, keeping user, host and query.
fn url_with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The connection string of the server's `postgres` database (starting the throwaway
/// cluster on first use), for administrative statements. Tests that create tables
/// should use a [`TestDatabase`] instead.
///
/// # Panics
/// When no PostgreSQL server can be started or reached, with what to install.
pub fn database_url() -> String {
    server().base.with_dbname("postgres")
}

fn server() -> &'static Server {
    match SERVER.get_or_init(start_server) {
        Ok(server) => server,
        Err(msg) => panic!("PostgreSQL is not available for the tests: {msg}"),
    }
}

fn start_server() -> Result<Server, String> {
    let (base, cluster) = match env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            let url = url.trim().to_owned();
            let base = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                Base::Url(url)
            } else {
                Base::KeyValue(url)
            };
            (base, None)
        }
        _ => {
            let cluster = Cluster::start(&ClusterConfig::default())?;
            let base = Base::KeyValue(format!(
                "host={} port={} user=postgres",
                cluster.dir.display(),
                cluster.port
            ));
            (base, Some(cluster))
        }
    };
    let url = base.with_dbname("postgres");
    let version = PgConnection::establish(&url)
        .map_err(|e| e.to_string())
        .and_then(|mut conn| {
            diesel::select(diesel::dsl::sql::<Text>("version()"))
                .get_result::<String>(&mut conn)
                .map_err(|e| e.to_string())
        })
        .map_err(|e| format!("cannot connect to {url}: {e}; {INSTALL_HINT}"))?;
    let server = Server {
        base,
        version,
        cluster,
    };
    let origin = match &server.cluster {
        Some(cluster) => format!(
            "a throwaway cluster in {} (initdb from {})",
            cluster.dir.display(),
            cluster.bin.display()
        ),
        None => "DATABASE_URL".to_owned(),
    };
    // Straight to stderr, past the test harness's output capture, so CI logs show that
    // the database tests really ran and against what.
    let _ = writeln!(
        std::io::stderr(),
        "PostgreSQL tests running against {} ({origin})",
        server.version
    );
    Ok(server)
}

/// A cluster started by this process.
#[derive(Debug)]
struct Cluster {
    /// Holds `data/`, the socket and `server.log`.
    dir: PathBuf,
    /// Directory of `initdb` and `pg_ctl`.
    bin: PathBuf,
    /// The port: the socket's name, and the TCP port when the cluster listens on one.
    port: u16,
    /// `(uid, gid)` to run the server tools as, when running as root.
    run_as: Option<(u32, u32)>,
    /// Stops the cluster if this process dies without running its exit handlers.
    watchdog: Mutex<Option<Child>>,
}

/// How a cluster is started: settings beyond the fast defaults, and TCP listening.
#[derive(Clone, Debug, Default)]
pub struct ClusterConfig {
    /// `-c name=value` settings, applied after the defaults (so they win).
    settings: Vec<(String, String)>,
    /// An address to listen on over TCP (besides the socket), and extra `pg_hba.conf`
    /// lines for clients that connect there.
    tcp: Option<(String, Vec<String>)>,
}

impl ClusterConfig {
    /// The defaults: a Unix socket only, `fsync = off`, `synchronous_commit = off`.
    #[must_use]
    pub fn new() -> ClusterConfig {
        ClusterConfig::default()
    }

    /// Adds a server setting (`-c name=value`), e.g. `("statement_timeout", "50ms")`.
    #[must_use]
    pub fn setting(mut self, name: &str, value: &str) -> ClusterConfig {
        self.settings.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Also listens over TCP on `address` (an address of this machine, such as a veth
    /// end a test made), trusting clients from `client_cidr` (e.g. `192.0.2.0/24`).
    #[must_use]
    pub fn listen_tcp(mut self, address: &str, client_cidr: &str) -> ClusterConfig {
        self.tcp = Some((
            address.to_owned(),
            vec![format!("host all all {client_cidr} trust")],
        ));
        self
    }
}

impl Cluster {
    fn start(config: &ClusterConfig) -> Result<Cluster, String> {
        let bin = find_bin_dir().ok_or_else(|| {
            format!(
                "no PostgreSQL server binaries (initdb, pg_ctl) under \
                 /usr/lib/postgresql/*/bin or on PATH; {INSTALL_HINT}"
            )
        })?;
        // SAFETY: geteuid has no preconditions.
        let run_as = if unsafe { libc::geteuid() } == 0 {
            // PostgreSQL refuses to run as root.
            Some(lookup_user("postgres").ok_or_else(|| {
                format!(
                    "running as root and there is no `postgres` user to run the server \
                     as; {INSTALL_HINT}"
                )
            })?)
        } else {
            None
        };
        // Short, fixed parent: the socket path must fit in 107 bytes.
        let dir = make_unique_dir(Path::new("/tmp"), "typed-id-pg")
            .map_err(|e| format!("cannot create a directory for the cluster: {e}"))?;
        let port = match &config.tcp {
            Some((address, _)) => free_port(address)?,
            None => PORT,
        };
        let cluster = Cluster {
            dir,
            bin,
            port,
            run_as,
            watchdog: Mutex::new(None),
        };
        match cluster.init_and_start(config) {
            Ok(()) => Ok(cluster),
            Err(e) => {
                cluster.stop();
                Err(e)
            }
        }
    }

    fn init_and_start(&self, config: &ClusterConfig) -> Result<(), String> {
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot chown {}: {e}", self.dir.display()))?;
        }
        let data = self.dir.join("data");
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        // Register the clean-up before the server exists, so a failed start is cleaned
        // up too; then the watchdog, for a process killed before its exit handlers run.
        register_exit_handler();
        self.spawn_watchdog();
        if let Some((_, hba)) = &config.tcp {
            let path = data.join("pg_hba.conf");
            let mut text = fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for line in hba {
                text.push_str(line);
                text.push('\n');
            }
            fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        fs::write(self.dir.join("server.opts"), self.options(config))
            .map_err(|e| format!("cannot record the server options: {e}"))?;
        self.pg_ctl_start()
    }

    /// The server's command-line options for `config`.
    fn options(&self, config: &ClusterConfig) -> String {
        let listen = config
            .tcp
            .as_ref()
            .map_or("", |(address, _)| address.as_str());
        let mut options = format!(
            "-k {} -c listen_addresses='{listen}' -p {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            self.dir.display(),
            self.port,
        );
        for (name, value) in &config.settings {
            options.push_str(&format!(" -c {name}={value}"));
        }
        options
    }

    /// `pg_ctl start` with the options recorded at initialisation.
    fn pg_ctl_start(&self) -> Result<(), String> {
        let data = self.dir.join("data");
        let options = fs::read_to_string(self.dir.join("server.opts"))
            .map_err(|e| format!("cannot read the server options: {e}"))?;
        let log = self.dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| {
            let log = fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\nserver.log:\n{log}")
        })
    }

    /// Runs one of the server's tools (as the `postgres` user when root), failing with
    /// its output.
    fn run(&self, tool: &str, args: &[&OsStr]) -> Result<(), String> {
        let mut cmd = self.command(tool);
        let output = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.join(tool).display()))?;
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{tool} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }

    fn command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(tool));
        cmd.current_dir(&self.dir).env("LC_ALL", "C");
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// A `sh` process, in its own process group so a Ctrl-C aimed at the tests does not
    /// reach it, that waits for this process to disappear, then stops the server (SIGINT
    /// is `pg_ctl -m fast stop`) and removes the directory. After a normal exit it finds
    /// the directory gone and has nothing to do.
    fn spawn_watchdog(&self) {
        const SCRIPT: &str = r#"
            while kill -0 "$1" 2>/dev/null; do sleep 1; done
            pidfile="$2/data/postmaster.pid"
            if [ -f "$pidfile" ]; then
                pid=$(head -n 1 "$pidfile")
                kill -INT "$pid" 2>/dev/null
                i=0
                while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 600 ]; do
                    sleep 0.1; i=$((i + 1))
                done
            fi
            rm -rf "$2"
        "#;
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("typed-id-pg-watchdog")
            .arg(std::process::id().to_string())
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        // Without a watchdog the exit handler still cleans up after a normal exit.
        if let Ok(child) = child {
            *self.watchdog.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        }
    }

    /// Stops the server if it runs and removes its directory.
    fn stop(&self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "fast", "-w", "-t", "60", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = fs::remove_dir_all(&self.dir);
        if let Some(mut child) = self
            .watchdog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TCP port nobody listens on at `address` right now (the kernel's choice).
fn free_port(address: &str) -> Result<u16, String> {
    let listener = std::net::TcpListener::bind((address, 0))
        .map_err(|e| format!("cannot find a free port on {address}: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port on {address}: {e}"))
}

/// A PostgreSQL cluster of one test's own, for faults that would disturb every other
/// test sharing the process's server: immediate restarts, server settings such as
/// `statement_timeout`, TCP listening on a test network. Stopped and removed when
/// dropped (and by a watchdog if the test process is killed).
///
/// ```no_run
/// use typed_id_tests::pg::{ClusterConfig, PrivateCluster};
///
/// let cluster = PrivateCluster::start(ClusterConfig::new().setting("statement_timeout", "100ms"));
/// let url = cluster.create_database();
/// cluster.restart_immediate();
/// # let _ = url;
/// ```
#[derive(Debug)]
pub struct PrivateCluster {
    cluster: Cluster,
    tcp_address: Option<String>,
}

impl PrivateCluster {
    /// Initialises and starts a cluster with `config`.
    ///
    /// # Panics
    /// When PostgreSQL is missing or the server does not start.
    #[must_use]
    pub fn start(config: ClusterConfig) -> PrivateCluster {
        let tcp_address = config.tcp.as_ref().map(|(address, _)| address.clone());
        let cluster = Cluster::start(&config)
            .unwrap_or_else(|e| panic!("cannot start a private PostgreSQL cluster: {e}"));
        PrivateCluster {
            cluster,
            tcp_address,
        }
    }

    /// A libpq connection string for database `dbname` over the Unix socket.
    #[must_use]
    pub fn socket_url(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user=postgres dbname={dbname}",
            self.cluster.dir.display(),
            self.cluster.port
        )
    }

    /// A libpq connection string for database `dbname` over TCP, with a short connect
    /// timeout (a partitioned client must fail, not hang).
    ///
    /// # Panics
    /// When the cluster was not started with [`ClusterConfig::listen_tcp`].
    #[must_use]
    pub fn tcp_url(&self, dbname: &str) -> String {
        let address = self
            .tcp_address
            .as_deref()
            .expect("the cluster listens on TCP (ClusterConfig::listen_tcp)");
        format!(
            "host={address} port={} user=postgres dbname={dbname} connect_timeout=2",
            self.cluster.port
        )
    }

    /// Creates a fresh database and returns its name.
    ///
    /// # Panics
    /// When the server refuses.
    #[must_use]
    pub fn create_database(&self) -> String {
        let name = format!("t_{}", unique_suffix());
        let mut admin = self.admin();
        diesel::sql_query(format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .execute(&mut admin)
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        name
    }

    /// A connection to the `postgres` database over the socket.
    ///
    /// # Panics
    /// When the server cannot be reached.
    #[must_use]
    pub fn admin(&self) -> PgConnection {
        let url = self.socket_url("postgres");
        PgConnection::establish(&url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
    }

    /// Crashes the server (`pg_ctl stop -m immediate`: no checkpoint, every backend
    /// killed, as a power cut would, less the disk) and starts it again.
    ///
    /// # Panics
    /// When either step fails.
    pub fn restart_immediate(&self) {
        self.stop_immediate();
        self.start_again();
    }

    /// Stops the server at once (`-m immediate`).
    ///
    /// # Panics
    /// When `pg_ctl` fails.
    pub fn stop_immediate(&self) {
        let data = self.cluster.dir.join("data");
        self.cluster
            .run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "stop".as_ref(),
                ],
            )
            .unwrap_or_else(|e| panic!("cannot stop the private cluster: {e}"));
    }

    /// Starts a stopped server again with the same options.
    ///
    /// # Panics
    /// When it does not start.
    pub fn start_again(&self) {
        self.cluster
            .pg_ctl_start()
            .unwrap_or_else(|e| panic!("cannot start the private cluster again: {e}"));
    }

    /// The server's log so far.
    #[must_use]
    pub fn log(&self) -> String {
        fs::read_to_string(self.cluster.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.cluster.stop();
    }
}

fn register_exit_handler() {
    extern "C" fn stop_cluster() {
        if let Some(Ok(Server {
            cluster: Some(cluster),
            ..
        })) = SERVER.get()
        {
            cluster.stop();
        }
    }
    static REGISTERED: OnceLock<()> = OnceLock::new();
    REGISTERED.get_or_init(|| {
        // SAFETY: `stop_cluster` is a plain `extern "C" fn()` that does not unwind.
        // It runs during `exit`, which libtest's `main` ends with.
        let _ = unsafe { libc::atexit(stop_cluster) };
    });
    // A start that failed before `SERVER` is set is cleaned up by `Cluster::start`.
}

/// The directory holding `initdb` and `pg_ctl`: `$PG_BIN_DIR`, the newest
/// `/usr/lib/postgresql/N/bin` (Debian, Ubuntu), `pg_config --bindir`, or `PATH`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = env::var_os("PG_BIN_DIR").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_tools(&dir) {
            return Some(dir);
        }
    }
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .chain([PathBuf::from("/usr/local/pgsql/bin")])
        .find(|dir| has_tools(dir))
}

/// `(uid, gid)` of a user.
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    // SAFETY: `getpwnam` is given a NUL-terminated string; the record it returns is
    // read at once (this runs inside a `OnceLock` initializer, so not concurrently
    // with another lookup of ours).
    unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            None
        } else {
            Some(((*pw).pw_uid, (*pw).pw_gid))
        }
    }
}

/// A name no other test, in this process or another, is using: pid, counter, clock.
pub(crate) fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}_{n}_{nanos:x}", std::process::id())
}

/// Creates a new directory `parent/{prefix}-{unique}`, mode 0700.
pub(crate) fn make_unique_dir(parent: &Path, prefix: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    loop {
        let dir = parent.join(format!("{prefix}-{}", unique_suffix()));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
}

/// A database of its own for one test: created empty (`C` collation, UTF-8) on the
/// test server, dropped when this value is dropped. Tests using different
/// `TestDatabase`s can run in parallel.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a fresh database, starting the server first if needed.
    ///
    /// # Panics
    /// When PostgreSQL is not available (saying what to install), or the database
    /// cannot be created.
    #[must_use]
    pub fn new() -> TestDatabase {
        let server = server();
        let name = format!("t_{}", unique_suffix());
        let mut admin = admin_connection(server);
        // template0: nobody is ever connected to it, so concurrent creates never fail
        // with "source database is being accessed by other users".
        diesel::sql_query(format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .execute(&mut admin)
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        let url = server.base.with_dbname(&name);
        TestDatabase { name, url }
    }

    /// The database's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its connection string (for `PgConnection::establish` or any libpq client).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection to it.
    ///
    /// # Panics
    /// When the connection fails.
    #[must_use]
    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.url))
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        TestDatabase::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Matters for a shared DATABASE_URL server; the throwaway cluster goes anyway.
        if let Some(Ok(server)) = SERVER.get()
            && let Ok(mut admin) = PgConnection::establish(&server.base.with_dbname("postgres"))
        {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

fn admin_connection(server: &Server) -> PgConnection {
    let url = server.base.with_dbname("postgres");
    PgConnection::establish(&url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::url_with_dbname;

    #[test]
    fn url_dbname_is_replaced() {
        assert_eq!(
            url_with_dbname("postgres://u:p@h:5/db?sslmode=disable", "t_1"),
            "postgres://u:p@h:5/t_1?sslmode=disable"
        );
        assert_eq!(url_with_dbname("postgres://h", "t_1"), "postgres://h/t_1");
        assert_eq!(
            url_with_dbname("postgresql://%2Ftmp%2Fx/", "t_1"),
            "postgresql://%2Ftmp%2Fx/t_1"
        );
    }
}
