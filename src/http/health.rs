//! `GET /healthz` (the process answers), `GET /readyz` (it can take writes) and
//! `GET /metrics` (Prometheus).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ErrorBody;
use super::{ApiError, AppState, method_not_allowed};

/// `{"status": "ok"}` (`/healthz`) or `{"status": "ready"}` (`/readyz`).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusJson {
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // HEAD too: load balancers and uptime checks often probe with it.
    cfg.service(web::resource("/healthz").get(healthz).head(healthz).default_service(web::to(method_not_allowed)))
        .service(web::resource("/readyz").get(readyz).head(readyz).default_service(web::to(method_not_allowed)))
        .service(web::resource("/metrics").get(metrics).default_service(web::to(method_not_allowed)));
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    summary = "Liveness: the process answers",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = StatusJson)),
)]
/// Also what the stand-in answers while the service recovers (`super::recovering`).
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(StatusJson { status: "ok" })
}

/// Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "Prometheus text exposition format 0.0.4; labels are per venue, never per reservation.",
    responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain; version=0.0.4")),
)]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    crate::telemetry::set_actors_live(state.services.windows.live_count());
    let prometheus = crate::telemetry::prometheus();
    prometheus.run_upkeep();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(prometheus.render())
}

#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    summary = "Readiness: the service can take writes",
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = StatusJson),
        (status = 503, description = "`not_ready`: still recovering its state at start-up, or the event log cannot \
                                      be written and the service is stopping",
         body = ErrorBody),
    ),
)]
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.journal.is_failed() {
        let message = "the event log cannot be written; the service is stopping";
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message));
    }
    Ok(HttpResponse::Ok().json(StatusJson { status: "ready" }))
}
