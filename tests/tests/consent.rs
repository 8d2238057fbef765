//! Consent on the local stack: opt-out keywords in every default language and a declared
//! button, Meta's marketing stop and resume, the one confirmation, the refusal of every
//! send route before anything is queued (409 `opted_out`), the sender's refusal of a job
//! queued before the opt-out, the opt-out that outlives an erasure, and bad input.

use std::time::Duration;
use wagate_messaging::store::TemplateStore;

use reqwest::Method;
use serde_json::{Value, json};
use wagate_messaging::access::Role;
use wagate_messaging::domain::conversation::SendOutcome;
use wagate_messaging::domain::outbound::OutboundMessage;
use wagate_messaging::domain::outbound::Recipient;
use wagate_messaging::store::template::TemplateFromMeta;
use wagate_tests::scan::reveals;
use wagate_tests::{Stack, TestTenant, eventually, now, random_digits};

const WAIT: Duration = Duration::from_secs(30);

fn user() -> String {
    format!("49157{}", random_digits(8))
}

/// The contact of `phone` as the business API shows it, once there is one.
async fn contact(stack: &Stack, key: &str, phone: &str) -> Value {
    contact_when(stack, key, phone, "the contact", Value::is_object).await
}

/// The contact of `phone` once `check` holds for it.
async fn contact_when(
    stack: &Stack,
    key: &str,
    phone: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(WAIT, what, || async {
        let (_, found) = stack
            .api(
                Method::GET,
                &format!("/v1/contacts?phone={phone}"),
                Some(key),
                None,
                &[],
            )
            .await;
        let contact = found["contacts"][0].clone();
        check(&contact).then_some(contact)
    })
    .await
}

