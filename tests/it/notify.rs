//! Offer e-mails (issue 13) with the real server: a queued customer with an e-mail is
//! mailed its offer (venue, payment link) once, through a local SMTP sink this test
//! starts on 127.0.0.1; a sink that is down at first gets the mail once after retries
//! while reservations go on; without SMTP the dev outbox page shows the message.
//! Offers are made by cancelling a hold, so no clock moves and nothing sleeps.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use qskip::app::Application;
use qskip::clock::{Clock, ManualClock};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::*;

/// One message the sink accepted: its recipients and its text (headers and body).
#[derive(Debug, Clone)]
struct Received {
    rcpt: Vec<String>,
    data: String,
}

/// A tiny SMTP server: just enough of RFC 5321 for lettre (no TLS, no AUTH).
#[derive(Clone, Default)]
struct SmtpSink {
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    /// Serves on `listener` until the test ends.
    fn serve(&self, listener: TcpListener) {
        let sink = self.clone();
        actix_web::rt::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                actix_web::rt::spawn(async move { drop(sink.session(stream).await) });
            }
        });
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut rcpt = Vec::new();
        while let Some(line) = lines.next_line().await? {
            let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "MAIL" | "RSET" | "NOOP" => b"250 OK\r\n",
                "RCPT" => {
                    rcpt.push(line.trim_start_matches(|c| c != '<').trim_matches(['<', '>', ' ']).to_owned());
                    b"250 OK\r\n"
                }
                "DATA" => {
                    write.write_all(b"354 go on\r\n").await?;
                    let mut data = String::new();
                    while let Some(line) = lines.next_line().await? {
                        if line == "." {
                            break;
                        }
                        data.push_str(&line);
                        data.push('\n');
                    }
                    let received = Received { rcpt: std::mem::take(&mut rcpt), data };
                    self.received.lock().expect("sink lock").push(received);
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => b"502 not here\r\n",
            };
            write.write_all(reply).await?;
        }
        Ok(())
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("sink lock").clone()
    }
}

/// A free port on loopback (bound, then released for the sink to take later).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound").port()
}

async fn start_sink(port: u16) -> SmtpSink {
    let sink = SmtpSink::default();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    sink.serve(TcpListener::bind(addr).await.expect("the sink binds its port"));
    sink
}

/// `spawn_app_with` plus `[notify.smtp]` at 127.0.0.1:`port` (`None`: no SMTP, so the
/// dev outbox), keeping the options `AppOptions` has no setter for; a venue of its own,
/// 2 slots a window.
async fn app_with_smtp(smtp_port: Option<u16>) -> (TestApp, String) {
    let venue = format!("mail-{}", random_u64() % 1_000_000);
    // Holds of 600 s, offers of 300 s; the actors' idle tick (1 s) writes expiries.
    let venues = vec![VenueSpec::new(&venue, 8).hold_ttl_secs(600)];
    let mut options = AppOptions::with_venues(venues).waitlist_offer_secs(300).actor_idle_secs(1);
    options.config.notify = smtp_port.map(NotifySpec::sink);
    let data_dir = tempfile::tempdir().expect("a temp dir");
    let test_config = options.config.in_dir(data_dir.path());
    let config = test_config.parse().expect("the test config is valid");
    let clock = Arc::new(ManualClock::new(options.clock_start));
    let app_clock: Arc<dyn Clock> = clock.clone();
    let app = Application::build(config, app_clock).await.expect("the application builds");
    let port = app.addr().port();
    let services = app.services().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let address = format!("http://127.0.0.1:{port}");
    let app = TestApp {
        api: Api::new(address.clone()),
        address,
        port,
        clock,
        system_clock: false,
        config: test_config,
        data_dir,
        services,
    };
    (app, venue)
}

/// Fills window 1 with two holds, queues `email`, cancels a hold: the queued customer
/// is offered. Returns the queued reservation's id.
async fn offer_to(app: &Api, venue: &str, start: chrono::DateTime<chrono::Utc>, email: &str) -> String {
    let first = created(app.reserve_in(venue, start, 1).await).await;
    created(app.reserve_in(venue, start, 1).await).await;
    let body = json!({ "quantity": 1, "window_start": rfc3339(start), "waitlist": true, "email": email });
    let response = app.reserve_at(venue, &body, None).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "a sold-out window queues");
    let queued: Value = response.json().await.expect("JSON");
    let id = queued["id"].as_str().expect("an id").to_owned();
    assert_eq!(app.cancel(&first.id.to_string()).await.status(), StatusCode::OK);
    eventually("the queued customer to be offered", || async {
        let r: Value = app.get_reservation(&id).await.json().await.expect("JSON");
        if r["status"] == "held" { Ok(()) } else { Err(r) }
    })
    .await;
    id
}

