//! Every response carries `X-Request-Id`: the id `TracingLogger` gave the request's
//! span, so a client's report can be matched with the service's logs.

use actix_web::Error;
use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing_actix_web::RequestId;

const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// `wrap_fn` middleware (inside `TracingLogger`, which creates the id).
pub fn add_header<S, B>(
    req: ServiceRequest,
    service: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let id = req.extensions().get::<RequestId>().copied();
    let response = service.call(req);
    async move {
        let mut response = response.await?;
        if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
            response.headers_mut().insert(HEADER, value);
        }
        Ok(response)
    }
}
