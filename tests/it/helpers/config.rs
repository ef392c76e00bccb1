//! The config a test runs qskip with, as typed structs (the "Zero To Production"
//! `get_configuration` + override pattern): a test changes fields, and the whole config
//! is serialised to TOML once, for `Config::from_toml` in-process or a file for the
//! binary. No TOML text is spliced together.
//!
//! These structs describe the config *file* (the public format), not `qskip::config`'s
//! own types, so a test also checks that the documented keys still parse.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// The whole config file.
#[derive(Debug, Clone, Serialize)]
pub struct TestConfig {
    /// Always a random port on loopback.
    pub bind: String,
    /// Set by whoever owns the temp dir (`spawn_app_with`, `BinaryHome`).
    pub data_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
    /// Idle seconds before the actor of a finished window stops (passivation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_idle_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_every_events: Option<u64>,
    /// How long a waitlist offer stays open (top-level `waitlist_offer_secs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waitlist_offer_secs: Option<u32>,
    pub limits: LimitsConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments: Option<PaymentsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifySpec>,
    pub venues: Vec<VenueSpec>,
}

/// `[notify]`: offer e-mails (absent: the dev outbox in dev payment mode).
#[derive(Debug, Clone, Serialize)]
pub struct NotifySpec {
    pub smtp: SmtpSpec,
}

/// `[notify.smtp]`, without credentials (the tests' sink speaks plain SMTP).
#[derive(Debug, Clone, Serialize)]
pub struct SmtpSpec {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub tls: String,
}

impl NotifySpec {
    /// Plain SMTP to a sink on 127.0.0.1:`port`.
    pub fn sink(port: u16) -> Self {
        let smtp =
            SmtpSpec { host: "127.0.0.1".into(), port, from: "qskip <offers@qskip.test>".into(), tls: "none".into() };
        Self { smtp }
    }
}

/// `[cluster]`: cluster mode (absent: single node).
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSpec {
    pub node_id: String,
    pub advertise_url: String,
    pub etcd_endpoints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ttl_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
}

/// `[archive]`: continuous archiving of durable records.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveSpec {
    pub dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every_records: Option<u64>,
}

impl TestConfig {
    /// These venues, limits off (tests hammer from one IP), dev payments.
    pub fn new(venues: Vec<VenueSpec>) -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            data_dir: PathBuf::new(),
            admin_token: None,
            actor_idle_secs: None,
            snapshot_every_events: None,
            waitlist_offer_secs: None,
            limits: LimitsConfig::off(),
            payments: None,
            archive: None,
            cluster: None,
            notify: None,
            venues,
        }
    }

    /// This config on `data_dir`.
    pub fn in_dir(mut self, data_dir: &Path) -> Self {
        self.data_dir = data_dir.to_owned();
        self
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a test config serialises to TOML")
    }

    /// Parsed by the service's own config loader, as the binary would read it.
    pub fn parse(&self) -> Result<qskip::config::Config, qskip::config::ConfigError> {
        qskip::config::Config::from_toml(&self.to_toml(), Path::new("test.toml"))
    }
}

/// `[limits]`: absent keys take the service's defaults.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LimitsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations_per_ip_per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_hold_slots_per_client: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip_header: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connections_per_ip: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streams_per_ip: Option<u32>,
}

impl LimitsConfig {
    /// Both limits switched off.
    pub fn off() -> Self {
        Self { enabled: Some(false), ..Self::default() }
    }

    /// The service's defaults (an empty table), to be changed field by field.
    pub fn on() -> Self {
        Self::default()
    }
}

/// `[payments]`.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentsConfig {
    /// `"dev"` or `"stripe"`; absent means dev.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub stripe: StripeConfig,
}

/// `[payments.stripe]`.
#[derive(Debug, Clone, Serialize)]
pub struct StripeConfig {
    pub api_base: String,
    pub secret_key: String,
    pub webhook_secrets: Vec<String>,
}

