//! The TOML configuration file (a public contract: the README's "Configuration") and its defaults.
//!
//! Unknown keys are errors, so a typo is reported rather than silently ignored. Env
//! `QSKIP_BIND` and `QSKIP_DATA_DIR` override the file. With no file at all the service
//! runs a demo venue on 127.0.0.1:8080 with data in `./data`.
//!
//! Every secret (Stripe key, webhook secrets, admin token) is a `secrecy::SecretString`
//! wherever it is kept, here and in the services: its `Debug` is redacted, it has no
//! `Display`, and reading it takes an explicit `expose_secret()`.

use std::path::{Path, PathBuf};

use chrono::Weekday;
use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::{HourOverride, Schedule, Venue, VenueId};
use crate::limits::{
    ACTIVE_HOLD_SLOTS_PER_CLIENT_DEFAULT, ACTOR_IDLE_SECS_DEFAULT, ADMIN_TOKEN_LEN_MAX, ADMIN_TOKEN_LEN_MIN,
    CONNECTIONS_PER_IP_DEFAULT, HOLD_TTL_SECS_DEFAULT, LIVE_STREAMS_PER_IP_DEFAULT,
    RESERVATIONS_PER_IP_PER_MINUTE_DEFAULT, SALES_HORIZON_DAYS_DEFAULT, SALES_HORIZON_DAYS_MAX,
    SNAPSHOT_EVERY_EVENTS_DEFAULT, VENUES_MAX, WAITLIST_OFFER_SECS_DEFAULT, WAITLIST_OFFER_SECS_MAX,
    WAITLIST_OFFER_SECS_MIN,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path} is invalid: {source}")]
    Parse { path: PathBuf, source: Box<toml::de::Error> },
    #[error("venue {venue:?}: {reason}")]
    Venue { venue: String, reason: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProvider {
    #[default]
    Dev,
    Stripe,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeConfig {
    pub api_base: Option<String>,
    pub secret_key: Option<SecretString>,
    #[serde(default)]
    pub webhook_secrets: Vec<SecretString>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentsConfig {
    #[serde(default)]
    pub provider: PaymentProvider,
    pub stripe: Option<StripeConfig>,
}

/// `[limits]`: per-client and per-IP limits on reserving (see `limits.rs`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `false` switches both limits off (load tests, or a proxy that limits already).
    pub enabled: bool,
    pub reservations_per_ip_per_minute: u32,
    /// Slots one client (by e-mail, and by IP) may hold unpaid at once.
    pub active_hold_slots_per_client: u32,
    /// Take the client IP from this header (set it only behind a trusted proxy that
    /// overwrites or appends it); the rightmost address in the header is used.
    pub client_ip_header: Option<String>,
    /// Most open connections from one peer address (0: no cap). Not applied with
    /// `client_ip_header`: behind a proxy every connection comes from the proxy.
    pub connections_per_ip: u32,
    /// Most live streams (SSE) open from one client IP at once.
    pub streams_per_ip: u32,
}

impl LimitsConfig {
    /// The per-peer connection cap in force, if any.
    pub fn connection_cap(&self) -> Option<usize> {
        let applies = self.enabled && self.client_ip_header.is_none() && self.connections_per_ip > 0;
        applies.then_some(self.connections_per_ip as usize)
    }

    /// The per-client stream cap in force, if any.
    pub fn stream_cap(&self) -> Option<usize> {
        (self.enabled && self.streams_per_ip > 0).then_some(self.streams_per_ip as usize)
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            reservations_per_ip_per_minute: RESERVATIONS_PER_IP_PER_MINUTE_DEFAULT,
            active_hold_slots_per_client: ACTIVE_HOLD_SLOTS_PER_CLIENT_DEFAULT,
            client_ip_header: None,
            connections_per_ip: CONNECTIONS_PER_IP_DEFAULT,
            streams_per_ip: LIVE_STREAMS_PER_IP_DEFAULT,
        }
    }
}

/// `[archive]`: continuous archiving of durable records (see `backup::archive`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveConfig {
    /// Where segments go; best on another disk or mount than `data_dir`.
    pub dir: PathBuf,
    /// Most seconds between segments: the recovery point objective.
    #[serde(default = "archive_every_secs")]
    pub every_secs: u64,
    /// Records that make a segment due before `every_secs` is up.
    #[serde(default = "archive_every_records")]
    pub every_records: u64,
}

