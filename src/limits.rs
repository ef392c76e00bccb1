//! Every explicit limit of qskip, in one place.
//!
//! TigerBeetle's rule: nothing is unbounded. Each constant names what it limits and its
//! unit, and the code that enforces it refers to it by name, so an operator can read the
//! whole envelope of the service here. Rules Stripe sets (its session expiry bounds,
//! signature tolerance, page size, client retry defaults) are Stripe's, not ours: they
//! live with the Stripe adapter in `stripe/mod.rs` and `stripe/retry.rs`.

/// Width of one sales window, in seconds (15 minutes).
pub const WINDOW_SECS: i64 = 15 * 60;

/// Default lifetime of a hold, in seconds (30 minutes).
pub const HOLD_TTL_SECS_DEFAULT: u32 = 30 * 60;

/// Shortest and longest configurable hold lifetime, in seconds.
pub const HOLD_TTL_SECS_MIN: u32 = 1;
pub const HOLD_TTL_SECS_MAX: u32 = 24 * 60 * 60;

/// Default time a waitlist offer stays open for payment, in seconds (10 minutes).
pub const WAITLIST_OFFER_SECS_DEFAULT: u32 = 10 * 60;

/// Shortest and longest configurable waitlist offer, in seconds (as for holds).
pub const WAITLIST_OFFER_SECS_MIN: u32 = HOLD_TTL_SECS_MIN;
pub const WAITLIST_OFFER_SECS_MAX: u32 = HOLD_TTL_SECS_MAX;

/// Default sales horizon: how far ahead a window may be reserved, in days.
pub const SALES_HORIZON_DAYS_DEFAULT: u32 = 7;

/// Longest configurable sales horizon, in days.
pub const SALES_HORIZON_DAYS_MAX: u32 = 366;

/// Most slots one reservation may hold.
pub const RESERVATION_QUANTITY_MAX: u32 = 20;

/// Most slots per hour a schedule may declare (a window then holds a quarter of it).
pub const SLOTS_PER_HOUR_MAX: u32 = 100_000;

/// Most reservations one window keeps in memory; beyond it new holds are refused.
pub const RESERVATIONS_PER_WINDOW_MAX: usize = 100_000;

/// Most windows one availability query may return (one week of 15-minute windows).
pub const WINDOWS_PER_QUERY_MAX: usize = 7 * 24 * 4;

/// Highest price of one queue skip, in minor units (so price x quantity fits any total).
pub const PRICE_MINOR_MAX: u64 = 100_000_000;

/// Most venues the service accepts.
pub const VENUES_MAX: usize = 10_000;

/// Longest venue id, venue name, currency code, e-mail and idempotency key, in bytes.
pub const VENUE_ID_LEN_MAX: usize = 64;
pub const VENUE_NAME_LEN_MAX: usize = 200;
pub const EMAIL_LEN_MAX: usize = 254;
/// Longest `Idempotency-Key`, in bytes of printable ASCII: a client's, and the ones qskip
/// sends Stripe (Stripe's own limit is 255 characters, docs "Idempotent requests").
pub const IDEMPOTENCY_KEY_LEN_MAX: usize = 255;

/// Admin bearer token length: at least 128 bits of a random hex or base64 string.
pub const ADMIN_TOKEN_LEN_MIN: usize = 24;
pub const ADMIN_TOKEN_LEN_MAX: usize = 256;
/// Windows told about a schedule change at once (each is one actor round trip).
pub const RESCHEDULE_CONCURRENCY_MAX: usize = 16;
/// Operator name recorded in admin events (`X-Qskip-Operator` header), in bytes.
pub const OPERATOR_NAME_LEN_MAX: usize = 64;

/// Largest accepted JSON request body of the public API, in bytes.
pub const JSON_BODY_BYTES_MAX: usize = 16 * 1024;

/// Largest accepted Stripe webhook body, in bytes (events embed whole objects).
pub const WEBHOOK_BODY_BYTES_MAX: usize = 256 * 1024;

/// Longest id a webhook event may carry where qskip keeps it (event, session and payment
/// intent ids, the reservation reference), in bytes. Stripe's are under 100; a longer one
/// is refused at the edge (`400 invalid_event`) before it can reach an event record.
pub const STRIPE_ID_LEN_MAX: usize = 255;

