//! What the port answers while the service recovers (snapshot + log tail, venues):
//! `GET /healthz` is 200 (the process is alive), everything else - `/readyz` included -
//! is `503 not_ready` with `Retry-After`. A load balancer thus sees "alive, not ready"
//! instead of a refused connection, and no request reaches half-recovered state.
//!
//! It serves a clone of the real listener; once recovery is done it stops and the full
//! server takes over the same socket, so connections waiting in the backlog are answered
//! by the full server.

use std::net::TcpListener;

use super::{ApiError, health};
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};

use crate::limits::{RECOVERING_SHUTDOWN_SECS, RECOVERING_WORKERS};

/// The stand-in server; [`RecoveringServer::stop`] it before the real one starts.
pub struct RecoveringServer {
    handle: ServerHandle,
}

impl RecoveringServer {
    /// Starts answering on (a clone of) `listener`.
    pub fn start(listener: &TcpListener) -> std::io::Result<Self> {
        let server = HttpServer::new(|| {
            App::new().route("/healthz", web::get().to(health::healthz)).default_service(web::to(not_ready))
        })
        .workers(RECOVERING_WORKERS)
        // Probes must not hold the handover up: one request per connection, quick stop.
        .keep_alive(actix_web::http::KeepAlive::Disabled)
        .shutdown_timeout(RECOVERING_SHUTDOWN_SECS)
        .disable_signals()
        .listen(listener.try_clone()?)?
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ok(Self { handle })
    }

    /// Stops answering; requests in flight finish first.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

async fn not_ready() -> HttpResponse {
    ApiError::not_ready("the service is recovering its state; retry shortly").error_response()
}
