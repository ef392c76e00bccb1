//! `GET /healthz` (the process answers), `GET /readyz` (it can take writes) and
//! `GET /metrics` (Prometheus).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{ApiError, AppState, method_not_allowed};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz).default_service(web::to(method_not_allowed)))
        .service(web::resource("/readyz").get(readyz).default_service(web::to(method_not_allowed)))
        .service(web::resource("/metrics").get(metrics).default_service(web::to(method_not_allowed)));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Prometheus text format.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    crate::telemetry::set_actors_live(state.booking.registry().live_count());
    let prometheus = crate::telemetry::prometheus();
    prometheus.run_upkeep();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(prometheus.render())
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.journal.is_failed() {
        let message = "the event log cannot be written; the service is stopping";
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