/// Longest currency code a webhook event may carry, in bytes (ISO 4217 codes have 3).
pub const CURRENCY_LEN_MAX: usize = 3;

/// How often the refund worker looks for refunds still owed, in milliseconds.
pub const REFUND_SCAN_INTERVAL_MS: u64 = 1_000;

/// Attempts at a refund Stripe keeps failing (network, 5xx, 429) before the worker
/// records `RefundFailed` for an operator. With the backoff (1 s doubling to 5 min)
/// that is about 40 minutes of an outage. Errors retrying cannot fix end at once.
pub const REFUND_ATTEMPTS_MAX: u32 = 16;

/// How often the session-expiry worker looks at open checkout pages, in milliseconds.
/// Each open page costs one message to its window actor per pass.
pub const SESSION_EXPIRY_SCAN_INTERVAL_MS: u64 = 2_000;

/// Default per-IP rate of reservation attempts (config `[limits]`), per minute.
pub const RESERVATIONS_PER_IP_PER_MINUTE_DEFAULT: u32 = 30;

/// Default slots one client (by e-mail, and by IP) may hold unpaid at once.
pub const ACTIVE_HOLD_SLOTS_PER_CLIENT_DEFAULT: u32 = 8;

/// Most client IPs the rate limiter remembers before it forgets idle ones.
pub const RATE_LIMIT_KEYS_MAX: usize = 100_000;

/// Most clients whose unpaid holds are tracked; beyond it the oldest are forgotten.
pub const TRACKED_CLIENTS_MAX: usize = 100_000;

/// Retry-After for a client over its active-hold limit, in seconds.
pub const ACTIVE_HOLDS_RETRY_AFTER_SECS: u32 = 60;

/// How long a client may take to send the request head, in milliseconds.
pub const REQUEST_HEAD_TIMEOUT_MS: u64 = 5_000;

/// How long a handler waits for the whole request body, in milliseconds; a body still
/// incomplete then is `408 request_timeout` (a slow-body attack holds nothing longer).
pub const REQUEST_BODY_TIMEOUT_MS: u64 = 10_000;

/// Default most open connections from one peer address (config `[limits]
/// connections_per_ip`); one more is answered `503 too_many_connections` and closed.
pub const CONNECTIONS_PER_IP_DEFAULT: u32 = 256;

/// Seconds a connection may accept none of the bytes we have for it before it is
/// closed: a client that stopped reading gives back its slot and its buffers.
pub const CONNECTION_WRITE_STALL_SECS: u64 = 10;

/// Capacity of a window actor's mailbox (actix's default is 16).
pub const ACTOR_MAILBOX_CAPACITY: usize = 256;

/// Idle time after which the actor of a finished window (ended, no live holds) stops,
/// in seconds. A later message revives it from its own events.
pub const ACTOR_IDLE_SECS_DEFAULT: u64 = 60;

/// Most window actors alive at once; beyond it new windows answer 503 until idle
/// actors of finished windows stop.
pub const ACTORS_LIVE_MAX: usize = 100_000;

/// How long an adapter waits for a window actor before answering 503, in milliseconds.
pub const ACTOR_REPLY_TIMEOUT_MS: u64 = 5_000;

/// Retry-After sent with a 503, in seconds.
pub const RETRY_AFTER_SECS: u32 = 1;

/// Most submissions the journal writes in one batch (one flush).
pub const JOURNAL_BATCH_SUBMISSIONS_MAX: usize = 4_096;

/// Most windows the availability read view remembers (each of its two maps); beyond it
/// a map is cleared and readers ask the windows again (`actors::read_view`).
pub const READ_VIEW_WINDOWS_MAX: usize = 200_000;

/// Most submissions waiting for the journal writer. A submitter finding the queue full
/// waits for room rather than being refused: its events are already applied in its
/// window's memory, so a refusal would leave memory ahead of the log. The waiting is
/// the backpressure: with at most `ACTOR_MAILBOX_CAPACITY` messages per live actor it
/// is reached only when the disk falls far behind.
pub const JOURNAL_QUEUE_SUBMISSIONS_MAX: usize = 65_536;

