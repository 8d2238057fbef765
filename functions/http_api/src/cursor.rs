//! The listings' `cursor` and `next_cursor`: sealed store cursors, valid only for the
//! listing, tenant and filters they were made for. No handler reads a key format.

use wagate_messaging::store::cursor::{Cursor, CursorKeyError, CursorKeys};

use crate::error::ApiError;

/// What a cursor is valid for: each part (tenant, listing, filters), unambiguously joined.
pub fn scope(parts: &[&str]) -> String {
    serde_json::to_string(parts).expect("strings always serialise")
}

/// The cursor a caller brought back, if any; a 400 for one this listing did not make.
pub async fn open(
    keys: &CursorKeys,
    scope: &str,
    raw: Option<&str>,
) -> Result<Option<Cursor>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let seal = keys.seal().await?;
    seal.open(scope, raw)
        .map(Some)
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor of this listing"))
}

/// The `next_cursor` for a page's end.
pub async fn seal(
    keys: &CursorKeys,
    scope: &str,
    next: Option<&Cursor>,
) -> Result<Option<String>, ApiError> {
    let Some(next) = next else {
        return Ok(None);
    };
    Ok(Some(keys.seal().await?.seal(scope, next)))
}

impl From<CursorKeyError> for ApiError {
    fn from(e: CursorKeyError) -> Self {
        match e {
            CursorKeyError::Store(e) => e.into(),
            CursorKeyError::Secret(e) => e.into(),
            malformed @ CursorKeyError::Malformed => {
                ApiError::Store(wagate_messaging::store::StoreError::Corrupt {
                    key: "cursor key".into(),
                    problem: malformed.to_string(),
                })
            }
        }
    }
}
