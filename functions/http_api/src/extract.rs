//! JSON request bodies whose failures are [`ApiError`]s naming the field at fault.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body, limited in size by the router's `DefaultBodyLimit`; unknown fields are
/// refused by the request types themselves (`deny_unknown_fields`).
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonObjectBytes(bytes) = JsonObjectBytes::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON object body not yet parsed, for a handler that reads it twice (as its type, and
/// as a canonical value to digest): its media type, size and first byte are checked.
pub struct JsonObjectBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonObjectBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if media_type(req.headers()).as_deref() != Some("application/json") {
            return Err(ApiError::NotJson);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| body_error(e, crate::MAX_BODY_BYTES))?;
        // Every request body is an object: serde would also read a struct from an array.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::Invalid {
                field: None,
                message: "the body must be a JSON object".into(),
            });
        }
        Ok(Self(bytes))
    }
}

/// The request's media type, lower case, without parameters (`text/csv; charset=utf-8` is
/// `text/csv`).
pub fn media_type(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

/// A body that could not be read: over the route's `limit`, or broken in transit.
pub fn body_error(rejection: BytesRejection, limit: usize) -> ApiError {
    match rejection {
        BytesRejection::FailedToBufferBody(_) => ApiError::TooLarge { limit },
        other => ApiError::Invalid {
            field: None,
            message: other.body_text(),
        },
    }
}

/// A JSON body that may also be left out: an empty body is `T::default()`.
pub struct OptionalJsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|len| len.trim() == "0")
            && !req.headers().contains_key(http::header::CONTENT_TYPE);
        if empty {
            return Ok(Self(T::default()));
        }
        JsonBody::<T>::from_request(req, state)
            .await
            .map(|JsonBody(value)| Self(value))
    }
}

/// Parses JSON, naming the field at fault (`a.b[2].c`) when the structure is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::Invalid {
                field: None,
                message: format!("the body is not valid JSON: {inner}"),
            };
        }
        field_error(path, inner.to_string())
    })
}

/// Reads a parsed JSON value as `T`, naming the field at fault.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| field_error(e.path().to_string(), e.into_inner().to_string()))
}

/// A query string's parameters, refused with the parameter at fault named.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(QueryParams)
            .map_err(|e| field_error(e.path().to_string(), e.into_inner().to_string()))
    }
}

fn field_error(path: String, message: String) -> ApiError {
    // A missing field is named in serde's message; the path stops at its parent.
    let named = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (path.as_str(), named) {
        (".", None) => None,
        (".", Some(name)) => Some(name.to_owned()),
        (_, None) => Some(path.clone()),
        (_, Some(name)) => Some(format!("{path}.{name}")),
    };
    ApiError::Invalid { field, message }
}

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;

/// A listing's `limit`: 1 to 100, 50 when not given.
pub fn page_limit(requested: Option<u32>) -> Result<i32, ApiError> {
    let limit = requested.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit as i32)
    } else {
        Err(ApiError::invalid(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        days: u32,
    }

    fn field_of(body: &str) -> Option<String> {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field_at_fault() {
        assert_eq!(
            field_of(r#"{"name": 1, "inner": []}"#).as_deref(),
            Some("name")
        );
        assert_eq!(field_of(r#"{"inner": []}"#).as_deref(), Some("name"));
        assert_eq!(
            field_of(r#"{"name": "a", "inner": [], "x": 1}"#).as_deref(),
            Some("x")
        );
        assert_eq!(
            field_of(r#"{"name": "a", "inner": [{"days": 1}, {"days": -1}]}"#).as_deref(),
            Some("inner[1].days")
        );
        assert_eq!(
            field_of(r#"{"name": "a", "inner": [{"days": 1, "weeks": 2}]}"#).as_deref(),
            Some("inner[0].weeks")
        );
        assert_eq!(field_of(r#"{"name": "#), None);
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused_as_invalid_json() {
        let bytes = b"\xff\xfe{\"name\": \"a\", \"inner\": []}";
        assert!(matches!(
            parse_json::<Outer>(bytes),
            Err(ApiError::Invalid { field: None, .. })
        ));
    }
}