/// Most written batches waiting for the flush that makes them durable (the writer
/// waits for the flusher beyond it).
pub const JOURNAL_QUEUE_BATCHES_MAX: usize = 1_024;

/// sled page cache, in bytes (sled's 1 GiB default lets RSS grow far past it).
pub const SLED_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Largest encoded record the log accepts, in bytes.
pub const RECORD_BYTES_MAX: usize = 64 * 1024;

/// Live availability (`GET /v1/venues/{venue}/stream`): most open streams at once,
/// over every venue; one more is refused with `503 too_many_subscribers`.
pub const LIVE_SUBSCRIBERS_MAX: usize = 1_024;

/// Default most live streams one client IP may hold open (config `[limits]
/// streams_per_ip`); one more is `429 too_many_streams`, so one client cannot take
/// the `LIVE_SUBSCRIBERS_MAX` streams of everybody.
pub const LIVE_STREAMS_PER_IP_DEFAULT: u32 = 8;

/// Updates queued for one stream subscriber. A subscriber this far behind (a stalled
/// client) is dropped rather than ever making a window actor wait; it reconnects
/// with `Last-Event-ID` and resumes from the replay buffer or a fresh snapshot.
pub const LIVE_SUBSCRIBER_QUEUE: usize = 64;

/// Most recent updates kept per venue to replay to a reconnecting subscriber.
pub const LIVE_REPLAY_EVENTS: usize = 256;

/// Live streams reading their whole range (on opening, or after a schedule change)
/// at once; the others wait their turn, so a schedule change seen by a thousand
/// streams cannot starve every other request.
pub const LIVE_RANGE_READS_MAX: usize = 4;

/// Windows a range read computes before it lets other tasks of its worker thread run.
pub const LIVE_RANGE_READ_BATCH: usize = 32;

/// Largest piece of a stream's output handed to the connection at once, in bytes. A
/// whole range (up to `WINDOWS_PER_QUERY_MAX` windows, ~250 bytes each as text) is
/// rendered piece by piece as the client reads, so a stream's memory is bounded by:
/// one range of counts (`WINDOWS_PER_QUERY_MAX` x ~100 bytes = ~66 KiB) + one piece
/// (16 KiB) + its update queue (`LIVE_SUBSCRIBER_QUEUE` shared entries) + the socket
/// send buffer (`SOCKET_SEND_BUFFER_BYTES`, kernel memory): under 100 KiB of process
/// memory per stream, ~100 MiB for `LIVE_SUBSCRIBERS_MAX` streams in the worst case
/// (every stream mid-way through a full range whose client does not read). A client
/// that reads nothing for `CONNECTION_WRITE_STALL_SECS` is disconnected.
pub const LIVE_CHUNK_BYTES: usize = 16 * 1024;

/// How often an idle stream checks the injected clock for a keep-alive being due,
/// in milliseconds (a keep-alive is at most this late).
pub const LIVE_KEEPALIVE_TICK_MS: u64 = 500;

/// Seconds between keep-alive comments on an idle stream (proxies close silent
/// connections; a write is also how a vanished client is noticed).
pub const LIVE_KEEPALIVE_SECS: u64 = 15;

/// Reconnect delay a stream tells EventSource clients (`retry:`), in milliseconds.
pub const LIVE_RETRY_MS: u64 = 2_000;

/// Windows a stream's initial state covers when the query names no range (one day).
pub const LIVE_DEFAULT_WINDOWS: i32 = 24 * 4;

/// Most sold-out refusals, late payments and refunds remembered per venue for the
/// admin dashboard (memory only: a restart starts empty, the log keeps the truth).
pub const ACTIVITY_PER_VENUE_MAX: usize = 200;

/// Kernel send buffer of every accepted connection, in bytes. Linux otherwise grows it
/// up to 4 MiB per socket, which a client that stops reading a live stream would pin
/// (times `LIVE_SUBSCRIBERS_MAX`); bounded, such a client falls behind soon and is dropped.
pub const SOCKET_SEND_BUFFER_BYTES: usize = 128 * 1024;
/// Default number of log records between two snapshots (config `snapshot_every_events`).
/// Start-up folds at most about this many records on top of the newest snapshot.
pub const SNAPSHOT_EVERY_EVENTS_DEFAULT: u64 = 10_000;

