//! The admin API under `/v1/admin`: what an operator needs without a database console.
//!
//! Module map: [`auth`] (bearer token, operator name), [`dto`] (operator JSON shapes),
//! [`venues`] (create or change a venue), [`windows`] (a window's reservations),
//! [`reservations`] (release a hold by hand), [`refunds`] (refunds owed, retrying the
//! failed ones by hand), [`activity`] (recent refusals, late
//! payments and refunds, for the dashboard at `/admin`), [`backup`] (stream a backup file), [`cluster`] (this node's view of the cluster). Every handler authorizes first, before
//! it parses anything, so that without the token every route answers 401 alike.

pub mod activity;
pub mod auth;
pub mod backup;
pub mod cluster;
pub mod dto;
pub mod refunds;
pub mod reservations;
pub mod venues;
pub mod windows;

use actix_web::web;

use super::method_not_allowed;

pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &'static str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/v1/admin/venues/{venue}").put(venues::save))
        .service(resource("/v1/admin/venues/{venue}/windows/{start}/reservations").get(windows::reservations))
        .service(resource("/v1/admin/reservations/{id}/release").post(reservations::release))
        .service(resource("/v1/admin/reservations/{id}/refunds/retry").post(refunds::retry))
        .service(resource("/v1/admin/refunds").get(refunds::owed))
        .service(resource("/v1/admin/venues/{venue}/activity").get(activity::activity))
        .service(resource("/v1/admin/backup").post(backup::backup))
        .service(resource("/v1/admin/cluster").get(cluster::cluster));
}