/// Waits for a mail to `to` in `sink`, then checks it is the only one.
async fn the_one_mail(sink: &SmtpSink, to: &str) -> Received {
    let mail = eventually(&format!("a mail to {to}"), || async {
        let mails = sink.received();
        mails.iter().find(|m| m.rcpt.iter().any(|r| r == to)).cloned().ok_or(mails.len())
    })
    .await;
    assert_eq!(sink.received().len(), 1, "exactly one mail: {:?}", sink.received());
    mail
}

#[actix_web::test]
async fn an_offer_is_mailed_once_with_its_payment_link() {
    let port = free_port();
    let sink = start_sink(port).await;
    let (app, venue) = app_with_smtp(Some(port)).await;
    let id = offer_to(&app, &venue, app.window(1), "ada@example.com").await;
    let mail = the_one_mail(&sink, "ada@example.com").await;
    let text = mail.data.replace("=\n", "");
    assert!(text.contains(&format!("{}/dev/checkout/{id}", app.address)), "payment link in: {text}");
    assert!(text.contains(&format!("/reservations/{id}")), "status page in: {text}");
    // An offer to a customer without an e-mail is not mailed; the mailed one stays one.
    let start = app.window(2);
    let first = created(app.reserve_in(&venue, start, 1).await).await;
    created(app.reserve_in(&venue, start, 1).await).await;
    let body = json!({ "quantity": 1, "window_start": rfc3339(start), "waitlist": true });
    assert_eq!(app.reserve_at(&venue, &body, None).await.status(), StatusCode::ACCEPTED);
    app.cancel(&first.id.to_string()).await;
    eventually("the mail-less offer to be looked at", || async {
        let skipped = mails_counted(&app, &format!("venue=\"{venue}\",outcome=\"skipped\"")).await;
        if skipped >= 1.0 { Ok(()) } else { Err(skipped) }
    })
    .await;
    assert_eq!(sink.received().len(), 1, "no mail without an address");
}

#[actix_web::test]
async fn an_offer_made_by_an_expiring_hold_is_mailed_and_a_lapsed_one_is_not() {
    let port = free_port();
    let (app, venue) = app_with_smtp(Some(port)).await;
    let start = app.window(1);
    created(app.reserve_in(&venue, start, 2).await).await;
    for email in ["gus@example.com", "hal@example.com"] {
        let body = json!({ "quantity": 2, "window_start": rfc3339(start), "waitlist": true, "email": email });
        assert_eq!(app.reserve_at(&venue, &body, None).await.status(), StatusCode::ACCEPTED);
    }
    // The server is down while gus's offer is open, and the offer lapses unpaid: hal is
    // offered next. Once the server is up, only hal's offer (still open) is mailed.
    app.advance(chrono::Duration::seconds(600));
    eventually("a failed attempt at gus's offer", || async {
        let failed = mails_counted(&app, &format!("venue=\"{venue}\",outcome=\"failed_attempt\"")).await;
        if failed >= 1.0 { Ok(()) } else { Err(failed) }
    })
    .await;
    app.advance(chrono::Duration::seconds(300));
    eventually("hal to be offered", || async {
        let records = app.services.log().iter().map(|r| r.expect("every record decodes"));
        let offers = records.filter(|(_, _, record)| {
            matches!(record, qskip::store::Record::Window(_, qskip::domain::WindowEvent::WaitlistOffered { .. }))
        });
        let offered = offers.count();
        if offered == 2 { Ok(()) } else { Err(offered) }
    })
    .await;
    let sink = start_sink(port).await;
    let mail = the_one_mail(&sink, "hal@example.com").await;
    assert!(mail.data.contains("Subject:"), "{mail:?}");
    eventually("gus's lapsed offer to be looked at again and skipped", || async {
        let skipped = mails_counted(&app, &format!("venue=\"{venue}\",outcome=\"skipped\"")).await;
        if skipped >= 1.0 { Ok(()) } else { Err(skipped) }
    })
    .await;
    let to: Vec<_> = sink.received().into_iter().flat_map(|m| m.rcpt).collect();
    assert_eq!(to, ["hal@example.com"], "the lapsed offer is not mailed");
}

#[actix_web::test]
async fn a_server_that_is_down_at_first_gets_the_mail_once_after_retries() {
    let port = free_port();
    let (app, venue) = app_with_smtp(Some(port)).await;
    offer_to(&app, &venue, app.window(1), "bob@example.com").await;
    eventually("a failed attempt while the server is down", || async {
        let failed = mails_counted(&app, &format!("venue=\"{venue}\",outcome=\"failed_attempt\"")).await;
        if failed >= 1.0 { Ok(()) } else { Err(failed) }
    })
    .await;
    // Reservations go on meanwhile.
    let other = created(app.reserve_in(&venue, app.window(3), 1).await).await;
    assert_eq!(other.status, "held");
    let sink = start_sink(port).await;
    let mail = the_one_mail(&sink, "bob@example.com").await;
    assert!(mail.data.contains("Subject:"), "{mail:?}");
}

