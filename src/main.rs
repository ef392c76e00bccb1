//! The `qskip` binary: `qskip serve` (the default) runs the service.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use qskip::app::Application;
use qskip::clock::SystemClock;
use qskip::config::Config;

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
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => ServeArgs { config: std::env::var_os("QSKIP_CONFIG").map(PathBuf::from), ..ServeArgs::default() },
    };
    init_tracing(args.log_format);
    match actix_web::rt::System::new().block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("qskip: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    // Tests and scripts read this line to learn the port.
    println!("qskip listening on http://{}", app.addr());
    app.run_until_stopped().await
}
