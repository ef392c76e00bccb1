//! qskip: sells queue skips per 15-minute window and never oversells.
//!
//! Layers depend one way: [`domain`] (pure rules) <- [`store`] (sled event log) <-
//! [`actors`] (one actor per window, group-commit journal) <- [`service`] (one small
//! service per use case) <- [`http`] (actix-web adapters), [`payments`] (Stripe
//! workers). [`app`] wires them together; [`config`] reads the TOML file.

pub mod actors;
pub mod app;
pub mod backup;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod domain;
pub mod fd_limit;
pub mod http;
pub mod limits;
pub mod notify;
pub mod payments;
pub mod replay;
pub mod service;
pub mod sim;
pub mod store;
pub mod stripe;
pub mod telemetry;