#[actix_web::test]
async fn without_smtp_the_dev_outbox_shows_the_offer() {
    let (app, venue) = app_with_smtp(None).await;
    let empty = app.api.client.get(app.url("/dev/outbox")).send().await.expect("answered");
    assert_eq!(empty.status(), StatusCode::OK);
    let id = offer_to(&app, &venue, app.window(1), "cy<script>@example.com").await;
    let json: Value = eventually("the offer in the outbox", || async {
        let url = app.url("/dev/outbox?format=json");
        let json: Value = app.api.client.get(url).send().await.expect("answered").json().await.expect("JSON");
        if json["messages"].as_array().is_some_and(|m| !m.is_empty()) { Ok(json) } else { Err(json) }
    })
    .await;
    let message = &json["messages"][0];
    assert_eq!(message["to"], "cy<script>@example.com");
    assert!(message["body"].as_str().expect("a body").contains(&format!("/dev/checkout/{id}")));
    let page = app.api.client.get(app.url("/dev/outbox")).send().await.expect("answered");
    let html = page.text().await.expect("text");
    assert!(html.contains(&format!("/dev/checkout/{id}")), "{html}");
    assert!(html.contains("cy&lt;script&gt;@example.com") && !html.contains("cy<script>"), "escaped: {html}");
}

/// Sums the notifier's `outcome` series of `/metrics`.
async fn mails_counted(api: &Api, outcome: &str) -> f64 {
    let samples = crate::metrics::scrape(api).await;
    let series = samples.iter().filter(|(k, _)| k.contains(qskip::notify::NOTIFY_MAILS) && k.contains(outcome));
    series.map(|(_, v)| *v).sum()
}

#[actix_web::test]
async fn an_offer_read_before_a_crash_is_mailed_after_the_restart_and_only_once() {
    let port = free_port();
    let mut config = TestConfig::new(vec![VenueSpec::new(VENUE, 8)]);
    config.notify = Some(NotifySpec::sink(port));
    let home = BinaryHome::with_config(config);
    let mut binary = home.start();
    offer_to(&binary, VENUE, wall_window(1), "eve@example.com").await;
    eventually("a failed attempt while the server is down", || async {
        let failed = mails_counted(&binary, "failed_attempt").await;
        if failed >= 1.0 { Ok(()) } else { Err(failed) }
    })
    .await;
    binary.kill_9();
    let sink = start_sink(port).await;
    let mut binary = home.start();
    the_one_mail(&sink, "eve@example.com").await;
    binary.kill_9();
    // After another restart, a new offer is mailed and the first is not mailed again:
    // offers are tried oldest first, so a resend would come before this one.
    let binary = home.start();
    offer_to(&binary, VENUE, wall_window(2), "fay@example.com").await;
    eventually("the second offer's mail", || async {
        let mails = sink.received();
        if mails.iter().any(|m| m.rcpt.iter().any(|r| r == "fay@example.com")) { Ok(()) } else { Err(mails.len()) }
    })
    .await;
    let to: Vec<_> = sink.received().into_iter().flat_map(|m| m.rcpt).collect();
    assert_eq!(to, ["eve@example.com", "fay@example.com"], "each offer mailed once");
}

#[test]
fn bad_smtp_settings_are_refused_at_start_up_naming_the_key() {
    let parse = |smtp: &str| {
        let text = format!("[notify.smtp]\n{smtp}\n");
        qskip::config::Config::from_toml(&text, std::path::Path::new("test.toml")).map(|c| c.notify)
    };
    let fine = parse("host = \"smtp.example.com\"\nfrom = \"Bar <offers@example.com>\"\ntls = \"starttls\"")
        .expect("a complete table parses");
    let smtp = fine.smtp.expect("the table is kept");
    assert_eq!(smtp.port(), 587, "the port follows tls by default");
    let cases = [
        ("host = \"\"\nfrom = \"a@b.example\"", "notify.smtp.host"),
        ("host = \"h\"\nfrom = \"not an address\"", "notify.smtp.from"),
        ("host = \"h\"\nfrom = \"a@b.example\"\nport = 0", "notify.smtp.port"),
        ("host = \"h\"\nfrom = \"a@b.example\"\nusername = \"u\"", "notify.smtp.username"),
        ("host = \"h\"\nfrom = \"a@b.example\"\ntls = \"ssl\"", "tls"),
        ("host = \"h\"\nfrom = \"a@b.example\"\nhots = \"x\"", "hots"),
        ("from = \"a@b.example\"", "host"),
    ];
    for (smtp, key) in cases {
        let error = parse(smtp).expect_err(smtp).to_string();
        assert!(error.contains(key), "{smtp:?}: {error}");
    }
}