fn archive_every_secs() -> u64 {
    crate::limits::ARCHIVE_EVERY_SECS_DEFAULT
}

fn archive_every_records() -> u64 {
    crate::limits::ARCHIVE_EVERY_RECORDS_DEFAULT
}

/// `[notify]`: how customers learn of a waitlist offer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The SMTP server offer e-mails go through; without it they stay in the dev outbox.
    pub smtp: Option<SmtpConfig>,
}

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a relay on localhost or a test sink only).
    None,
    /// Plain connect, then `STARTTLS` (required).
    Starttls,
    /// TLS from the first byte (SMTPS).
    #[default]
    Tls,
}

/// `[notify.smtp]`: the server, the sender and optional credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    /// Default by `tls`: 25 (none), 587 (starttls), 465 (tls).
    pub port: Option<u16>,
    /// The sender, `qskip@example.com` or `Bar <qskip@example.com>`.
    pub from: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    #[serde(default)]
    pub tls: SmtpTls,
}

impl SmtpConfig {
    /// The port in force.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        })
    }

    /// Checks every key; the message names the one at fault.
    fn check(&self) -> Result<(), String> {
        if self.host.trim().is_empty() || self.host.contains(char::is_whitespace) {
            return Err("notify.smtp.host must be a host name or address".into());
        }
        if self.port == Some(0) {
            return Err("notify.smtp.port must be 1..=65535".into());
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!("notify.smtp.from {:?} is not an e-mail address", self.from));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err("notify.smtp.username and notify.smtp.password go together".into());
        }
        Ok(())
    }
}

/// Slots per hour for some local weekdays and hours (`weekdays` as `mon`..`sun`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideSpec {
    pub weekdays: Vec<String>,
    pub hours: Vec<u8>,
    pub slots_per_hour: u32,
}

/// A venue as written by people: in the config file's `[[venues]]` and in the admin
/// API's body. [`VenueSpec::into_venue`] is the one place it is checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueSpec {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub price_minor: u64,
    pub currency: String,
    pub slots_per_hour: u32,
    pub hold_ttl_secs: Option<u32>,
    #[serde(default)]
    pub overrides: Vec<OverrideSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    hold_ttl_secs: Option<u32>,
    waitlist_offer_secs: Option<u32>,
    admin_token: Option<SecretString>,
    sales_horizon_days: Option<u32>,
    actor_idle_secs: Option<u64>,
    snapshot_every_events: Option<u64>,
    #[serde(default)]
    payments: PaymentsConfig,
    #[serde(default)]
    limits: LimitsConfig,
    archive: Option<ArchiveConfig>,
    cluster: Option<crate::cluster::ClusterSpec>,
    #[serde(default)]
    notify: NotifyConfig,
    venues: Option<Vec<VenueSpec>>,
}

/// The resolved configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub data_dir: PathBuf,
    /// Base URL customers reach the service at; default `http://<bound address>`.
    pub public_url: Option<String>,
    pub hold_ttl_secs: u32,
    /// How long a waitlist offer stays open for payment.
    pub waitlist_offer_secs: u32,
    pub admin_token: Option<SecretString>,
    pub sales_horizon_days: u32,
    /// Idle seconds after which the actor of a finished window stops.
    pub actor_idle_secs: u64,
    /// Log records between two snapshots (at least 1).
    pub snapshot_every_events: u64,
    pub payments: PaymentsConfig,
    pub limits: LimitsConfig,
    /// Continuous archiving (`[archive]`); off when absent.
    pub archive: Option<ArchiveConfig>,
    /// Cluster mode (`[cluster]`); single-node when absent.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// Offer e-mails (`[notify]`); without `[notify.smtp]` they go to the dev outbox.
    pub notify: NotifyConfig,
    pub venues: Vec<Venue>,
}

