//! The peers qskip is measured against, with the same reserve semantics: the capacity
//! check and the hold in one atomic step, durable before the answer.
//!
//! - Redis: a Lua script (`EVALSHA`) on a sorted set of holds per window, expired ones
//!   dropped first; `appendfsync always` (each write fsynced before the reply, the
//!   durable peer) and `everysec` for reference (may lose about a second of sales).
//! - PostgreSQL: one conditional statement (`UPDATE windows … WHERE committed + q <=
//!   capacity` feeding `INSERT INTO holds`) with `synchronous_commit = on`.
//!
//! Both are Debian's packages (`redis-server`, `postgresql`), installed with apt-get
//! when missing, started on 127.0.0.1 with throwaway data dirs and stopped by PID.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::driver::{CallFuture, Client, ConnectFuture};

/// Slots per window, as qskip's bench venues (100,000 slots per hour / 4).
pub const CAPACITY: i64 = 25_000;
/// Windows the spread workload cycles through; hot windows come after them.
pub const SPREAD_WINDOWS: u64 = 200;
/// Requests on one hot window before every connection moves on (below CAPACITY).
pub const HOT_REQUESTS_PER_WINDOW: u64 = 20_000;
const HOT_WINDOWS: u64 = 200;
const HOLD_TTL_SECS: i64 = 30 * 60;
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which window the n-th request of a workload takes.
pub fn window_of(hot: bool, n: u64) -> u64 {
    match hot {
        false => n % SPREAD_WINDOWS,
        true => SPREAD_WINDOWS + (n / HOT_REQUESTS_PER_WINDOW) % HOT_WINDOWS,
    }
}

/// Installs Debian packages whose `probe` file is missing (sudo when not root).
pub fn ensure_installed(probe: &str, packages: &[&str]) -> bool {
    if Path::new(probe).exists() {
        return true;
    }
    eprintln!("installing {} with apt-get", packages.join(" "));
    let root = rustix::process::geteuid().is_root();
    let mut apt = Command::new(if root { "apt-get" } else { "sudo" });
    if !root {
        apt.arg("apt-get");
    }
    let ok = apt.args(["install", "-y", "-qq", "--no-install-recommends"]).args(packages).status();
    ok.is_ok_and(|s| s.success()) && Path::new(probe).exists()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// A peer server process, killed (by PID) when dropped, with its data dir.
pub struct Server {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + READY_TIMEOUT;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not become ready in {READY_TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------
// Redis

const RESERVE_LUA: &str = r"
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[5])
return 1
";

/// `redis-server` with AOF on and `appendfsync` = `fsync` (`always` or `everysec`).
pub fn start_redis(fsync: &str) -> Server {
    let dir = tempfile::tempdir().expect("redis data dir");
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save", "", "--appendonly", "yes"])
        .args(["--appendfsync", fsync, "--maxclients", "1000", "--daemonize", "no", "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let url = format!("redis://127.0.0.1:{port}/");
    wait_until("redis-server", || {
        redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .is_ok_and(|mut c| redis::cmd("PING").query::<String>(&mut c).is_ok())
    });
    Server { child, port, _dir: dir }
}

struct RedisReserve {
    conn: redis::aio::MultiplexedConnection,
    script: redis::Script,
    hot: bool,
}

impl Client for RedisReserve {
    fn call(&mut self, n: u64) -> CallFuture<'_> {
        Box::pin(async move {
            let now = chrono::Utc::now().timestamp();
            let mut call = self.script.key(format!("w:{}", window_of(self.hot, n)));
            call.arg(now).arg(HOLD_TTL_SECS).arg(1).arg(CAPACITY).arg(n);
            match call.invoke_async::<i64>(&mut self.conn).await {
                Ok(1) => Ok(()),
                Ok(_) => Err("sold out".into()),
                Err(e) => Err(format!("io: {e}")),
            }
        })
    }
}

/// Connects one Redis connection per driver connection (no sharing: same concurrency
/// as qskip's keep-alive HTTP connections).
pub fn redis_connector(port: u16, hot: bool) -> impl Fn() -> ConnectFuture + Send + Sync + 'static {
    move || {
        Box::pin(async move {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(|e| e.to_string())?;
            let conn = client.get_multiplexed_async_connection().await.map_err(|e| format!("connect: {e}"))?;
            Ok(Box::new(RedisReserve { conn, script: redis::Script::new(RESERVE_LUA), hot }) as Box<dyn Client>)
        })
    }
}

// ---------------------------------------------------------------------------------
// PostgreSQL

const SCHEMA: &str = "CREATE TABLE windows (id bigint PRIMARY KEY, capacity bigint NOT NULL, committed bigint NOT NULL);
CREATE TABLE holds (id bigint PRIMARY KEY, window_id bigint NOT NULL, quantity bigint NOT NULL, expires_at timestamptz NOT NULL);";

const RESERVE_SQL: &str = "WITH w AS (UPDATE windows SET committed = committed + $2 \
     WHERE id = $1 AND committed + $2 <= capacity RETURNING id) \
     INSERT INTO holds (id, window_id, quantity, expires_at) SELECT $3, id, $2, now() + interval '30 minutes' FROM w";

/// Debian's PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`), newest first.
pub fn postgres_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path().join("bin")).collect();
    dirs.sort();
    dirs.pop().filter(|d| d.join("postgres").exists())
}

