//! Time moved forward: a conversation is had on the local stack under short retention
//! (content 30 days, metadata 60, contacts 90), then this process's clock is moved past
//! each period and every read route, run in this process, is asked again: conversations,
//! messages, contacts, a person's export, the callbacks' delivery log and the tenant's
//! events each hide what has expired, from the second it expires, whether or not storage
//! has let it go yet.
//!
//! The clock is this process's own (the functions on the stack keep the system's): this
//! file holds one test so that no other test shares the moved clock.

use std::sync::Arc;
use std::time::Duration;
use wagate_messaging::store::TenantEventStore;
use wagate_messaging::store::TenantStore;
use wagate_messaging::store::event::TenantEventLog;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_compliance::erasure::ErasureJob;
use wagate_compliance::export::{ExportBucket, PersonExporter};
use wagate_compliance::s3::s3_client;
use wagate_messaging::access::Role;
use wagate_messaging::clock::{move_clock_forward, now_seconds};
use wagate_messaging::domain::identity::{IdentityKey, Phone};
use wagate_messaging::domain::retention::DataClass;
use wagate_messaging::metrics::Metrics;
use wagate_messaging::queue::jobs::JobQueue;
use wagate_messaging::store::Expiry;
use wagate_messaging::store::event::TenantEvent;
use wagate_tests::in_process::{business_api, get};
use wagate_tests::receiver::Receiver;
use wagate_tests::{Stack, TestTenant, eventually, random_digits};

const DAY: i64 = 86_400;
const WAIT: Duration = Duration::from_secs(30);

/// What every route shows at one moment.
#[derive(Debug)]
struct Seen {
    conversation_listed: bool,
    contact_status: u16,
    messages_status: u16,
    /// The messages' bodies, `None` where content is hidden.
    messages: Vec<Option<String>>,
    deliveries: usize,
    events: usize,
    exported_contacts: usize,
    exported_messages: Vec<Option<String>>,
    exported_deliveries: usize,
}

struct Reader {
    stack: Stack,
    tenant: TestTenant,
    key: String,
    contact: String,
    phone: String,
    router: axum::Router,
    exporter: PersonExporter,
    export_queue: String,
}