/// The texts the simulator received for `to`.
async fn texts_to(stack: &Stack, tenant: &TestTenant, to: &str) -> Vec<String> {
    tenant
        .sim_received(stack)
        .await
        .iter()
        .filter(|r| r["to"] == to && r["type"] == "text")
        .map(|r| {
            r["body"]["text"]["body"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn ledger(stack: &Stack, key: &str, contact_id: &str) -> Value {
    let (status, view) = stack
        .api(
            Method::GET,
            &format!("/v1/contacts/{contact_id}/consent"),
            Some(key),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200, "{view}");
    view
}

/// Imports `csv` as the business does.
async fn import_csv(stack: &Stack, key: &str, csv: &str) -> (u16, Value) {
    let url = format!("{}/v1/contacts/import", stack.api_url);
    stack
        .post_raw(&url, key, "text/csv", csv.as_bytes().to_vec())
        .await
}

#[tokio::test]
async fn a_stop_keyword_in_each_default_language_opts_out_and_is_confirmed_once_in_it() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    // A keyword of each language, and a word of the confirmation in that language.
    let cases = [
        ("STOP", "START"),
        ("¡Parar!", "ALTA"),
        ("sair", "VOLTAR"),
        ("Arrêt", "REPRENDRE"),
        ("stopp", "ANMELDEN"),
        ("Basta", "RIPRENDI"),
        ("band karo", "शुरू"),
        ("रोको", "शुरू"),
        ("إيقاف", "ابدأ"),
        ("BERHENTI", "MULAI"),
    ];
    let users: Vec<String> = cases.iter().map(|_| user()).collect();
    for ((keyword, _), phone) in cases.iter().zip(&users) {
        tenant.user_writes(&stack, phone, keyword).await;
    }
    for ((keyword, confirmation), phone) in cases.iter().zip(&users) {
        let contact = contact_when(&stack, &key, phone, "the opt-out", |c| {
            c["opted_out_of_all"] == true
        })
        .await;
        let view = ledger(&stack, &key, contact["contact_id"].as_str().unwrap()).await;
        assert_eq!(view["all"]["opted_out"], true, "{keyword}: {view}");
        assert_eq!(view["all"]["source"], "keyword", "{keyword}");
        let entry = &view["entries"][0];
        assert_eq!(
            (entry["action"].as_str(), entry["scope"].as_str()),
            (Some("opt_out"), Some("all"))
        );
        // The message's id, which names no one: not its wamid, whose base64 holds the
        // number.
        let evidence = entry["evidence"].as_str().unwrap();
        assert!(!evidence.starts_with("wamid."), "{entry}");
        assert!(!reveals(evidence.as_bytes(), phone), "{entry}");
        let (status, message) = stack
            .api_get(&format!("/v1/messages/{evidence}"), &key)
            .await;
        assert_eq!(status, 200, "the evidence names the message: {message}");
        assert!(
            !view.to_string().contains(keyword),
            "the ledger holds no words: {view}"
        );
        let acks = eventually(WAIT, "the confirmation", || async {
            let texts = texts_to(&stack, &tenant, phone).await;
            (!texts.is_empty()).then_some(texts)
        })
        .await;
        assert_eq!(acks.len(), 1, "{keyword}: {acks:?}");
        assert!(acks[0].contains(confirmation), "{keyword}: {acks:?}");
    }

    // A second STOP is recorded in the ledger but not confirmed again.
    let phone = &users[0];
    tenant.user_writes(&stack, phone, "stop").await;
    let contact_id = contact(&stack, &key, phone).await["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually(WAIT, "the second entry", || async {
        let view = ledger(&stack, &key, &contact_id).await;
        (view["entries"].as_array().unwrap().len() == 2).then_some(())
    })
    .await;
    // The confirmation would be queued in the same step as the entry; give its send time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(texts_to(&stack, &tenant, phone).await.len(), 1);

    // START resumes: the business may reply again.
    tenant.user_writes(&stack, phone, "Start").await;
    contact_when(&stack, &key, phone, "the opt-in", |c| {
        c["opted_out_of_all"] == false
    })
    .await;
    let (status, sent) = tenant.reply(&stack, &key, phone, "Welcome back").await;
    assert_eq!(status, 202, "{sent}");
}

/// Records `name` at the tenant as Meta lists it, with `category`.
async fn template(stack: &Stack, tenant: &TestTenant, id: &str, name: &str, category: &str) {
    stack
        .store
        .repo::<TemplateStore>()
        .record_template(
            &tenant.id,
            &TemplateFromMeta {
                id,
                waba_id: &tenant.waba_id,
                name,
                language: "en_US",
                category,
                status: "APPROVED",
                components: &[],
            },
            now(),
        )
        .await
        .unwrap();
}

fn template_to(tenant: &TestTenant, phone: &str, name: &str) -> Value {
    json!({"from": tenant.phone_number_id, "to": phone, "type": "template",
           "template": {"name": name, "language": "en_US"}})
}

async fn send(stack: &Stack, key: &str, body: Value) -> (u16, Value) {
    stack
        .api(Method::POST, "/v1/messages", Some(key), Some(body), &[])
        .await
}

fn marketing_preference(tenant: &TestTenant, phone: &str, value: &str, at: i64) -> String {
    tenant.delivery(
        "user_preferences",
        json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
            "contacts": [{"profile": {"name": "Pat"}, "wa_id": phone}],
            "user_preferences": [{"wa_id": phone, "detail": "User requested",
                "category": "marketing_messages", "value": value, "timestamp": at}]}),
    )
}

