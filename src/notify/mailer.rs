//! Where offer e-mails go: an SMTP server through `lettre` (async, on tokio, rustls for
//! TLS, every delivery bounded by `NOTIFY_SMTP_TIMEOUT_SECS`), or the dev outbox.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::mail::OfferMail;
use super::outbox::DevOutbox;
use crate::config::{SmtpConfig, SmtpTls};
use crate::limits::NOTIFY_SMTP_TIMEOUT_SECS;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient cannot be mailed at all: retrying cannot help.
    #[error("bad address {address:?}: {reason}")]
    Address { address: String, reason: String },
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("SMTP delivery took longer than its bound")]
    Timeout,
    #[error("message: {0}")]
    Message(#[from] lettre::error::Error),
}

impl MailError {
    /// True when another attempt may succeed (the server was down, slow or busy).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Smtp(e) => !e.is_permanent(),
            Self::Timeout => true,
            _ => false,
        }
    }
}

#[derive(Clone)]
pub enum Mailer {
    Smtp { transport: Box<AsyncSmtpTransport<Tokio1Executor>>, from: Mailbox },
    Outbox(DevOutbox),
}

impl Mailer {
    /// The SMTP mailer of `[notify.smtp]` (checked at load; the transport connects
    /// lazily, so a server that is down now is not an error here).
    pub fn smtp(config: &SmtpConfig) -> anyhow::Result<Self> {
        let host = config.host.as_str();
        let builder = match config.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
        };
        let mut builder = builder.port(config.port()).timeout(Some(Duration::from_secs(NOTIFY_SMTP_TIMEOUT_SECS)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        let from = config.from.parse().map_err(|e| anyhow::anyhow!("notify.smtp.from: {e}"))?;
        Ok(Self::Smtp { transport: Box::new(builder.build()), from })
    }

    pub async fn send(&self, mail: &OfferMail, now: chrono::DateTime<chrono::Utc>) -> Result<(), MailError> {
        match self {
            Self::Outbox(outbox) => {
                outbox.push(mail, now);
                Ok(())
            }
            Self::Smtp { transport, from } => {
                let to: Mailbox = mail.to.parse().map_err(|e: lettre::address::AddressError| MailError::Address {
                    address: mail.to.clone(),
                    reason: e.to_string(),
                })?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .message_id(Some(mail.message_id.clone()))
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())?;
                // The transport's own timeout bounds each command; this bounds the whole.
                let limit = Duration::from_secs(NOTIFY_SMTP_TIMEOUT_SECS * 3);
                match tokio::time::timeout(limit, transport.send(message)).await {
                    Ok(sent) => sent.map(drop).map_err(MailError::from),
                    Err(_) => Err(MailError::Timeout),
                }
            }
        }
    }
}