fn bodies(messages: &Value) -> Vec<Option<String>> {
    messages
        .as_array()
        .map(|all| {
            all.iter()
                .map(|m| {
                    m["content"]["body"]
                        .as_str()
                        .or(m["content"]["text"]["body"].as_str())
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Reader {
    async fn look(&self) -> Seen {
        let (status, conversations) = get(&self.router, "/v1/conversations", &self.key).await;
        assert_eq!(status, 200, "{conversations}");
        let conversation_listed = conversations["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["contact_id"] == self.contact.as_str());
        let (contact_status, _) = get(
            &self.router,
            &format!("/v1/contacts/{}", self.contact),
            &self.key,
        )
        .await;
        let (messages_status, page) = get(
            &self.router,
            &format!("/v1/conversations/{}/messages", self.contact),
            &self.key,
        )
        .await;
        let (status, deliveries) =
            get(&self.router, "/v1/callbacks/deliveries?from=0", &self.key).await;
        assert_eq!(status, 200, "{deliveries}");
        let events = self
            .stack
            .store
            .repo::<TenantEventStore>()
            .tenant_events(&self.tenant.id, now_seconds(), 100)
            .await
            .unwrap()
            .len();
        let document = self.export().await;
        let exported = document["contacts"].as_array().unwrap();
        Seen {
            conversation_listed,
            contact_status,
            messages_status,
            messages: bodies(&page["messages"]),
            deliveries: deliveries["deliveries"].as_array().unwrap().len(),
            events,
            exported_contacts: exported.len(),
            exported_messages: exported
                .first()
                .map(|c| bodies(&c["messages"]))
                .unwrap_or_default(),
            exported_deliveries: exported
                .first()
                .and_then(|c| c["callback_deliveries"].as_array())
                .map_or(0, Vec::len),
        }
    }

    /// The person's export, asked for and written in this process, at its clock.
    async fn export(&self) -> Value {
        let person = IdentityKey::Phone(Phone::parse(&self.phone).unwrap());
        let export = self
            .exporter
            .request(&self.tenant.id, &person, false, "test", now_seconds())
            .await
            .unwrap();
        let received = self
            .stack
            .sqs
            .receive_message()
            .queue_url(&self.export_queue)
            .max_number_of_messages(1)
            .wait_time_seconds(5)
            .send()
            .await
            .unwrap();
        let message = &received.messages()[0];
        let Ok(ErasureJob::PersonExport(job)) =
            serde_json::from_str::<ErasureJob>(message.body().unwrap())
        else {
            panic!("an export job: {message:?}");
        };
        self.stack
            .sqs
            .delete_message()
            .queue_url(&self.export_queue)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
        self.exporter.run(&job, || true).await.unwrap();
        let done = self
            .exporter
            .status(&self.tenant.id, &export.id, now_seconds())
            .await
            .unwrap()
            .unwrap();
        let url = done.download_url.expect("a done export's link");
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        serde_json::from_str(&text).expect("the document is JSON")
    }
}

/// A conversation under short retention: a person writes, is answered, the callback is
/// delivered and logged, and the tenant gets one event.
async fn conversation(stack: Stack) -> Reader {
    let tenant = TestTenant::create(&stack).await;
    // Set before the pipeline first reads the tenant, so every item takes it.
    let (status, body) = stack
        .admin(
            Method::PUT,
            &format!("/admin/v1/tenants/{}/retention", tenant.id),
            Some(&stack.operator_key),
            Some(json!({"content_days": 30, "metadata_days": 60, "contact_days": 90, "dedup_days": 8})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    // Kept for the test's length: the delivery log needs a delivered callback.
    let _receiver = Receiver::of_received_messages(&stack, &key).await;
    let phone = format!("49157{}", random_digits(8));
    tenant
        .user_writes(&stack, &phone, "Words from long ago")
        .await;
    let contact = eventually(WAIT, "the contact", || async {
        stack.contact_of(&tenant.id, &phone).await
    })
    .await;
    let (status, sent) = tenant.reply(&stack, &key, &phone, "An answer").await;
    assert_eq!(status, 202, "{sent}");
    eventually(
        WAIT,
        "the answer accepted and the callback logged",
        || async {
            let (_, page) = stack
                .api_get(&format!("/v1/conversations/{contact}/messages"), &key)
                .await;
            let accepted = page["messages"].as_array().is_some_and(|m| {
                m.iter().any(|m| {
                    m["state"] == "accepted" || m["state"] == "delivered" || m["state"] == "sent"
                })
            });
            let (_, log) = stack.api_get("/v1/callbacks/deliveries?from=0", &key).await;
            let logged = log["deliveries"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["state"] == "delivered"));
            (accepted && logged).then_some(())
        },
    )
    .await;
    // A tenant event, as the inbound worker keeps one (metadata).
    let retention = stack
        .store
        .repo::<TenantStore>()
        .retention_settings(&tenant.id)
        .await
        .unwrap()
        .unwrap()
        .retention;
    let at = now_seconds();
    stack
        .store
        .repo::<TenantEventStore>()
        .put_tenant_event(
            &tenant.id,
            &TenantEvent {
                event_time: at,
                identity: "clockforward",
                field: "account_update",
                kind: "change",
                unhandled_reason: None,
                raw: "{}",
                named: &[],
                class: DataClass::Metadata,
                expiry: Expiry {
                    at: retention.expires_at(DataClass::Metadata, at),
                    dedup_until: retention.expires_at(DataClass::Dedup, at),
                },
            },
            at,
        )
        .await
        .unwrap();

    let metrics = Arc::new(Metrics::default());
    let export_queue = stack
        .sqs
        .create_queue()
        .queue_name(format!("clock-forward-exports-{}", random_digits(10)))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let exporter = PersonExporter::new(
        stack.store.clone(),
        JobQueue::new(stack.sqs.clone(), export_queue.clone(), metrics.clone()),
        ExportBucket {
            s3: s3_client(&stack.sdk),
            bucket: std::env::var("EXPORT_BUCKET").expect("EXPORT_BUCKET"),
        },
    );
    Reader {
        router: business_api(&stack, metrics),
        stack,
        tenant,
        key,
        contact,
        phone,
        exporter,
        export_queue,
    }
}

#[tokio::test]
async fn as_time_passes_every_route_hides_what_has_expired() {
    let reader = conversation(Stack::connect().await).await;
    let words = Some("Words from long ago".to_owned());

    // Now: everything is shown.
    let seen = reader.look().await;
    assert!(seen.conversation_listed, "{seen:?}");
    assert_eq!(seen.contact_status, 200);
    assert_eq!(seen.messages.len(), 2, "{seen:?}");
    assert!(seen.messages.contains(&words), "{seen:?}");
    assert_eq!(seen.deliveries, 1, "{seen:?}");
    assert_eq!(seen.events, 1);
    assert_eq!(seen.exported_contacts, 1);
    assert_eq!(
        seen.exported_messages, seen.messages,
        "the export as the API"
    );
    assert_eq!(seen.exported_deliveries, 1, "{seen:?}");

    // 31 days on: content is past its 30 days. The messages stay as records without
    // their words; the delivery log, which holds the callback's body, is gone.
    move_clock_forward(31 * DAY);
    let seen = reader.look().await;
    assert!(seen.conversation_listed, "{seen:?}");
    assert_eq!(seen.contact_status, 200);
    assert_eq!(seen.messages, vec![None, None], "{seen:?}");
    assert_eq!(seen.deliveries, 0, "{seen:?}");
    assert_eq!(seen.events, 1, "metadata lives 60 days");
    assert_eq!(seen.exported_messages, vec![None, None], "{seen:?}");
    assert_eq!(seen.exported_deliveries, 0, "{seen:?}");

    // 61 days on: past metadata's 60 days, the messages and the event are gone; the
    // contact stays for its 90 days.
    move_clock_forward(30 * DAY);
    let seen = reader.look().await;
    assert_eq!(seen.contact_status, 200);
    assert_eq!(seen.messages_status, 200);
    assert!(seen.messages.is_empty(), "{seen:?}");
    assert_eq!(seen.events, 0);
    assert_eq!(seen.exported_contacts, 1);
    assert!(seen.exported_messages.is_empty(), "{seen:?}");

    // 91 days on: the contact is gone from every route.
    move_clock_forward(30 * DAY);
    let seen = reader.look().await;
    assert!(!seen.conversation_listed, "{seen:?}");
    assert_eq!(seen.contact_status, 404);
    assert_eq!(seen.messages_status, 404);
    assert_eq!(seen.exported_contacts, 0, "{seen:?}");
}