#[tokio::test]
async fn after_metas_marketing_stop_marketing_templates_are_refused_and_never_reach_meta() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    template(&stack, &tenant, "9001", "spring_sale", "MARKETING").await;
    template(&stack, &tenant, "9002", "order_update", "UTILITY").await;
    let phone = user();
    tenant
        .user_writes(&stack, &phone, "Where is my parcel?")
        .await;
    contact(&stack, &key, &phone).await;
    // Meta tells the person stopped marketing in WhatsApp.
    let stopped_at = now() - 5;
    let stop = marketing_preference(&tenant, &phone, "stop", stopped_at);
    assert_eq!(stack.post_signed(&stop).await.0, 200);
    contact_when(&stack, &key, &phone, "the opt-out", |c| {
        c["marketing_opt_out"] == true
    })
    .await;

    // A marketing template, and one the gateway does not know, are refused with the entry.
    for name in ["spring_sale", "never_synced"] {
        let (status, refused) = send(&stack, &key, template_to(&tenant, &phone, name)).await;
        assert_eq!(status, 409, "{name}: {refused}");
        assert_eq!(refused["error"]["code"], "opted_out");
        assert_eq!(refused["error"]["opt_out"]["scope"], "marketing");
        assert_eq!(refused["error"]["opt_out"]["source"], "meta");
        assert_eq!(refused["error"]["opt_out"]["at"], stopped_at);
    }
    // The default policy lets a utility template and a reply in the window through.
    let (status, sent) = send(&stack, &key, template_to(&tenant, &phone, "order_update")).await;
    assert_eq!(status, 202, "{sent}");
    let (status, sent) = tenant.reply(&stack, &key, &phone, "It left today").await;
    assert_eq!(status, 202, "{sent}");
    let received = eventually(WAIT, "both sends", || async {
        let got: Vec<Value> = tenant
            .sim_received(&stack)
            .await
            .into_iter()
            .filter(|r| r["to"] == phone)
            .collect();
        (got.len() == 2).then_some(got)
    })
    .await;
    assert!(
        received
            .iter()
            .all(|r| r["body"]["template"]["name"] != "spring_sale"),
        "{received:?}"
    );
    // Resumed (Meta's resume, newer), the marketing template goes.
    let resume = marketing_preference(&tenant, &phone, "resume", now());
    assert_eq!(stack.post_signed(&resume).await.0, 200);
    contact_when(&stack, &key, &phone, "the resume", |c| {
        c["marketing_opt_out"] == false
    })
    .await;
    let (status, sent) = send(&stack, &key, template_to(&tenant, &phone, "spring_sale")).await;
    assert_eq!(status, 202, "{sent}");
}

#[tokio::test]
async fn a_strict_tenant_refuses_utility_after_a_marketing_opt_out_and_a_button_can_opt_out() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    let settings = json!({"opt_out_button_payloads": ["STOP_PROMOS"], "keyword_scope": "marketing",
                          "non_marketing": "refuse",
                          "acknowledgements": {"en": "No more promotions, promised."}});
    let path = format!("/admin/v1/tenants/{}/consent", tenant.id);
    let (status, stored) = stack
        .admin(Method::PUT, &path, Some(&key), Some(settings))
        .await;
    assert_eq!(status, 200, "{stored}");
    template(&stack, &tenant, "9102", "order_update", "UTILITY").await;
    // The person presses the declared button of a template.
    let phone = user();
    let answer = stack
        .sim_post(
            &format!("/_sim/numbers/{}/users/write", tenant.phone_number_id),
            json!({"from": phone, "message": {"type": "button",
                   "button": {"payload": "STOP_PROMOS", "text": "Stop promotions"}}}),
        )
        .await;
    assert_eq!(answer["webhook_status"], 200, "{answer}");
    let contact = contact_when(&stack, &key, &phone, "the opt-out", |c| {
        c["marketing_opt_out"] == true
    })
    .await;
    assert_eq!(contact["opted_out_of_all"], false);
    let view = ledger(&stack, &key, contact["contact_id"].as_str().unwrap()).await;
    assert_eq!(view["marketing"]["source"], "button", "{view}");
    let acks = eventually(WAIT, "the confirmation", || async {
        let texts = texts_to(&stack, &tenant, &phone).await;
        (!texts.is_empty()).then_some(texts)
    })
    .await;
    assert_eq!(acks, ["No more promotions, promised."]);
    // This tenant refuses other templates and replies too.
    let (status, refused) = send(&stack, &key, template_to(&tenant, &phone, "order_update")).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("opted_out")),
        "{refused}"
    );
    let (status, refused) = tenant.reply(&stack, &key, &phone, "Hi").await;
    assert_eq!(status, 409, "{refused}");
}

