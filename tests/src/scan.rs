//! Looking for a person's data in the tables, as an auditor would: every item of a tenant
//! and its keys, every string and byte string in them, the needle as it is, in base64 or
//! in hex.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use wagate_shared::store::Item;

use crate::Stack;

/// Every string and byte string in an attribute value, nested ones too.
fn texts_of(value: &AttributeValue, out: &mut Vec<Vec<u8>>) {
    match value {
        AttributeValue::S(s) => out.push(s.as_bytes().to_vec()),
        AttributeValue::B(b) => out.push(b.as_ref().to_vec()),
        AttributeValue::Ss(list) => out.extend(list.iter().map(|s| s.as_bytes().to_vec())),
        AttributeValue::L(list) => list.iter().for_each(|v| texts_of(v, out)),
        AttributeValue::M(map) => map.values().for_each(|v| texts_of(v, out)),
        _ => {}
    }
}

/// The `sk/attribute` of every item of the tenant, in the table and the key table, that
/// holds `needle` as it is, in base64 or in hex.
pub async fn holders_of(stack: &Stack, tenant: &str, needle: &str) -> Vec<String> {
    let encodings = [
        needle.as_bytes().to_vec(),
        base64::engine::general_purpose::STANDARD
            .encode(needle)
            .into_bytes(),
        hex::encode(needle).into_bytes(),
    ];
    let mut items = stack.tenant_items(tenant).await;
    items.extend(stack.key_items(tenant).await);
    let mut found = Vec::new();
    for it in &items {
        for (name, value) in it {
            let mut texts = Vec::new();
            texts_of(value, &mut texts);
            let holds = texts.iter().any(|t| {
                encodings
                    .iter()
                    .any(|e| t.windows(e.len()).any(|w| w == e.as_slice()))
            });
            if holds {
                let sk = crate::text(it, "sk").unwrap_or_default();
                found.push(format!("{sk}/{name}"));
            }
        }
    }
    found
}

impl Stack {
    /// The tenant's items in the key table (its KEK, its contacts' keys and erasure
    /// marks), read consistently.
    pub async fn key_items(&self, tenant: &str) -> Vec<Item> {
        let out = self
            .dynamo
            .query()
            .table_name(&self.storage.key_table_name)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("T#{tenant}")))
            .consistent_read(true)
            .send()
            .await
            .expect("query the key table");
        out.items().to_vec()
    }

    /// A webhook delivery of `body` as Meta sends it, signed with the platform app
    /// secret, for the webhook's handler run in process.
    pub fn signed_webhook_request(&self, body: &str) -> http::Request<lambda_http::Body> {
        http::Request::builder()
            .method("POST")
            .uri("/webhook")
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                crate::sign(&self.platform_app_secret, body.as_bytes()),
            )
            .body(lambda_http::Body::Text(body.to_owned()))
            .expect("a request")
    }
}

impl Stack {
    /// Posts a person's request (`erasures` or `exports`) for the tenant to the admin API
    /// with `key` and waits for it to be `done`; its final view. It must not fail.
    pub async fn person_request_done(
        &self,
        tenant: &str,
        kind: &str,
        key: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let (status, started) = self
            .admin(
                reqwest::Method::POST,
                &format!("/admin/v1/tenants/{tenant}/{kind}"),
                Some(key),
                Some(body),
            )
            .await;
        assert_eq!(status, 202, "{started}");
        assert_eq!(started["state"], "running", "{started}");
        let path = format!(
            "/admin/v1/tenants/{tenant}/{kind}/{}",
            started["id"].as_str().expect("an id")
        );
        crate::eventually(
            std::time::Duration::from_secs(60),
            "the request to be done",
            || async {
                let (status, view) = self
                    .admin(reqwest::Method::GET, &path, Some(key), None)
                    .await;
                assert_eq!(status, 200, "{view}");
                assert_ne!(view["state"], "failed", "{view}");
                (view["state"] == "done").then_some(view)
            },
        )
        .await
    }
}