/// A venue (`[[venues]]`).
#[derive(Debug, Clone, Serialize)]
pub struct VenueSpec {
    pub id: String,
    pub name: String,
    pub timezone: String,
    pub price_minor: u64,
    pub currency: String,
    /// Window capacity is `slots_per_hour / 4`.
    pub slots_per_hour: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_ttl_secs: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<OverrideSpec>,
}

/// `[[venues.overrides]]`: slots per hour for some local weekdays and hours.
#[derive(Debug, Clone, Serialize)]
pub struct OverrideSpec {
    pub weekdays: Vec<String>,
    pub hours: Vec<u8>,
    pub slots_per_hour: u32,
}

impl VenueSpec {
    /// A UTC venue selling at 5.00 EUR.
    pub fn new(id: &str, slots_per_hour: u32) -> Self {
        Self {
            id: id.into(),
            name: format!("Test venue {id}"),
            timezone: "UTC".into(),
            price_minor: 500,
            currency: "eur".into(),
            slots_per_hour,
            hold_ttl_secs: None,
            overrides: Vec::new(),
        }
    }

    pub fn hold_ttl_secs(mut self, secs: u32) -> Self {
        self.hold_ttl_secs = Some(secs);
        self
    }

    pub fn timezone(mut self, tz: &str) -> Self {
        self.timezone = tz.into();
        self
    }

    /// `slots_per_hour` instead during these local hours of these weekdays.
    pub fn override_hours(mut self, weekdays: &[&str], hours: &[u8], slots_per_hour: u32) -> Self {
        let weekdays = weekdays.iter().map(|&d| d.to_owned()).collect();
        self.overrides.push(OverrideSpec { weekdays, hours: hours.to_vec(), slots_per_hour });
        self
    }

    pub fn capacity(&self) -> u32 {
        self.slots_per_hour / 4
    }
}

#[test]
fn a_full_test_config_is_what_the_service_reads() {
    let mut config =
        TestConfig::new(vec![VenueSpec::new("bar", 40).hold_ttl_secs(60).timezone("Europe/Berlin").override_hours(
            &["sat"],
            &[14],
            8,
        )])
        .in_dir(Path::new("/tmp/qskip-test"));
    config.admin_token = Some("a-long-enough-admin-token-for-tests".into());
    config.actor_idle_secs = Some(7);
    config.snapshot_every_events = Some(11);
    config.limits = LimitsConfig { client_ip_header: Some("X-Client-IP".into()), ..LimitsConfig::on() };
    config.payments = Some(PaymentsConfig {
        provider: Some("stripe".into()),
        stripe: StripeConfig {
            api_base: "http://127.0.0.1:9".into(),
            secret_key: "sk_test_x".into(),
            webhook_secrets: vec!["whsec_a".into(), "whsec_b".into()],
        },
    });
    let parsed = config.parse().unwrap_or_else(|e| panic!("{e}:\n{}", config.to_toml()));
    assert_eq!((parsed.bind.as_str(), parsed.data_dir.as_path()), ("127.0.0.1:0", Path::new("/tmp/qskip-test")));
    assert_eq!((parsed.actor_idle_secs, parsed.snapshot_every_events), (7, 11));
    assert!(parsed.admin_token.is_some());
    assert!(parsed.limits.enabled);
    assert_eq!(parsed.limits.client_ip_header.as_deref(), Some("X-Client-IP"));
    assert_eq!(parsed.payments.provider, qskip::config::PaymentProvider::Stripe);
    let stripe = parsed.payments.stripe.expect("the stripe table");
    assert_eq!((stripe.api_base.as_deref(), stripe.webhook_secrets.len()), (Some("http://127.0.0.1:9"), 2));
    assert_eq!(parsed.venues.len(), 1);
    let defaults = TestConfig::new(vec![VenueSpec::new("bar", 40)]).in_dir(Path::new("/tmp/d")).parse();
    assert!(!defaults.expect("the default test config parses").limits.enabled, "tests run with the limits off");
}