impl Config {
    /// Reads `path` (or nothing) and applies the env overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
                Self::parse_file(&text, path)?
            }
            None => ConfigFile::default(),
        };
        let mut config = Self::resolve(file)?;
        if let Ok(bind) = std::env::var("QSKIP_BIND") {
            config.bind = bind;
        }
        if let Ok(dir) = std::env::var("QSKIP_DATA_DIR") {
            config.data_dir = dir.into();
        }
        // Secrets are better kept out of files; the env wins like the other overrides.
        if let Ok(token) = std::env::var("QSKIP_ADMIN_TOKEN") {
            let token = SecretString::from(token);
            check_admin_token(Some(&token))?;
            config.admin_token = Some(token);
        }
        Ok(config)
    }

    /// Parses TOML text (no env overrides); `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        Self::resolve(Self::parse_file(text, origin)?)
    }

    fn parse_file(text: &str, origin: &Path) -> Result<ConfigFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse { path: origin.into(), source: Box::new(e) })
    }

    fn resolve(file: ConfigFile) -> Result<Self, ConfigError> {
        let hold_ttl_secs = file.hold_ttl_secs.unwrap_or(HOLD_TTL_SECS_DEFAULT);
        let sales_horizon_days = file.sales_horizon_days.unwrap_or(SALES_HORIZON_DAYS_DEFAULT);
        let waitlist_offer_secs = file.waitlist_offer_secs.unwrap_or(WAITLIST_OFFER_SECS_DEFAULT);
        if !(WAITLIST_OFFER_SECS_MIN..=WAITLIST_OFFER_SECS_MAX).contains(&waitlist_offer_secs) {
            return Err(ConfigError::Invalid(format!(
                "waitlist_offer_secs must be {WAITLIST_OFFER_SECS_MIN}..={WAITLIST_OFFER_SECS_MAX}"
            )));
        }
        if sales_horizon_days == 0 || sales_horizon_days > SALES_HORIZON_DAYS_MAX {
            return Err(ConfigError::Invalid(format!("sales_horizon_days must be 1..={SALES_HORIZON_DAYS_MAX}")));
        }
        let venues = match file.venues {
            None => vec![demo_venue(hold_ttl_secs)?],
            Some(venues) => venues.into_iter().map(|v| v.into_venue(hold_ttl_secs)).collect::<Result<_, _>>()?,
        };
        check_unique(&venues)?;
        check_payments(&file.payments)?;
        check_admin_token(file.admin_token.as_ref())?;
        if let Some(smtp) = &file.notify.smtp {
            smtp.check().map_err(ConfigError::Invalid)?;
        }
        let cluster = file.cluster.map(|c| c.resolve()).transpose().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let limits = &file.limits;
        if limits.reservations_per_ip_per_minute == 0 || limits.active_hold_slots_per_client == 0 {
            let message = "[limits] values must be at least 1; set enabled = false to switch the limits off";
            return Err(ConfigError::Invalid(message.into()));
        }
        Ok(Self {
            bind: file.bind.unwrap_or_else(|| "127.0.0.1:8080".into()),
            data_dir: file.data_dir.unwrap_or_else(|| "data".into()),
            public_url: file.public_url.map(|u| u.trim_end_matches('/').to_owned()),
            hold_ttl_secs,
            waitlist_offer_secs,
            admin_token: file.admin_token,
            sales_horizon_days,
            actor_idle_secs: file.actor_idle_secs.unwrap_or(ACTOR_IDLE_SECS_DEFAULT).max(1),
            snapshot_every_events: file.snapshot_every_events.unwrap_or(SNAPSHOT_EVERY_EVENTS_DEFAULT).max(1),
            payments: file.payments,
            limits: file.limits,
            archive: file.archive,
            cluster,
            notify: file.notify,
            venues,
        })
    }
}