/// How often the snapshotter checks whether a snapshot is due, in milliseconds.
pub const SNAPSHOT_POLL_INTERVAL_MS: u64 = 1_000;

/// How many snapshots are kept: if the newest is unreadable, the one before it still
/// saves a full replay.
pub const SNAPSHOTS_KEPT: usize = 2;

/// Largest snapshot file start-up will read, in bytes.
pub const SNAPSHOT_BYTES_MAX: usize = 1024 * 1024 * 1024;

/// Extra delay after a hold's expiry before its window's timer fires, in milliseconds,
/// so the timer finds the hold due rather than a microsecond early.
pub const EXPIRY_TIMER_SLACK_MS: u64 = 5;

/// How long a graceful stop waits for in-flight requests, in seconds.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// Workers of the stand-in server that answers during start-up recovery (it serves only
/// `/healthz` and 503s), and how long it takes to stop, in seconds.
pub const RECOVERING_WORKERS: usize = 1;
pub const RECOVERING_SHUTDOWN_SECS: u64 = 1;

/// Stripe API calls: time to connect, and for the whole request, in seconds.
pub const STRIPE_CONNECT_TIMEOUT_SECS: u64 = 5;
pub const STRIPE_REQUEST_TIMEOUT_SECS: u64 = 15;

/// Largest Stripe API response body read, in bytes. Sessions, refunds and a page of 100
/// refunds are far smaller; anything bigger is not an answer we understand.
pub const STRIPE_RESPONSE_BYTES_MAX: usize = 1024 * 1024;

/// Longest Stripe object id (payment intent, session) qskip puts in a URL, in bytes.
pub const STRIPE_OBJECT_ID_LEN_MAX: usize = 255;

/// Longest `Stripe-Signature` header parsed, in bytes. A header carries one `v1` per
/// active secret (two while a secret rolls), about 70 bytes each.
pub const SIGNATURE_HEADER_BYTES_MAX: usize = 4 * 1024;

/// Per-item retry backoff of the payment workers: the first delay, doubling up to the
/// last, in milliseconds.
pub const PAYMENT_RETRY_DELAY_FIRST_MS: u64 = 1_000;
pub const PAYMENT_RETRY_DELAY_MAX_MS: u64 = 300_000;

/// Backups (`backups/README.md`): records written to a restored log per sled batch.
pub const RESTORE_BATCH_RECORDS: usize = 10_000;

/// Bytes per chunk of a streamed `POST /v1/admin/backup` body.
pub const BACKUP_STREAM_CHUNK_BYTES: usize = 256 * 1024;

/// Chunks of a streamed backup queued for a slow client before the reader waits.
pub const BACKUP_STREAM_CHUNKS_QUEUED: usize = 16;

/// How often the archiver checks whether a segment is due, in milliseconds.
pub const ARCHIVE_POLL_INTERVAL_MS: u64 = 200;

/// Default `[archive] every_secs`: the recovery point objective, in seconds.
pub const ARCHIVE_EVERY_SECS_DEFAULT: u64 = 10;

/// Records per second a backup inside the running service reads from the log (each of
/// its two passes: the digest fold and the copy). See `backup::pace`: at full speed
/// (about 200,000 records/s here) a backup halved the reserve throughput meanwhile.
pub const BACKUP_READ_RECORDS_PER_SEC: u64 = 50_000;

/// Default `[archive] every_records`: records that make a segment due early.
pub const ARCHIVE_EVERY_RECORDS_DEFAULT: u64 = 10_000;

/// Cluster mode (`[cluster]`, `src/cluster/`): default and bounds of `lease_ttl_secs`,
/// the node lease's time to live. etcd itself refuses TTLs under about 2 s (1.5
/// election timeouts); a long TTL makes a dead node's venues wait that long.
pub const CLUSTER_LEASE_TTL_SECS_DEFAULT: u64 = 5;
pub const CLUSTER_LEASE_TTL_SECS_MIN: u64 = 2;
pub const CLUSTER_LEASE_TTL_SECS_MAX: u64 = 300;

