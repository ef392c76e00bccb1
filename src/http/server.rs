//! The HTTP/1.1 server: actix-server accepting on the bound listener, every accepted
//! connection passed through the [`ConnectionGuard`](super::connections) before
//! actix-http parses it, then the actix-web app. (actix-web's `HttpServer` hands the
//! raw `TcpStream` straight to actix-http; this is the same assembly with the guard in
//! between.)

use std::net::TcpListener;
use std::time::Duration;

use actix_http::body::MessageBody;
use actix_http::{HttpService, Protocol, Request, Response};
use actix_service::{IntoServiceFactory, ServiceFactory, ServiceFactoryExt as _, fn_service, map_config};
use actix_web::dev::{AppConfig, Server};
use actix_web::rt::net::TcpStream;

use super::connections::ConnectionGuard;
use crate::limits::{REQUEST_HEAD_TIMEOUT_MS, SHUTDOWN_TIMEOUT_SECS};

/// Serves the app `factory` builds (one per worker) on `listener`, behind `guard`.
pub fn serve<F, I, S, B>(listener: TcpListener, guard: ConnectionGuard, factory: F) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: std::fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let server = Server::build().shutdown_timeout(SHUTDOWN_TIMEOUT_SECS).listen("qskip", listener, move || {
        let guard = guard.clone();
        let app = factory().into_factory().map_err(|err| err.into().error_response());
        let http = HttpService::build()
            .client_request_timeout(Duration::from_millis(REQUEST_HEAD_TIMEOUT_MS))
            .local_addr(addr)
            .finish(map_config(app, |_| AppConfig::default()));
        fn_service(move |io: TcpStream| {
            let peer = io.peer_addr().ok();
            let io = guard.admit(io);
            async move { Ok((io, Protocol::Http1, peer)) }
        })
        .and_then(http)
    })?;
    Ok(server.run())
}
