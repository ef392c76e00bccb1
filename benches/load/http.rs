//! A minimal HTTP/1.1 keep-alive client over a tokio `TcpStream` (one request in flight
//! per connection), and the driver's client that sends prepared requests with it.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::driver::{CallFuture, Client, ConnectFuture};

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

impl Conn {
    async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buf: vec![0; 16 * 1024], filled: 0 })
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        match self.stream.read(&mut self.buf[self.filled..]).await? {
            0 => Err(io::ErrorKind::UnexpectedEof.into()),
            n => {
                self.filled += n;
                Ok(())
            }
        }
    }

    /// Sends one request and reads one response (status line, headers, body with a
    /// Content-Length); returns the status code.
    async fn roundtrip(&mut self, request: &[u8]) -> io::Result<u16> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(at) = find(&self.buf[..self.filled], b"\r\n\r\n") {
                break at;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("non-UTF-8 response head"))?;
        let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad status line"))?;
        let mut length = None;
        for line in head.split("\r\n").skip(1) {
            let (name, value) = line.split_once(':').ok_or_else(|| bad("bad header line"))?;
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>().map_err(|_| bad("bad content-length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(bad("chunked responses are not supported by the bench client"));
            }
        }
        let total = head_end + 4 + length.unwrap_or(0);
        while self.filled < total {
            self.fill().await?;
        }
        self.buf.copy_within(total..self.filled, 0);
        self.filled -= total;
        Ok(status)
    }
}

/// Sends the n-th prepared request and expects `expected_status`.
pub struct HttpClient {
    conn: Conn,
    pick: Arc<dyn Fn(u64) -> Arc<[u8]> + Send + Sync>,
    expected_status: u16,
}

impl Client for HttpClient {
    fn call(&mut self, n: u64) -> CallFuture<'_> {
        Box::pin(async move {
            let request = (self.pick)(n);
            match self.conn.roundtrip(&request).await {
                Ok(status) if status == self.expected_status => Ok(()),
                Ok(status) => Err(format!("HTTP {status}")),
                Err(e) => Err(format!("io: {}", e.kind())),
            }
        })
    }
}

/// Connects HTTP clients to `addr`, each sending `pick(n)` for its n-th request.
pub fn connector(
    addr: SocketAddr,
    pick: impl Fn(u64) -> Arc<[u8]> + Send + Sync + 'static,
    expected_status: u16,
) -> impl Fn() -> ConnectFuture + Send + Sync + 'static {
    let pick: Arc<dyn Fn(u64) -> Arc<[u8]> + Send + Sync> = Arc::new(pick);
    move || {
        let pick = pick.clone();
        Box::pin(async move {
            let conn = Conn::connect(addr).await.map_err(|e| format!("connect: {}", e.kind()))?;
            Ok(Box::new(HttpClient { conn, pick, expected_status }) as Box<dyn Client>)
        })
    }
}

pub fn post(addr: SocketAddr, path: &str, body: &str) -> Arc<[u8]> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
    .into()
}
