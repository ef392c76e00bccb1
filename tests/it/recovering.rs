//! While the service recovers, its port answers `/healthz` 200 and everything else
//! (`/readyz` included) `503 not_ready` with `Retry-After`; then the full server takes
//! over the same socket. Every other test in this binary goes through that handover
//! (`Application::build`), so here the stand-in is checked on its own.

use std::net::TcpListener;

use qskip::http::recovering::RecoveringServer;
use reqwest::StatusCode;

use crate::helpers::{assert_error, http_client};

#[actix_web::test]
async fn while_recovering_the_port_is_alive_but_not_ready() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let client = http_client();
    let recovering = RecoveringServer::start(&listener).expect("the stand-in starts");

    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    for (method, path) in [("GET", "/readyz"), ("GET", "/v1/venues"), ("POST", "/v1/venues/demo/reservations")] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client.request(method, format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()).as_deref(), Some("1"));
        assert_error(response, StatusCode::SERVICE_UNAVAILABLE, "not_ready").await;
    }

    // After the stand-in stops, the socket is still open for the full server.
    recovering.stop().await;
    let after = RecoveringServer::start(&listener).expect("the socket is still ours");
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    after.stop().await;
}
