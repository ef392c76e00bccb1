//! The HTTP servers of the load benches, each on its own thread in its own actix
//! System: the ceiling (a bare actix-web JSON echo, same runtime settings as qskip) and
//! qskip itself (in-process, temp data dir, the default journal: group commit +
//! fdatasync), with two venues of 25,000 slots per window (`spread`, `hot`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use actix_web::rt::System;
use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Utc};
use qskip::app::Application;
use qskip::clock::SystemClock;
use qskip::config::Config;

/// A server on its own thread, in its own actix System; stopped by stopping the System.
pub struct ServerThread {
    pub addr: SocketAddr,
    system: System,
    thread: JoinHandle<()>,
}

impl ServerThread {
    pub fn stop(self) {
        self.system.stop();
        let _ = self.thread.join();
    }
}

async fn echo(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(body.into_inner())
}

pub fn start_echo(workers: usize) -> ServerThread {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runner = System::new();
        let server = HttpServer::new(|| App::new().route("/echo", web::post().to(echo)))
            .workers(workers)
            .bind("127.0.0.1:0")
            .expect("bind echo server");
        let addr = server.addrs()[0];
        runner.block_on(async move {
            actix_web::rt::spawn(server.run());
            tx.send((addr, System::current())).expect("report echo address");
        });
        runner.run().expect("echo system runs");
    });
    let (addr, system) = rx.recv().expect("echo server started");
    ServerThread { addr, system, thread }
}

pub fn start_qskip(data_dir: &std::path::Path) -> ServerThread {
    let config = format!(
        r#"
bind = "127.0.0.1:0"
data_dir = "{}"

# 64 connections from one address: the per-client limits would stop the load.
[limits]
enabled = false

[[venues]]
id = "spread"
name = "Spread"
timezone = "UTC"
price_minor = 500
currency = "eur"
slots_per_hour = 100000

[[venues]]
id = "hot"
name = "Hot"
timezone = "UTC"
price_minor = 500
currency = "eur"
slots_per_hour = 100000
"#,
        data_dir.display()
    );
    let config = Config::from_toml(&config, "bench.toml".as_ref()).expect("valid bench config");
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runner = System::new();
        runner.block_on(async move {
            let app = Application::build(config, Arc::new(SystemClock)).await.expect("qskip starts");
            tx.send((app.addr(), System::current())).expect("report qskip address");
            actix_web::rt::spawn(async move {
                if let Err(e) = app.run_until_stopped().await {
                    eprintln!("qskip stopped: {e:#}");
                }
            });
        });
        runner.run().expect("qskip system runs");
    });
    let (addr, system) = rx.recv().expect("qskip started");
    ServerThread { addr, system, thread }
}

/// The reserve body for one skip in the window starting at `window_start`.
pub fn reserve_body(window_start: DateTime<Utc>) -> String {
    format!(r#"{{"quantity":1,"window_start":"{}"}}"#, window_start.format("%Y-%m-%dT%H:%M:%SZ"))
}
