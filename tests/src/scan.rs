//! Looking for a person's data in the tables, as an auditor would: every item of a tenant
//! and its keys (or of both tables whole), every string and byte string in them, the
//! needle as it is, in base64 or in hex, and inside every base64 or base64url token
//! decoded (a wamid is one: Meta's embed the person's number).

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use wagate_messaging::store::Item;

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
/// holds `needle` as it is, in base64 or in hex, or inside a base64 token.
pub async fn holders_of(stack: &Stack, tenant: &str, needle: &str) -> Vec<String> {
    let mut items = stack.tenant_items(tenant).await;
    items.extend(stack.key_items(tenant).await);
    holders_among(&items, &[needle])
}

/// The `pk/sk/attribute` of every item of both tables, whoever's, that holds one of
/// `needles` in any of those forms.
pub async fn holders_anywhere(stack: &Stack, needles: &[&str]) -> Vec<String> {
    let mut items = stack.scan_all(&stack.table).await;
    items.extend(stack.scan_all(&stack.storage.key_table_name).await);
    holders_among(&items, needles)
}

/// Where among `items` one of `needles` is: `pk/sk/attribute` (`.../<key>` for a key).
fn holders_among(items: &[Item], needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for it in items {
        let place = format!(
            "{}/{}",
            crate::text(it, "pk").unwrap_or_default(),
            crate::text(it, "sk").unwrap_or_default()
        );
        for (name, value) in it {
            let mut texts = vec![name.as_bytes().to_vec()];
            texts_of(value, &mut texts);
            if texts.iter().any(|t| needles.iter().any(|n| reveals(t, n))) {
                found.push(format!("{place}/{name}"));
            }
        }
    }
    found
}

/// Whether `haystack` shows `needle`: as it is, in hex, in base64, or once any base64 or
/// base64url token in it is decoded (at each of the four alignments a token may start at).
pub fn reveals(haystack: &[u8], needle: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let forms = [
        needle.as_bytes().to_vec(),
        STANDARD.encode(needle).into_bytes(),
        hex::encode(needle).into_bytes(),
        hex::encode_upper(needle).into_bytes(),
    ];
    let contains = |bytes: &[u8], form: &[u8]| bytes.windows(form.len()).any(|w| w == form);
    if forms.iter().any(|f| contains(haystack, f)) {
        return true;
    }
    let text = String::from_utf8_lossy(haystack);
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
    for token in text.split(|c: char| !is_token_char(c)) {
        let token = token.trim_end_matches('=');
        if token.len() < 8 {
            continue;
        }
        for skip in 0..4 {
            let part = &token[skip..];
            let usable = &part[..part.len() - part.len() % 4];
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                for candidate in [part, usable] {
                    if let Ok(decoded) = engine.decode(candidate)
                        && forms.iter().any(|f| contains(&decoded, f))
                    {
                        return true;
                    }
                }
            }
            // Padding, as some writers leave it.
            for engine in [&STANDARD, &URL_SAFE] {
                let padded = format!("{part}{}", "=".repeat((4 - part.len() % 4) % 4));
                if let Ok(decoded) = engine.decode(&padded)
                    && forms.iter().any(|f| contains(&decoded, f))
                {
                    return true;
                }
            }
        }
    }
    false
}

impl Stack {
    /// Every item of `table`, live or expired (tests only).
    pub async fn scan_all(&self, table: &str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .dynamo
                .scan()
                .table_name(table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan a table");
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return items,
            }
        }
    }

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

#[cfg(test)]
mod tests {
    use super::reveals;

    #[test]
    fn a_number_inside_a_wamid_or_any_other_encoding_is_found() {
        // Meta's own wamid for a message from +49 1511 2345678.
        let wamid = b"wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjNFQjBGMDE4RTk4QUY3NTk3OUQ2QkYA";
        assert!(reveals(wamid, "4915112345678"));
        assert!(reveals(
            b"MSG#1#wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjNF",
            "4915112345678"
        ));
        assert!(reveals(b"x 34393135313132333435363738 y", "4915112345678"));
        assert!(reveals(b"sk#4915112345678", "4915112345678"));
        use base64::Engine;
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("c_1|t#4915112345678");
        assert!(reveals(url.as_bytes(), "4915112345678"));
        assert!(!reveals(
            b"MSG#1700000000#0123456789abcdef0123456789abcdef",
            "4915112345678"
        ));
    }
}
