//! The APIs' OpenAPI 3.1 documents, generated from the handlers and types themselves; the
//! committed copies under `openapi/` are kept equal to them by a test.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Declares the `bearer` scheme the paths name.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key: `wg.<tenant>.<key id>.<secret>`, or the operator key",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as served and committed: pretty JSON, ending in a newline.
pub fn document<A: OpenApi>() -> String {
    let mut text = A::openapi()
        .to_pretty_json()
        .expect("an OpenAPI document serialises");
    text.push('\n');
    text
}

pub async fn serve<A: OpenApi>() -> Json<utoipa::openapi::OpenApi> {
    Json(A::openapi())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The committed document under `openapi/` must be what the code generates; after a
    /// change to the API, `UPDATE_OPENAPI=1 cargo test -p http_api` rewrites it.
    fn assert_committed<A: OpenApi>(file: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../openapi")
            .join(file);
        let generated = document::<A>();
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi/{file} is not what the code generates: run UPDATE_OPENAPI=1 cargo test -p http_api"
        );
        let parsed: serde_json::Value = serde_json::from_str(&generated).unwrap();
        assert_eq!(parsed["openapi"], "3.1.0");
    }

    #[test]
    fn the_committed_admin_document_is_the_generated_one() {
        assert_committed::<crate::admin::AdminApi>("admin.json");
    }

    #[test]
    fn the_committed_business_document_is_the_generated_one() {
        assert_committed::<crate::business::BusinessApi>("api.json");
    }
}
