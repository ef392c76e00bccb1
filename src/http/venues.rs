//! `GET /v1/venues`, `GET /v1/venues/{venue}`, `GET /v1/venues/{venue}/windows`.

use actix_web::{HttpResponse, web};

use super::dto::{VenueJson, WindowJson, WindowsQuery};
use super::{ApiError, AppState, method_not_allowed};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/venues").get(list).default_service(web::to(method_not_allowed)))
        .service(web::resource("/v1/venues/{venue}").get(show).default_service(web::to(method_not_allowed)))
        .service(web::resource("/v1/venues/{venue}/windows").get(windows).default_service(web::to(method_not_allowed)));
}

async fn list(state: web::Data<AppState>) -> HttpResponse {
    let venues: Vec<VenueJson> = state.booking.venues().all().iter().map(|v| VenueJson::from(&**v)).collect();
    HttpResponse::Ok().json(venues)
}

async fn show(state: web::Data<AppState>, venue: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let venue = state.booking.venue(&venue)?;
    Ok(HttpResponse::Ok().json(VenueJson::from(&*venue)))
}

async fn windows(
    state: web::Data<AppState>,
    venue: web::Path<String>,
    query: web::Query<WindowsQuery>,
) -> Result<HttpResponse, ApiError> {
    let windows = state.booking.windows(&venue, query.from, query.to).await?;
    let body: Vec<WindowJson> = windows.iter().map(|(key, counts)| WindowJson::new(key, counts)).collect();
    Ok(HttpResponse::Ok().json(body))
}
