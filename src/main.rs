//! The `qskip` binary: `serve` (the default) runs the service; `replay` checks the
//! whole history; `events` dumps the log; `backup`, `verify-backup` and `restore`
//! keep a second copy of it. All logic lives in the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use qskip::app::Application;
use qskip::backup;
use qskip::clock::SystemClock;
use qskip::config::Config;
use qskip::domain::VenueId;
use qskip::replay::Filter;
use qskip::store::EventLog;
use qskip::store::snapshot::SnapshotDir;

/// mimalloc instead of glibc malloc: about a tenth of the server's CPU went to glibc's
/// malloc/free under load (see README, Performance), and its arenas fragment with many
/// small, short-lived allocations per request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "qskip", version, about = "Sells queue skips per 15-minute window and never oversells")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Rebuild every window from the log, check the invariants, compare with the newest
    /// snapshot, print a report with a state digest.
    /// Exits 0 when clean, 2 when a violation was found.
    Replay(ReplayArgs),
    /// Dump the log as JSON lines (debugging, export).
    Events(EventsArgs),
    /// Write a backup file: of a running service through its admin API (`--url`), or
    /// of a stopped one's data dir (`--data-dir`). Sales go on meanwhile.
    Backup(BackupArgs),
    /// Check a backup file (and an archive) as a restore would, without restoring.
    VerifyBackup(VerifyArgs),
    /// Build a new data dir from a backup file plus archived records after it.
    Restore(RestoreArgs),
}

#[derive(clap::Args)]
struct BackupArgs {
    /// Base URL of the running service, e.g. http://127.0.0.1:8080.
    #[arg(long, conflicts_with = "data_dir", required_unless_present = "data_dir", requires = "token_file")]
    url: Option<String>,
    /// File holding the admin token (with `--url`).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Data dir of a stopped service.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The backup file to write (atomically: it appears complete or not at all).
    #[arg(long)]
    to: PathBuf,
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The backup file.
    file: PathBuf,
    /// Also check the archive segments that follow the backup.
    #[arg(long)]
    archive: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    from: PathBuf,
    /// Archive directory whose segments after the backup are applied too.
    #[arg(long)]
    archive: Option<PathBuf>,
    /// The new data dir: must not exist or be empty.
    #[arg(long)]
    data_dir: PathBuf,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Data dir of a stopped service (or a copy of a running one's).
    #[arg(long, env = "QSKIP_DATA_DIR")]
    data_dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Report only this venue's windows.
    #[arg(long)]
    venue: Option<String>,
    /// Report only windows ending after this time (RFC 3339).
    #[arg(long)]
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// Report only windows starting before this time (RFC 3339).
    #[arg(long)]
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// After a clean replay, write a fresh snapshot of the whole log into
    /// `<data-dir>/snapshots/` (the newest two are kept).
    #[arg(long)]
    rebuild_snapshots: bool,
}

#[derive(clap::Args)]
struct EventsArgs {
    #[arg(long, env = "QSKIP_DATA_DIR")]
    data_dir: PathBuf,
    /// Only this venue's records.
    #[arg(long)]
    venue: Option<String>,
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// TOML config file; without one, a demo venue is served on 127.0.0.1:8080.
    #[arg(long, env = "QSKIP_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum LogFormat {
    #[default]
    Pretty,
    Json,
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colour only on a terminal: a log written to a file or a pipe stays plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Replay(args)) => replay(args),
        Some(Command::Events(args)) => events(args),
        Some(Command::Backup(args)) => backup(args),
        Some(Command::VerifyBackup(args)) => verify_backup(args),
        Some(Command::Restore(args)) => restore(args),
        Some(Command::Serve(args)) => run_serve(args),
        None => {
            run_serve(ServeArgs { config: std::env::var_os("QSKIP_CONFIG").map(PathBuf::from), ..ServeArgs::default() })
        }
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("qskip: {error:#}");
        ExitCode::FAILURE
    })
}

fn run_serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_tracing(args.log_format);
    match qskip::fd_limit::raise_to_hard_limit() {
        Ok(limit) => tracing::info!(?limit, "file-descriptor limit raised to the hard limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the file-descriptor limit"),
    }
    actix_web::rt::System::new().block_on(serve(args)).inspect_err(|error| tracing::error!("{error:#}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Opens an existing data dir (replay must not create an empty one by mistake).
fn open_existing(dir: &std::path::Path) -> anyhow::Result<EventLog> {
    anyhow::ensure!(dir.join("db").is_file(), "{} holds no qskip data (no sled database)", dir.display());
    Ok(EventLog::open(dir)?)
}

fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let log = open_existing(&args.data_dir)?;
    let venue = args.venue.as_deref().map(VenueId::parse).transpose()?;
    let filter = Filter { venue, from: args.from, to: args.to };
    let snapshots = SnapshotDir::of_data_dir(&args.data_dir);
    let progress = match std::io::stderr().is_terminal() {
        true => ProgressBar::new(0),
        false => ProgressBar::hidden(),
    };
    let style =
        ProgressStyle::with_template("replaying {bar:40} {pos}/{len} records ({percent}%, {per_sec}, eta {eta})")
            .expect("the progress template is valid");
    progress.set_style(style);
    let report = qskip::replay::replay(&log, &snapshots, &filter, |done, total| {
        progress.set_length(total);
        progress.set_position(done);
    })?;
    progress.finish_and_clear();
    match args.json {
        true => println!("{}", serde_json::to_string_pretty(&report)?),
        false => print!("{}", report.table()),
    }
    if !report.is_clean() {
        return Ok(ExitCode::from(2));
    }
    if args.rebuild_snapshots {
        let path = qskip::replay::rebuild_snapshot(&log, &snapshots, chrono::Utc::now())?;
        eprintln!("wrote snapshot {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn events(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let log = open_existing(&args.data_dir)?;
    let venue = args.venue.as_deref().map(VenueId::parse).transpose()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    qskip::replay::dump_events(&log, venue.as_ref(), &mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let header = match (&args.url, &args.data_dir) {
        (Some(url), _) => {
            let token_file = args.token_file.as_deref().expect("clap requires --token-file with --url");
            let token = std::fs::read_to_string(token_file)
                .map_err(|e| anyhow::anyhow!("cannot read the token file {}: {e}", token_file.display()))?;
            let remote = backup::client::backup_remote(url, token.trim(), &args.to);
            actix_web::rt::System::new().block_on(remote)?
        }
        (None, Some(dir)) => backup::client::backup_data_dir(dir, &args.to)?,
        (None, None) => unreachable!("clap requires --url or --data-dir"),
    };
    eprintln!(
        "wrote {}: records 1..={} ({}), state digest {}",
        args.to.display(),
        header.last_seq,
        header.record_count,
        header.digest.unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

fn verify_backup(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let checked = backup::restore::verify(&args.file, args.archive.as_deref())?;
    let digest = checked.header.digest.unwrap_or_default();
    println!(
        "ok: {} holds records 1..={} with state digest {digest}; with {} archive segments it restores to {}",
        args.file.display(),
        checked.header.last_seq,
        checked.segments,
        checked.last_seq
    );
    Ok(ExitCode::SUCCESS)
}

fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let restored = backup::restore::restore(&args.from, args.archive.as_deref(), &args.data_dir)?;
    eprintln!(
        "restored {} records (backup to {}, {} archive segments) into {} in {:.1} s",
        restored.last_seq,
        restored.header.last_seq,
        restored.segments,
        args.data_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    // Tests and scripts read this line to learn the port.
    println!("qskip listening on http://{}", app.addr());
    app.run_until_stopped().await
}