/// The postgres server refuses to run as root: as root, run it as the `postgres` user.
fn as_db_user(bin: &Path, program: &str, dir: &Path) -> Command {
    if !rustix::process::geteuid().is_root() {
        return Command::new(bin.join(program));
    }
    let uid = passwd_id("postgres").expect("Debian's postgresql package creates the postgres user");
    std::os::unix::fs::chown(dir, Some(uid.0), Some(uid.1)).expect("hand the data dir to postgres");
    let mut command = Command::new("setpriv");
    command.args(["--reuid", &uid.0.to_string(), "--regid", &uid.1.to_string(), "--clear-groups", "--"]);
    command.arg(bin.join(program));
    command
}

fn passwd_id(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.split(':').next() == Some(user))?;
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

/// A PostgreSQL cluster in a fresh dir, `synchronous_commit = on`, windows created.
pub fn start_postgres(rt: &tokio::runtime::Runtime) -> Server {
    let bin = postgres_bin().expect("PostgreSQL is installed");
    let dir = tempfile::tempdir().expect("postgres data dir");
    // initdb creates it, owned by whoever runs the server.
    let data = dir.path().join("data");
    let initdb = as_db_user(&bin, "initdb", dir.path())
        .args(["-U", "bench", "--auth=trust", "-E", "UTF8", "-D"])
        .arg(&data)
        .stdout(Stdio::null())
        .status();
    assert!(initdb.is_ok_and(|s| s.success()), "initdb failed");
    let port = free_port();
    let mut postgres = as_db_user(&bin, "postgres", dir.path());
    postgres.arg("-D").arg(&data).args(["-p", &port.to_string(), "-k"]).arg(dir.path());
    for setting in ["listen_addresses=127.0.0.1", "max_connections=300", "synchronous_commit=on", "fsync=on"] {
        postgres.args(["-c", setting]);
    }
    let child = postgres.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("postgres starts");
    let server = Server { child, port, _dir: dir };
    wait_until("postgres", || rt.block_on(pg_connect(port)).is_ok());
    rt.block_on(async {
        let client = pg_connect(port).await.expect("connect to set up");
        client.batch_execute(SCHEMA).await.expect("schema");
        let windows = SPREAD_WINDOWS + HOT_WINDOWS;
        let seed = format!("INSERT INTO windows SELECT g, {CAPACITY}, 0 FROM generate_series(0, {}) g", windows - 1);
        client.batch_execute(&seed).await.expect("windows");
    });
    server
}

async fn pg_connect(port: u16) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let config = format!("host=127.0.0.1 port={port} user=bench dbname=postgres");
    let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

struct PgReserve {
    client: tokio_postgres::Client,
    statement: tokio_postgres::Statement,
    hot: bool,
}

impl Client for PgReserve {
    fn call(&mut self, n: u64) -> CallFuture<'_> {
        Box::pin(async move {
            let window = window_of(self.hot, n) as i64;
            // Hot and spread phases share the holds table: their ids must differ.
            let id = i64::try_from(n).expect("fewer than 2^40 requests") + if self.hot { 1 << 40 } else { 0 };
            match self.client.execute(&self.statement, &[&window, &1i64, &id]).await {
                Ok(1) => Ok(()),
                Ok(_) => Err("sold out".into()),
                Err(e) => Err(format!("io: {e}")),
            }
        })
    }
}

pub fn postgres_connector(port: u16, hot: bool) -> impl Fn() -> ConnectFuture + Send + Sync + 'static {
    move || {
        Box::pin(async move {
            let client = pg_connect(port).await.map_err(|e| format!("connect: {e}"))?;
            let statement = client.prepare(RESERVE_SQL).await.map_err(|e| format!("prepare: {e}"))?;
            Ok(Box::new(PgReserve { client, statement, hot }) as Box<dyn Client>)
        })
    }
}
