//! A 10,000-row contact import through the business API on the local stack, with bad and
//! repeated rows reported one by one, then searched by name in pages. Alone in its binary:
//! the local Function URL runs one call at a time, and this one takes tens of seconds.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, random_digits};

const ROWS: usize = 10_000;

#[tokio::test]
async fn ten_thousand_rows_import_with_a_report_of_the_rows_left_out() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let prefix = format!("4917{}", random_digits(3));
    let phone = |i: usize| format!("{prefix}{i:06}");

    // A contact that exists before the import: its row updates it.
    let (status, existing) = stack
        .api(
            Method::POST,
            "/v1/contacts",
            Some(&manager),
            Some(json!({"phone": phone(7), "name": "Old Name"})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{existing}");

    let mut contacts: Vec<Value> = (0..ROWS)
        .map(|i| {
            json!({"phone": phone(i), "name": format!("Kunde {i:05}"),
                   "attributes": {"batch": "autumn"}})
        })
        .collect();
    contacts[10] = json!({"phone": "12"});
    contacts[20] = json!({"phone": phone(21), "email": "not-an-email"});
    contacts[30] = json!({"phone": phone(29)});
    contacts[40] = json!({"phone": phone(40), "colour": "red"});
    let body = serde_json::to_vec(&json!({ "contacts": contacts })).unwrap();
    let url = format!("{}/v1/contacts/import", stack.api_url);
    let (status, report) = stack
        .post_raw(&url, &manager, "application/json", body)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rows"], ROWS);
    assert_eq!(report["updated"], 1, "the existing contact was matched");
    assert_eq!(report["created"], ROWS - 5);
    let rejected: Vec<(u64, &str)> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [(11, "phone"), (21, "email"), (31, "phone"), (41, "colour")]
    );

    let (_, updated) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts/{}", existing["contact_id"].as_str().unwrap()),
            Some(&manager),
            None,
            &[],
        )
        .await;
    assert_eq!(updated["name"], "Kunde 00007");
    assert_eq!(updated["attributes"]["batch"], "autumn");

    // The same import again changes nothing and creates nothing.
    let again: Vec<Value> = (100..110)
        .map(|i| json!({"phone": phone(i), "name": format!("Kunde {i:05}")}))
        .collect();
    let body = serde_json::to_vec(&json!({ "contacts": again })).unwrap();
    let (_, report) = stack
        .post_raw(&url, &manager, "application/json", body)
        .await;
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (json!(0), json!(10))
    );

    // Searching by the start of a name, in pages, finds every match once.
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/v1/contacts?name=kunde%20000&limit=40".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = stack
            .api(Method::GET, &path, Some(&manager), None, &[])
            .await;
        assert_eq!(status, 200, "{page}");
        for c in page["contacts"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            assert!(name.starts_with("Kunde 000"), "{name}");
            assert!(seen.insert(c["contact_id"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // Kunde 00000 to 00099 (00007 renamed by the import), less the four rejected rows.
    assert_eq!(seen.len(), 100 - 4);
}