#[tokio::test]
async fn a_job_queued_before_the_opt_out_is_refused_by_the_sender_and_never_sent() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    template(&stack, &tenant, "9201", "weekly_offer", "MARKETING").await;
    let phone = user();
    tenant.user_writes(&stack, &phone, "STOP").await;
    contact_when(&stack, &key, &phone, "the opt-out", |c| {
        c["opted_out_of_all"] == true
    })
    .await;
    // A job the API accepted before the opt-out, reaching the sender only now (it went
    // through the queue as any job does, without the API's check).
    let message = OutboundMessage::template(
        &tenant.phone_number_id,
        Recipient::parse(&phone).unwrap(),
        "weekly_offer",
        "en_US",
    );
    let job = stack
        .outbound
        .enqueue(&tenant.id, &message, None, now() - 60)
        .await
        .unwrap();
    let decided = stack.outcome_of(&job, WAIT).await;
    match &decided.outcome {
        SendOutcome::Refused { reason } => {
            assert!(reason.contains("opted out of all"), "{reason}");
        }
        other => panic!("sent or failed: {other:?}"),
    }
    // Only the confirmation of the STOP reached Meta.
    let received: Vec<Value> = tenant
        .sim_received(&stack)
        .await
        .into_iter()
        .filter(|r| r["to"] == phone)
        .collect();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["type"], "text");
}

