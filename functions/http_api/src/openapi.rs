//! The APIs' OpenAPI 3.1 documents, generated from the handlers and types themselves; the
//! committed copies under `openapi/` are kept equal to them by a test.

use axum::Json;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

/// Declares the `bearer` scheme the paths name.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut OpenApi) {
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

/// The API's routes from its handler groups, one `routes!` group per path, over the
/// document's `frame` (what is not a route). A group naming two paths would serve each of
/// its handlers at both (`routes!` mounts the group's methods on every path it names), so
/// it stops the router from being built (the documents' unit tests build it).
pub fn router_of<S>(
    frame: OpenApi,
    groups: impl IntoIterator<Item = UtoipaMethodRouter<S>>,
) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    groups
        .into_iter()
        .fold(OpenApiRouter::with_openapi(frame), |router, group| {
            let paths: Vec<&String> = group.1.paths.keys().collect();
            assert_eq!(
                paths.len(),
                1,
                "a routes! group serves one path, not {paths:?}"
            );
            router.routes(group)
        })
}

/// The document as served and committed: pretty JSON, ending in a newline.
pub fn pretty(document: &OpenApi) -> String {
    let mut text = document
        .to_pretty_json()
        .expect("an OpenAPI document serialises");
    text.push('\n');
    text
}

pub async fn serve(document: Arc<OpenApi>) -> Json<Arc<OpenApi>> {
    Json(document)
}

/// Each operation of the document (`METHOD /path`) with the scopes its `bearer`
/// requirement names: the permission the route needs.
pub fn operation_scopes(document: &OpenApi) -> Vec<(String, Vec<String>)> {
    let value = serde_json::to_value(document).expect("an OpenAPI document serialises");
    let mut operations = Vec::new();
    for (path, item) in value["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let scopes = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement["bearer"].as_array())
                .flatten()
                .filter_map(|scope| scope.as_str().map(str::to_owned))
                .collect();
            operations.push((format!("{} {path}", method.to_uppercase()), scopes));
        }
    }
    operations
}

/// Checks that `openapi/<file>` is what the code generates, for each crate's test; with
/// `UPDATE_OPENAPI=1` it rewrites the file first (after a change to the API).
pub fn assert_committed(document: OpenApi, file: &str) {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../openapi")
        .join(file);
    let generated = pretty(&document);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("openapi/ is writable");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/{file} is not what the code generates: run UPDATE_OPENAPI=1 cargo test -p api -p admin"
    );
    let parsed: serde_json::Value = serde_json::from_str(&generated).expect("the document is JSON");
    assert_eq!(parsed["openapi"], "3.1.0");
}
