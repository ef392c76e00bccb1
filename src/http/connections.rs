//! The connection layer under HTTP: what happens to a TCP connection before (and
//! beside) actix-web's request handling.
//!
//! - **Per-IP cap.** At most `connections_per_ip` connections from one peer address;
//!   one more is answered `503 too_many_connections` (JSON, `Connection: close`) and
//!   closed, so one client cannot take every file descriptor of the process.
//! - **Write stall.** A connection that accepts no byte of what we have to send for
//!   `CONNECTION_WRITE_STALL_SECS` is closed: a client that stopped reading (a stalled
//!   live stream, a slow-read attack) gives its slot and buffers back.
//! - **JSON for the HTTP layer's own errors.** actix-http answers a head it cannot
//!   parse (400), one too large (431) or a head that arrives too slowly (408) with an
//!   empty body, before any route runs. Those responses are recognised on the way out
//!   (a 4xx/5xx with `content-length: 0`, which qskip's own handlers never send) and
//!   given the `{error: {code, message}}` body every other error has.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::limits::{CONNECTION_WRITE_STALL_SECS, SOCKET_SEND_BUFFER_BYTES};

/// Open connections per peer address; `None` = no cap.
#[derive(Clone, Default)]
pub struct ConnectionGuard {
    per_ip: Option<usize>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One admitted connection's place in the count; given back on drop.
struct Permit {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("connection count lock is never poisoned");
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

const REFUSED: &str = "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"too many open connections from \
                       this address; close some and retry\"}}";

impl ConnectionGuard {
    pub fn new(per_ip: Option<usize>) -> Self {
        Self { per_ip, open: Arc::default() }
    }

    /// Connections open from `ip` now.
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open.lock().expect("connection count lock is never poisoned").get(&ip).copied().unwrap_or(0)
    }

    fn try_permit(&self, ip: IpAddr) -> Option<Permit> {
        let mut open = self.open.lock().expect("connection count lock is never poisoned: no panics under it");
        let count = open.entry(ip).or_default();
        if self.per_ip.is_some_and(|max| *count >= max) {
            return None;
        }
        *count += 1;
        Some(Permit { open: self.open.clone(), ip })
    }

    /// Wraps an accepted connection; over the cap it is answered 503 at once and reads
    /// as closed, so actix drops it without reading a request.
    pub fn admit(&self, io: TcpStream) -> GuardedIo {
        if let Err(error) = socket2::SockRef::from(&io).set_send_buffer_size(SOCKET_SEND_BUFFER_BYTES) {
            tracing::warn!(%error, "cannot bound the socket send buffer");
        }
        let _ = io.set_nodelay(true);
        let permit = match io.peer_addr() {
            Ok(peer) => match self.try_permit(peer.ip()) {
                Some(permit) => Some(permit),
                None => {
                    tracing::warn!(peer = %peer.ip(), "refusing a connection: too many open from this address");
                    crate::telemetry::record_connection_refused();
                    let head = format!(
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{REFUSED}",
                        REFUSED.len()
                    );
                    // A fresh socket's send buffer always takes these few bytes (a plain
                    // send(2): tokio's try_write would wait for a first readiness event).
                    let _ = socket2::SockRef::from(&io).send(head.as_bytes());
                    return GuardedIo::new(io, None, true);
                }
            },
            Err(_) => None,
        };
        GuardedIo::new(io, permit, false)
    }
}

/// A connection as actix-http sees it (see the module doc).
pub struct GuardedIo {
    io: TcpStream,
    _permit: Option<Permit>,
    refused: bool,
    /// Running while a write waits on a full socket; the connection fails when it fires.
    stall: Option<Pin<Box<Sleep>>>,
    /// A rewritten error response still to be written.
    pending: Vec<u8>,
}

impl GuardedIo {
    fn new(io: TcpStream, permit: Option<Permit>, refused: bool) -> Self {
        Self { io, _permit: permit, refused, stall: None, pending: Vec::new() }
    }

    /// Maps a `Pending` write to an error once the socket has taken nothing for too long.
    fn stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stall = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_secs(CONNECTION_WRITE_STALL_SECS))));
        ready!(stall.as_mut().poll(cx));
        crate::telemetry::record_connection_stalled();
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client accepts no data")))
    }

    /// Writes what is pending; `Ready(Ok)` once nothing is.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.stall = None;
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return self.stalled(cx),
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for GuardedIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.refused {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.refused {
            return Poll::Ready(Ok(buf.len()));
        }
        ready!(this.drain(cx))?;
        if let Some(rewritten) = super::bare_errors::with_json_body(buf) {
            this.pending = rewritten;
            // Taken whole; written by `drain` now or on the next write or flush.
            return match this.drain(cx) {
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Pending => this.stalled(cx).map_ok(|()| 0),
            written => {
                this.stall = None;
                written
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drain(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}
