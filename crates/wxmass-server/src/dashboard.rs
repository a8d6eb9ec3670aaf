//! The web dashboard: one page and its script and style, embedded in the
//! binary and served under `/ui/` (`/` leads there). The page is a shell:
//! everything it shows it asks the JSON API for, signed in with the
//! session cookie, so every figure passes the API's own checks. The
//! content security policy lets the page load only from this server, so a
//! page can never reach off the machine.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const INDEX: &str = include_str!("../assets/ui/index.html");
const SCRIPT: &str = include_str!("../assets/ui/app.js");
const STYLE: &str = include_str!("../assets/ui/app.css");

/// Only this server, for everything; no frames, no inline scripts. Inline
/// styles are allowed for the article preview (a sandboxed frame of the
/// page `wxmass article render` makes: WeChat's article HTML is styled
/// inline), whose pictures are `data:` addresses.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                      connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The binary is the version: a new one may change them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `/`, `/ui/` and its assets.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route(
            "/ui/",
            get(|| async { asset(INDEX, "text/html; charset=utf-8") }),
        )
        .route(
            "/ui/assets/app.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/ui/assets/app.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
}