#[tokio::test]
async fn an_erased_person_who_opted_out_is_refused_at_the_next_marketing_send() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    template(&stack, &tenant, "9301", "spring_sale", "MARKETING").await;
    // Two people opt out and are erased: one is sent to next, the other imported.
    let (phone, listed) = (user(), user());
    for who in [&phone, &listed] {
        tenant.user_writes(&stack, who, "unsubscribe").await;
        contact_when(&stack, &key, who, "the opt-out", |c| {
            c["opted_out_of_all"] == true
        })
        .await;
        // The stop is handled to its end (its confirmation sent) before the erasure: an
        // erasure racing the worker that handles the stop is not what this test is about.
        eventually(WAIT, "the confirmation", || async {
            (!texts_to(&stack, &tenant, who).await.is_empty()).then_some(())
        })
        .await;
        let erased = stack
            .person_request_done(tenant.id.as_str(), "erasures", &key, json!({"phone": who}))
            .await;
        assert_eq!(erased["erased"]["contacts"], 1, "{erased}");
        assert_eq!(erased["erased"]["consent_entries"], 1, "{erased}");
        let (_, found) = stack
            .api_get(&format!("/v1/contacts?phone={who}"), &key)
            .await;
        assert_eq!(found["contacts"], json!([]), "the person is gone");
    }
    // The next campaign reaches the same number: refused, with when they opted out.
    let (status, refused) = send(&stack, &key, template_to(&tenant, &phone, "spring_sale")).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["opt_out"]["scope"], "all");
    // What outlives the erasure holds the scope and the time alone: no source, no evidence.
    assert!(refused["error"]["opt_out"]["source"].is_null(), "{refused}");
    // Imported again from the business's old list, they are a new contact, opted out.
    let (status, report) =
        import_csv(&stack, &key, &format!("phone,name\n+{listed},Again\n")).await;
    assert_eq!(
        (status, report["created"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    let again = contact(&stack, &key, &listed).await;
    assert_eq!(again["opted_out_of_all"], true, "{again}");
    let (status, refused) = send(&stack, &key, template_to(&tenant, &listed, "spring_sale")).await;
    assert_eq!(status, 409, "{refused}");
    // What is kept of them is a keyed hash with scope and time: no number, no words.
    let items = stack.tenant_items(tenant.id.as_str()).await;
    let text = format!("{items:?}");
    assert!(
        !text.contains(&phone) && !text.contains(&listed),
        "a number is in an item"
    );
    assert!(!text.contains("unsubscribe"), "the words are in an item");
}

#[tokio::test]
async fn the_business_records_consent_and_bad_input_changes_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let key = tenant.api_key(&stack, Role::Admin).await;
    let agent = tenant.api_key(&stack, Role::Agent).await;
    let phone = user();
    let (status, created) = stack
        .api(
            Method::POST,
            "/v1/contacts",
            Some(&key),
            Some(json!({"phone": phone})),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let contact_id = created["contact_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/contacts/{contact_id}/consent");
    let record = |body: Value, key: String| {
        let stack = &stack;
        let path = path.clone();
        async move {
            stack
                .api(Method::POST, &path, Some(&key), Some(body), &[])
                .await
        }
    };
    // An import's opt-out, dated, and the same again: one entry.
    let at = now() - 86_400;
    let body = json!({"action": "opt_out", "scope": "marketing", "source": "import", "at": at});
    let (status, recorded) = record(body.clone(), key.clone()).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["marketing"]["opted_out"], true);
    let evidence = recorded["entries"][0]["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("key:"), "{recorded}");
    record(body, key.clone()).await;
    let view = ledger(&stack, &key, &contact_id).await;
    assert_eq!(view["entries"].as_array().unwrap().len(), 1, "{view}");
    // An older opt-in does not undo it; a newer one does.
    record(
        json!({"action": "opt_in", "scope": "marketing", "at": at - 10}),
        key.clone(),
    )
    .await;
    assert_eq!(
        ledger(&stack, &key, &contact_id).await["marketing"]["opted_out"],
        true
    );
    let (status, _) = record(json!({"action": "opt_in", "scope": "all"}), key.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(
        ledger(&stack, &key, &contact_id).await["marketing"]["opted_out"],
        false
    );

    // An import's consent columns land in the ledgers, from the key's id.
    let imported = user();
    let (status, report) = import_csv(
        &stack,
        &key,
        &format!(
            "phone,consent.marketing\n+{imported},opt_out\n+{},sometimes\n",
            user()
        ),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(
        report["rejected"][0]["field"], "consent.marketing",
        "{report}"
    );
    let shown = contact(&stack, &key, &imported).await;
    assert_eq!(shown["marketing_opt_out"], true, "{shown}");
    let view = ledger(&stack, &key, shown["contact_id"].as_str().unwrap()).await;
    assert_eq!(view["entries"][0]["source"], "import", "{view}");

    // Bad input: a clear 400, and nothing recorded.
    let before = ledger(&stack, &key, &contact_id).await;
    for (bad, field) in [
        (
            json!({"action": "opt_out", "scope": "all", "source": "keyword"}),
            "source",
        ),
        (
            json!({"action": "opt_out", "scope": "all", "source": "meta"}),
            "source",
        ),
        (
            json!({"action": "opt_out", "scope": "all", "at": now() + 3600}),
            "at",
        ),
        (json!({"action": "opt_out", "scope": "all", "at": 12}), "at"),
        (json!({"action": "maybe", "scope": "all"}), "action"),
        (json!({"action": "opt_out", "scope": "sms"}), "scope"),
        (
            json!({"action": "opt_out", "scope": "all", "text": "STOP"}),
            "text",
        ),
        (json!(["opt_out"]), ""),
    ] {
        let (status, refused) = record(bad.clone(), key.clone()).await;
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(
            refused["error"]["field"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{bad}: {refused}"
        );
    }
    let (status, _) = record(json!({"action": "opt_out", "scope": "all"}), agent.clone()).await;
    assert_eq!(status, 403, "an agent key may read but not record consent");
    let (status, _) = stack
        .api(
            Method::POST,
            "/v1/contacts/c_00000000000000000000/consent",
            Some(&key),
            Some(json!({"action": "opt_out", "scope": "all"})),
            &[],
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(ledger(&stack, &key, &contact_id).await, before);

    // The tenant's settings: an unknown language, an empty list, a blank confirmation.
    let settings_path = format!("/admin/v1/tenants/{}/consent", tenant.id);
    let (_, defaults) = stack
        .admin(Method::GET, &settings_path, Some(&key), None)
        .await;
    assert_eq!(defaults["keyword_scope"], "all", "{defaults}");
    for (bad, field) in [
        (
            json!({"opt_out_keywords": {"tlh": ["Qapla"]}}),
            "opt_out_keywords.tlh",
        ),
        (json!({"opt_in_keywords": {"en": []}}), "opt_in_keywords.en"),
        (
            json!({"acknowledgements": {"en": "  "}}),
            "acknowledgements.en",
        ),
        (
            json!({"opt_out_keywords": {"en": ["x".repeat(41)]}}),
            "opt_out_keywords.en",
        ),
        (json!({"keyword_scope": "sms"}), "keyword_scope"),
        (json!({"surprise": true}), "surprise"),
    ] {
        let (status, refused) = stack
            .admin(Method::PUT, &settings_path, Some(&key), Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad}: {refused}");
        assert!(
            refused["error"]["field"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{bad}: {refused}"
        );
    }
    let (_, after) = stack
        .admin(Method::GET, &settings_path, Some(&key), None)
        .await;
    assert_eq!(after, defaults);
}

#[tokio::test]
async fn opt_outs_a_tenant_cannot_switch_off_nor_lift_without_the_persons_new_consent() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let admin = tenant.api_key(&stack, Role::Admin).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let t = tenant.id.as_str();
    let settings = format!("/admin/v1/tenants/{t}/consent");

    // A tenant may add stop words, never take the baseline away; an opt-in word may not
    // be an ordinary reply.
    let (status, body) = stack
        .admin(
            Method::PUT,
            &settings,
            Some(&admin),
            Some(json!({"opt_out_keywords": {"en": ["zzqx"]}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for word in ["ok", "Yes", "hola", "1"] {
        let (status, body) = stack
            .admin(
                Method::PUT,
                &settings,
                Some(&admin),
                Some(json!({"opt_in_keywords": {"en": [word]}})),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (422, Some("common_word")),
            "{word}: {body}"
        );
    }
    let (_, kept) = stack
        .admin(Method::GET, &settings, Some(&admin), None)
        .await;
    assert_eq!(kept["opt_out_keywords"]["en"], json!(["zzqx"]), "{kept}");
    assert_eq!(kept["opt_in_keywords"], json!({}), "{kept}");

    // The person stops.
    let phone = user();
    tenant.user_writes(&stack, &phone, "STOP").await;
    let stopped = contact_when(&stack, &manager, &phone, "the opt-out", |c| {
        c["opted_out_of_all"] == true
    })
    .await;
    let contact_id = stopped["contact_id"].as_str().unwrap().to_owned();
    let record = |body: Value| {
        let (stack, manager, path) = (
            &stack,
            &manager,
            format!("/v1/contacts/{contact_id}/consent"),
        );
        async move {
            stack
                .api(Method::POST, &path, Some(manager), Some(body), &[])
                .await
        }
    };

    // A manager key cannot lift it with its own id as evidence, nor can an import.
    let (status, body) = record(json!({"action": "opt_in", "scope": "all"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("persons_opt_out")),
        "{body}"
    );
    let (status, body) =
        record(json!({"action": "opt_in", "scope": "marketing", "source": "import"})).await;
    assert_eq!(status, 409, "{body}");
    let (status, report) = import_csv(
        &stack,
        &manager,
        &format!("phone,consent.all\n+{phone},opt_in\n"),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["rejected"][0]["field"], "consent.all", "{report}");
    let (status, refused) = send(
        &stack,
        &manager,
        template_to(&tenant, &phone, "order_update"),
    )
    .await;
    assert_eq!(status, 409, "still opted out: {refused}");

    // A reference that could hold anything but an id is refused.
    for reference in ["call me at +49 151 1234", "", &"x".repeat(101)] {
        let (status, body) = record(json!({"action": "opt_in", "scope": "all",
            "source": "business", "consent_reference": reference}))
        .await;
        assert_eq!(status, 400, "{reference}: {body}");
    }
    // With a reference to the person's new consent, it is lifted, and recorded as such.
    let (status, body) = record(json!({"action": "opt_in", "scope": "all",
        "source": "business", "consent_reference": "FORM-2026/77"}))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["entries"][0]["source"], "business", "{body}");
    assert!(
        body["entries"][0]["evidence"]
            .as_str()
            .is_some_and(|e| e.ends_with("ref:FORM-2026/77")),
        "{body}"
    );
    assert_eq!(body["all"]["opted_out"], false, "{body}");
    let (status, sent) = send(
        &stack,
        &manager,
        template_to(&tenant, &phone, "order_update"),
    )
    .await;
    assert_eq!(status, 202, "{sent}");

    // What outlives the contact is the person's to lift: once they are erased, the same
    // number is refused again.
    stack
        .person_request_done(t, "erasures", &admin, json!({"phone": format!("+{phone}")}))
        .await;
    let (status, refused) = send(
        &stack,
        &manager,
        template_to(&tenant, &phone, "order_update"),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (409, Some("opted_out")),
        "{refused}"
    );
}

#[tokio::test]
async fn a_stop_through_the_tenants_own_meta_app_is_marked_so_in_the_ledger() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let (own, platform) = (user(), user());
    // One person's STOP through the tenant's own app, another's through the platform's.
    let through_own = tenant.text_from(&own, &wagate_tests::wamid_of(&own), now(), "STOP");
    let signature = wagate_tests::sign(&tenant.app_secret, through_own.as_bytes());
    let (status, answer) = stack
        .post(
            &stack.tenant_webhook_url(tenant.id.as_str()),
            through_own.into_bytes(),
            &[("x-hub-signature-256", &signature)],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let through_platform =
        tenant.text_from(&platform, &wagate_tests::wamid_of(&platform), now(), "STOP");
    assert_eq!(stack.post_signed(&through_platform).await.0, 200);
    for (phone, via) in [(&own, json!("tenant_app")), (&platform, Value::Null)] {
        let contact = contact_when(&stack, &manager, phone, "the opt-out", |c| {
            c["opted_out_of_all"] == true
        })
        .await;
        let view = ledger(&stack, &manager, contact["contact_id"].as_str().unwrap()).await;
        assert_eq!(view["entries"][0]["via"], via, "{view}");
    }
}

#[tokio::test]
async fn a_stop_after_the_business_opted_them_out_is_theirs_and_no_plain_opt_in_lifts_it() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    tenant.register_at_sim(&stack, json!({})).await;
    let manager = tenant.api_key(&stack, Role::Manager).await;
    let phone = user();
    tenant.user_writes(&stack, &phone, "Hello").await;
    let contact_id = contact(&stack, &manager, &phone).await["contact_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/contacts/{contact_id}/consent");
    let record = |body: Value| {
        let (stack, manager, path) = (&stack, &manager, &path);
        async move {
            stack
                .api(Method::POST, path, Some(manager), Some(body), &[])
                .await
        }
    };
    // The business's CRM opts them out first, dated a little ahead (clocks differ): it is
    // taken as now, so it cannot outrank what the person says next.
    let (status, body) =
        record(json!({"action": "opt_out", "scope": "all", "at": now() + 200})).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["all"]["at"].as_i64() <= Some(now()), "{body}");
    // The person's STOP changes no state, but makes the opt-out theirs.
    tenant.user_writes(&stack, &phone, "STOP").await;
    eventually(WAIT, "the opt-out to be the person's", || async {
        let (_, consent) = stack
            .api(Method::GET, &path, Some(&manager), None, &[])
            .await;
        (consent["all"]["source"] == "keyword").then_some(())
    })
    .await;
    // So the business lifts it only with a reference to their new consent.
    for source in ["api", "import"] {
        let (status, body) =
            record(json!({"action": "opt_in", "scope": "all", "source": source})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (409, Some("persons_opt_out")),
            "{source}: {body}"
        );
    }
    let (status, body) = record(json!({"action": "opt_in", "scope": "all",
        "source": "business", "consent_reference": "FORM-2026/78"}))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["all"]["opted_out"], false, "{body}");
}
