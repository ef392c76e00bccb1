//! The `qskip` binary: `serve` (the default) runs the service; `replay` checks the
//! whole history; `events` dumps the log. All logic lives in the library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use qskip::app::Application;
use qskip::clock::SystemClock;
use qskip::config::Config;
use qskip::domain::VenueId;
use qskip::replay::Filter;
use qskip::store::EventLog;
use qskip::store::snapshot::SnapshotDir;

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

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    // Tests and scripts read this line to learn the port.
    println!("qskip listening on http://{}", app.addr());
    app.run_until_stopped().await
}
