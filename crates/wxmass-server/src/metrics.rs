//! What operators watch: Prometheus text at `GET /metrics` (behind a
//! token with `read`), from the `metrics` facade the crates record into:
//! requests by route and status (here), WeChat calls' latency and token
//! fetches (wxmass-api), batches sent and refused by errcode (the engine),
//! pushes recorded (the push writer), and campaigns by state (counted from
//! the store when scraped).
//!
//! metrics-exporter-prometheus renders; its own HTTP listener and push
//! gateway are left out (no second listener, no TLS stack of its own).

use std::sync::OnceLock;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (an embedding program's)
        // keeps the figures; this handle then renders what it has.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already: /metrics shows only its own");
        }
        handle
    })
}

/// Counts each request by its route (the template, never the values in
/// it) and its status.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics::counter!(
        "wxmass_http_requests_total",
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .increment(1);
    response
}
