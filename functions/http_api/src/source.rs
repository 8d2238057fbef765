//! The caller's address, as the platform saw it (the request context of a Function URL or
//! an HTTP API), never as a header the caller could write: failed authentications are
//! counted by it.

use std::net::IpAddr;

use http::request::Parts;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// `None` when the request did not come through Lambda (in-process tests).
pub fn source_address(parts: &Parts) -> Option<IpAddr> {
    let RequestContext::ApiGatewayV2(context) = parts.request_context_ref()? else {
        return None;
    };
    context.http.source_ip.as_deref()?.parse().ok()
}