fn check_unique(venues: &[Venue]) -> Result<(), ConfigError> {
    if venues.len() > VENUES_MAX {
        return Err(ConfigError::Invalid(format!("at most {VENUES_MAX} venues")));
    }
    let mut ids: Vec<_> = venues.iter().map(|v| &v.id).collect();
    ids.sort();
    match ids.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(ConfigError::Invalid(format!("venue id {:?} appears twice", pair[0].as_str()))),
        None => Ok(()),
    }
}

/// A guessable admin token would hand the admin API to anyone who can reach it.
fn check_admin_token(token: Option<&SecretString>) -> Result<(), ConfigError> {
    let Some(token) = token else { return Ok(()) };
    let length = token.expose_secret().len();
    let printable = token.expose_secret().bytes().all(|b| b.is_ascii_graphic());
    if !(ADMIN_TOKEN_LEN_MIN..=ADMIN_TOKEN_LEN_MAX).contains(&length) || !printable {
        return Err(ConfigError::Invalid(format!(
            "admin_token must be {ADMIN_TOKEN_LEN_MIN}..={ADMIN_TOKEN_LEN_MAX} printable ASCII characters without spaces"
        )));
    }
    Ok(())
}

fn check_payments(payments: &PaymentsConfig) -> Result<(), ConfigError> {
    let stripe = payments.stripe.as_ref();
    let has_key = stripe.is_some_and(|s| s.secret_key.as_ref().is_some_and(|k| !k.expose_secret().is_empty()));
    let has_secrets = stripe.is_some_and(|s| !s.webhook_secrets.is_empty());
    if payments.provider == PaymentProvider::Stripe && !(has_key && has_secrets) {
        let message = "payments.provider = \"stripe\" needs [payments.stripe] secret_key and webhook_secrets";
        return Err(ConfigError::Invalid(message.into()));
    }
    Ok(())
}

/// The venue served when no config file names any.
fn demo_venue(hold_ttl_secs: u32) -> Result<Venue, ConfigError> {
    VenueSpec {
        id: "demo".into(),
        name: "Demo Bar".into(),
        timezone: "Europe/Berlin".into(),
        price_minor: 500,
        currency: "eur".into(),
        slots_per_hour: 40,
        hold_ttl_secs: None,
        overrides: vec![],
    }
    .into_venue(hold_ttl_secs)
}

impl VenueSpec {
    /// Checks every field and builds the venue; `hold_ttl_default` applies when the spec
    /// gives no `hold_ttl_secs`.
    pub fn into_venue(self, hold_ttl_default: u32) -> Result<Venue, ConfigError> {
        let v = self;
        let fail = |reason: String| ConfigError::Venue { venue: v.id.clone(), reason };
        let id = VenueId::parse(&v.id).map_err(|e| fail(e.to_string()))?;
        let timezone: Tz = v.timezone.parse().map_err(|_| fail(format!("unknown IANA time zone {:?}", v.timezone)))?;
        let mut overrides = Vec::new();
        for o in &v.overrides {
            for day in &o.weekdays {
                let weekday: Weekday = day.parse().map_err(|_| fail(format!("unknown weekday {day:?}")))?;
                overrides.extend(o.hours.iter().map(|&hour| HourOverride {
                    weekday,
                    hour,
                    slots_per_hour: o.slots_per_hour,
                }));
            }
        }
        let schedule = Schedule::new(v.slots_per_hour, &overrides).map_err(|e| fail(e.to_string()))?;
        let ttl = v.hold_ttl_secs.unwrap_or(hold_ttl_default);
        Venue::new(id, v.name.clone(), timezone, v.price_minor, &v.currency, ttl, schedule)
            .map_err(|e| fail(e.to_string()))
    }
}