/// Default and most `[cluster] shards`: fixed for the life of a cluster, so the
/// default leaves room to grow to many nodes.
pub const CLUSTER_SHARDS_DEFAULT: u32 = 256;
pub const CLUSTER_SHARDS_MAX: u32 = 4_096;

/// Longest `[cluster] node_id` and `key_prefix`, in bytes.
pub const CLUSTER_NODE_ID_LEN_MAX: usize = 64;
pub const CLUSTER_KEY_PREFIX_LEN_MAX: usize = 128;

/// Most `[cluster] etcd_endpoints`.
pub const CLUSTER_ETCD_ENDPOINTS_MAX: usize = 16;

/// Connecting to an etcd endpoint, and any one etcd request, in milliseconds. A
/// request without a leader fails fast (`require_leader`) rather than waiting for it.
pub const ETCD_CONNECT_TIMEOUT_MS: u64 = 2_000;
pub const ETCD_REQUEST_TIMEOUT_MS: u64 = 3_000;

/// Pause before a failed etcd step (claim, release, watch, keep-alive) is retried, in
/// milliseconds: doubling from the first to the most.
pub const ETCD_RETRY_PAUSE_FIRST_MS: u64 = 100;
pub const ETCD_RETRY_PAUSE_MAX_MS: u64 = 1_000;

/// Start-up attempts against etcd (connect, record the shard count, register) before
/// the node gives up and refuses to start.
pub const ETCD_STARTUP_ATTEMPTS: u32 = 10;

/// How long a starting node waits, beyond its lease TTL, for a node key with its id to
/// go (a killed predecessor's, until that lease expires) before it refuses to start.
pub const CLUSTER_REGISTER_GRACE_SECS: u64 = 2;

/// Backstop of the ownership loop, in milliseconds: it rebalances on every watch event
/// and also this often, so a lost event or a failed claim is retried.
pub const CLUSTER_REBALANCE_EVERY_MS: u64 = 1_000;

/// Most shards one rebalance step claims or releases, so one step's transactions stay
/// short and the other nodes see progress between steps.
pub const CLUSTER_SHARDS_PER_STEP_MAX: usize = 64;

/// Reading the log in bulk (replay, start-up recovery; `store::read_ahead`): threads
/// that read and decode chunks of records ahead of the fold. Two: the machines qskip
/// runs on have two cores, and the fold takes the rest.
pub const LOG_READ_AHEAD_THREADS: u64 = 2;

/// Records per chunk a read-ahead thread reads in one sled range and hands over.
pub const LOG_READ_AHEAD_CHUNK_RECORDS: u64 = 4_096;

/// Chunks each read-ahead thread may have decoded and not yet handed over.
pub const LOG_READ_AHEAD_CHUNKS_QUEUED: usize = 2;

/// Offer e-mails (`notify`): how often the notifier looks for new durable offers, in
/// milliseconds.
pub const NOTIFY_SCAN_INTERVAL_MS: u64 = 200;

/// Most seconds between two writes of the notifier's ledger when only its cursor moved
/// (a mail sent is written at once); a restart rereads at most this much of the log.
pub const NOTIFY_LEDGER_SAVE_SECS: u64 = 5;

/// Most log records the notifier reads in one pass (the rest waits for the next).
pub const NOTIFY_SCAN_RECORDS_MAX: u64 = 20_000;

/// Most offers waiting to be mailed at once; beyond it the notifier stops reading the
/// log until some are done (nothing is lost: its cursor stays behind them).
pub const NOTIFY_QUEUE_MAX: usize = 10_000;

/// Longest one SMTP delivery (connect, dialogue, data) may take, in seconds.
pub const NOTIFY_SMTP_TIMEOUT_SECS: u64 = 10;

/// Delay before the first retry of an offer e-mail, doubling up to the max, in ms.
pub const NOTIFY_RETRY_DELAY_FIRST_MS: u64 = 500;
pub const NOTIFY_RETRY_DELAY_MAX_MS: u64 = 60_000;

/// Attempts at an offer e-mail before the notifier gives up on it (logged and counted).
pub const NOTIFY_ATTEMPTS_MAX: u32 = 12;

/// Messages the dev outbox (`/dev/outbox`) keeps, newest last.
pub const NOTIFY_OUTBOX_MAX: usize = 100;
