//! `GET /healthz` (the process answers) and `GET /readyz` (it can take writes).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{ApiError, AppState, method_not_allowed};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz).default_service(web::to(method_not_allowed)))
        .service(web::resource("/readyz").get(readyz).default_service(web::to(method_not_allowed)));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.journal.is_failed() {
        let message = "the event log cannot be written; the service is stopping";
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready" })))
}
