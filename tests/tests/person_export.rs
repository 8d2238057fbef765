//! A person's export on the local stack: the JSON document holds, field by field, what the
//! business API shows of their contact and every message; the CSV has a row a message;
//! links live an hour at most; bad requests are refused and another tenant's export is
//! not found; erasing the person deletes their exports.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(60);

/// Asks for an export and waits for it to be done; its view.
async fn export(stack: &Stack, tenant: &str, key: &str, body: Value) -> Value {
    stack
        .person_request_done(tenant, "exports", key, body)
        .await
}

async fn download(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("the bucket answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Every message of the contact as the API lists them, page after page.
async fn api_messages(stack: &Stack, key: &str, contact: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = format!("/v1/conversations/{contact}/messages?limit=2");
    loop {
        let (status, page) = stack.api(Method::GET, &path, Some(key), None, &[]).await;
        assert_eq!(status, 200, "{page}");
        all.extend(page["messages"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => {
                path = format!("/v1/conversations/{contact}/messages?limit=2&cursor={next}")
            }
            None => return all,
        }
    }
}

#[tokio::test]
async fn an_export_holds_what_the_api_shows_and_goes_with_an_erasure() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let admin_key = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let t = tenant.id.as_str();
    let phone = format!("49154{}", random_digits(8));
    tenant
        .user_writes(&stack, &phone, "Wo ist mein Paket?")
        .await;
    tenant.user_writes(&stack, &phone, "Nummer, \"A-17\"").await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let (status, body) = stack
        .api(
            Method::PATCH,
            &format!("/v1/contacts/{contact}"),
            Some(&manager),
            Some(json!({"name": "Paula Paket", "email": "p@example.com", "attributes": {"tier": "gold"}})),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = stack
        .api(
            Method::POST,
            "/v1/messages",
            Some(&manager),
            Some(json!({"from": tenant.phone_number_id, "to": phone, "type": "text", "text": {"body": "Es kommt morgen."}})),
            &[],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    // The business's own record of their marketing consent joins the document.
    let (status, body) = stack
        .api(
            Method::POST,
            &format!("/v1/contacts/{contact}/consent"),
            Some(&manager),
            Some(json!({"action": "opt_in", "scope": "marketing", "source": "import"})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The reply settles (read, as the simulator reports it) before the export is taken.
    eventually(WAIT, "three messages, the reply read", || async {
        let messages = api_messages(&stack, &manager, &contact).await;
        (messages.len() == 3 && messages.iter().any(|m| m["state"] == "read")).then_some(())
    })
    .await;

    let done = export(
        &stack,
        t,
        &admin_key,
        json!({"phone": format!("+{phone}"), "csv": true}),
    )
    .await;
    assert_eq!(
        (done["contacts"].as_u64(), done["messages"].as_u64()),
        (Some(1), Some(3)),
        "{done}"
    );
    let expires = done["download_expires_at"].as_i64().expect("links");
    assert!(expires > now() && expires <= now() + 3600, "{done}");
    assert!(
        !done.to_string().contains(&phone),
        "the record names no one"
    );

    let (status, text) = download(done["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{text}");
    let document: Value = serde_json::from_str(&text).expect("the document is JSON");
    assert_eq!(document["schema"], "wagate.person-export/3");
    assert_eq!(document["events"], json!([]), "no event names them");
    assert_eq!(document["export_id"], done["id"]);
    let contacts = document["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), 1, "{document}");
    let (_, shown) = stack
        .api_get(&format!("/v1/contacts/{contact}"), &manager)
        .await;
    assert_eq!(
        contacts[0]["contact"], shown,
        "the contact as the API shows it"
    );
    let (_, consent) = stack
        .api_get(&format!("/v1/contacts/{contact}/consent"), &manager)
        .await;
    assert_eq!(
        contacts[0]["consent"], consent["entries"],
        "the consent ledger as the API shows it"
    );
    assert_eq!(consent["entries"].as_array().unwrap().len(), 1);
    let listed = api_messages(&stack, &manager, &contact).await;
    assert_eq!(
        contacts[0]["messages"],
        Value::Array(listed),
        "every message as the API shows it"
    );
    assert!(contacts[0]["callback_deliveries"].is_array());

    let (status, csv) = download(done["csv_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "a header and a row a message: {csv}");
    assert!(rows[0].starts_with("contact_id,message_id,direction,type"));
    assert!(csv.contains("\"Nummer, \"\"A-17\"\"\""), "{csv}");

    // Erasing the person deletes the export: its files and its record.
    let erased = stack
        .person_request_done(t, "erasures", &admin_key, json!({"phone": phone}))
        .await;
    assert_eq!(erased["erased"]["exports"], 1, "{erased}");
    assert_eq!(
        download(done["download_url"].as_str().unwrap()).await.0,
        404
    );
    let export_path = format!(
        "/admin/v1/tenants/{t}/exports/{}",
        done["id"].as_str().unwrap()
    );
    let (status, _) = stack
        .admin(Method::GET, &export_path, Some(&admin_key), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_export_requests_are_refused_and_strangers_get_an_empty_document() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let other = TestTenant::create(&stack).await;
    let admin_key = tenant.api_key(&stack, Role::Admin).await;
    let other_admin = other.api_key(&stack, Role::Admin).await;
    let t = tenant.id.as_str();
    let path = format!("/admin/v1/tenants/{t}/exports");
    for bad in [
        json!({"phone": "12ab"}),
        json!({"bsuid": "x"}),
        json!({"phone": "4915112345678", "bsuid": "DE.1"}),
        json!({"csv": true}),
        json!({"phone": "4915112345678", "format": "xml"}),
        json!({"phone": "4915112345678", "csv": "yes"}),
    ] {
        let (status, answer) = stack
            .admin(Method::POST, &path, Some(&admin_key), Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    let stranger = format!("49153{}", random_digits(8));
    let done = export(&stack, t, &admin_key, json!({"phone": stranger})).await;
    assert_eq!(
        (done["contacts"].as_u64(), done["messages"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(done.get("csv_url").is_none(), "no CSV asked for: {done}");
    let (status, text) = download(done["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["contacts"], json!([]));
    // Another tenant's key, another tenant's path, unknown and malformed ids: not found.
    let id = done["id"].as_str().unwrap();
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("{path}/{id}"),
            Some(&other_admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = stack
        .admin(
            Method::GET,
            &format!("/admin/v1/tenants/{}/exports/{id}", other.id.as_str()),
            Some(&other_admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
    for unknown in [
        "ex_000000000000000000000000",
        "er_000000000000000000000000",
        "x",
    ] {
        let (status, _) = stack
            .admin(
                Method::GET,
                &format!("{path}/{unknown}"),
                Some(&admin_key),
                None,
            )
            .await;
        assert_eq!(status, 404, "{unknown}");
    }
}

/// Runs a person's export in this process, through a queue of the test's own, each run
/// going on while `keep_going` says so, until it is done; its JSON document and CSV, and
/// how many times it paused.
async fn export_in_process(
    stack: &Stack,
    tenant: &TestTenant,
    phone: &str,
    keep_going: impl Fn() -> bool + Copy,
) -> (Value, String, u32) {
    use wagate_compliance::erasure::ErasureJob;
    use wagate_compliance::export::{ExportBucket, ExportOutcome, PersonExporter};
    use wagate_messaging::domain::identity::{IdentityKey, Phone};
    let metrics = std::sync::Arc::new(wagate_messaging::metrics::Metrics::default());
    let url = stack
        .sqs
        .create_queue()
        .queue_name(format!("export-pauses-{}", random_digits(10)))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue =
        wagate_messaging::queue::jobs::JobQueue::new(stack.sqs.clone(), url.clone(), metrics);
    let bucket = ExportBucket {
        s3: wagate_compliance::s3::s3_client(&stack.sdk),
        bucket: std::env::var("EXPORT_BUCKET").unwrap(),
    };
    let exporter = PersonExporter::new(stack.store.clone(), queue, bucket);
    let person = IdentityKey::Phone(Phone::parse(phone).unwrap());
    let export = exporter
        .request(&tenant.id, &person, true, "test", now())
        .await
        .unwrap();
    let mut pauses = 0;
    loop {
        let out = stack
            .sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(1)
            .wait_time_seconds(5)
            .send()
            .await
            .unwrap();
        let message = out.messages().first().expect("the export's job").clone();
        stack
            .sqs
            .delete_message()
            .queue_url(&url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
        let Ok(ErasureJob::PersonExport(job)) = serde_json::from_str(message.body().unwrap())
        else {
            panic!("an export job");
        };
        match exporter.run(&job, keep_going).await.unwrap() {
            ExportOutcome::Done { .. } => break,
            ExportOutcome::Paused { pauses: n } => pauses = n,
            ExportOutcome::Stale => panic!("the export stopped"),
        }
    }
    let done = exporter
        .status(&tenant.id, &export.id, now())
        .await
        .unwrap()
        .unwrap();
    let (_, json) = download(done.download_url.as_deref().unwrap()).await;
    let (_, csv) = download(done.csv_url.as_deref().unwrap()).await;
    // Nothing a pause kept is left beside the files.
    let s3 = wagate_compliance::s3::s3_client(&stack.sdk);
    let listed = s3
        .list_objects_v2()
        .bucket(std::env::var("EXPORT_BUCKET").unwrap())
        .prefix(format!("exports/{}/{}/", tenant.id, export.id))
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    (serde_json::from_str(&json).unwrap(), csv, pauses)
}

#[tokio::test]
async fn an_export_that_pauses_between_every_page_goes_on_to_the_same_document() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let phone = format!("49153{}", random_digits(8));
    // Three pages of messages, and a call the tenant kept without acting on, which names
    // the person.
    wagate_tests::bench::contact_with_messages(&stack, &tenant, &phone, 450).await;
    let call = tenant.delivery(
        "calls",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "calls": [{"id": format!("wacid.{}", random_digits(12)), "from": phone,
                "to": tenant.display_phone_number, "event": "connect",
                "timestamp": now().to_string(), "direction": "USER_INITIATED"}]}),
    );
    assert_eq!(stack.post_signed(&call).await.0, 200);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let (whole, whole_csv, none) = export_in_process(&stack, &tenant, &phone, || true).await;
    let (paused, paused_csv, pauses) = export_in_process(&stack, &tenant, &phone, || false).await;
    assert_eq!(none, 0);
    assert!(pauses >= 5, "it paused {pauses} times");
    let strip = |mut document: Value| {
        document["export_id"] = Value::Null;
        document["exported_at"] = Value::Null;
        document
    };
    assert_eq!(strip(paused.clone()), strip(whole.clone()));
    assert_eq!(paused_csv, whole_csv);
    assert_eq!(whole["schema"], "wagate.person-export/3");
    assert_eq!(
        whole["contacts"][0]["messages"].as_array().map(Vec::len),
        Some(450)
    );
    let events = whole["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["field"], "calls");
    assert_eq!(events[0]["event"]["from"], phone.as_str());
}
