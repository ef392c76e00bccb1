//! `POST /v1/admin/backup`: streams a backup file of the running service (format:
//! `backups/README.md`) without pausing sales.
//!
//! The position is a durable cut (`backup::cut`); the records up to it are folded once
//! to state the digest in the header, then read again and streamed. Both passes run on
//! a thread of their own at the lowest CPU priority (`backup::producer`) and only read
//! sled, which its writer does not wait for. The body
//! is produced through a bounded channel, so a slow client slows the reading, never
//! the memory. If reading fails midway the body ends without its trailer, and every
//! reader refuses it.

use std::io::Write;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use tokio::sync::{mpsc, oneshot};

use super::auth::authorize;
use crate::backup::BackupError;
use crate::backup::cut::durable_cut;
use crate::backup::producer::{self, BackupSink};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, AppState};
use crate::limits::{BACKUP_STREAM_CHUNK_BYTES, BACKUP_STREAM_CHUNKS_QUEUED};

/// Header naming the position of the streamed backup.
pub const LAST_SEQ_HEADER: &str = "X-Qskip-Backup-Last-Seq";
/// Header carrying the state digest the backup states.
pub const DIGEST_HEADER: &str = "X-Qskip-Backup-Digest";

type Chunk = Result<Bytes, std::io::Error>;

#[utoipa::path(
    post,
    path = "/v1/admin/backup",
    tag = "admin",
    operation_id = "admin_backup",
    summary = "Stream a backup file of every record up to a durable position (format: backups/README.md); sales go on",
    responses(
        (status = 200, description = "The backup file (`application/octet-stream`); headers `X-Qskip-Backup-Last-Seq` \
                                      and `X-Qskip-Backup-Digest` state its position and state digest", body = Vec<u8>),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`admin_disabled`", body = ErrorBody),
        (status = 500, description = "`backup_failed`", body = ErrorBody),
        (status = 503, description = "`not_ready`: the journal has stopped", body = ErrorBody),
    ),
    security(("admin_token" = [])),
)]
pub async fn backup(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let log = state.services.log().clone();
    let cut = durable_cut(&log, &state.journal).await.map_err(failed)?;
    let now = state.services.now().timestamp_micros();
    let (tx, rx) = mpsc::channel::<Chunk>(BACKUP_STREAM_CHUNKS_QUEUED);
    let (header_tx, header_rx) = oneshot::channel();
    let sink = ChannelWriter { buf: Vec::with_capacity(BACKUP_STREAM_CHUNK_BYTES), tx };
    producer::spawn(log, cut, now, move |header| header_tx.send(header).ok().map(|()| sink))
        .map_err(|e| failed(BackupError::Io(e)))?;
    let header = header_rx
        .await
        .map_err(|_| failed(BackupError::Remote("the backup thread stopped".into())))?
        .map_err(failed)?;
    let digest = header.digest.clone().unwrap_or_default();
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    tracing::info!(last_seq = cut, records = header.record_count, "streaming a backup");
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((LAST_SEQ_HEADER, cut.to_string()))
        .insert_header((DIGEST_HEADER, digest))
        .streaming(body))
}

fn failed(error: BackupError) -> ApiError {
    match error {
        BackupError::Journal(e) => ApiError::not_ready(format!("cannot take a backup: {e}")),
        other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "backup_failed", other.to_string()),
    }
}

/// Buffers writes into chunks of `BACKUP_STREAM_CHUNK_BYTES` and sends them to the
/// response; blocks while the channel is full (the client is slower than the disk).
struct ChannelWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(BACKUP_STREAM_CHUNK_BYTES)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl BackupSink for ChannelWriter {
    /// Ends the response with an error, so the client sees a broken transfer.
    fn fail(self, error: &BackupError) {
        let _ = self.tx.blocking_send(Err(std::io::Error::other(error.to_string())));
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= BACKUP_STREAM_CHUNK_BYTES {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.buf.is_empty() {
            true => Ok(()),
            false => self.send(),
        }
    }
}
