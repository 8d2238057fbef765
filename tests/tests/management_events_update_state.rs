//! Management events are stored as tenant events and update the state they name: template
//! status, quality and category; a number's throughput; a user's marketing opt-out.

use std::time::Duration;
use wagate_messaging::store::ContactStore;
use wagate_messaging::store::NumberStore;
use wagate_messaging::store::TemplateStore;
use wagate_messaging::store::number::NumberRecords;

use wagate_messaging::domain::tenant::UPGRADED_THROUGHPUT;
use wagate_tests::{Stack, TestTenant, eventually, now, with_sk_prefix};

#[tokio::test]
async fn template_updates_set_status_quality_and_category_and_an_older_event_changes_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let t = now();
    let template = serde_json::json!({"message_template_id": 1689556908129832_u64, "message_template_name": "order_update", "message_template_language": "en_US"});
    let with = |extra: serde_json::Value| {
        let mut value = template.clone();
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        value
    };
    let post = |field: &str, value: serde_json::Value, time: i64| {
        let mut body: serde_json::Value =
            serde_json::from_str(&tenant.delivery(field, value)).unwrap();
        body["entry"][0]["time"] = time.into();
        body.to_string()
    };
    let approved = post(
        "message_template_status_update",
        with(serde_json::json!({"event": "APPROVED", "reason": "NONE"})),
        t,
    );
    let paused_later = post(
        "message_template_status_update",
        with(serde_json::json!({"event": "PAUSED"})),
        t + 10,
    );
    let quality = post(
        "message_template_quality_update",
        with(serde_json::json!({"previous_quality_score": "GREEN", "new_quality_score": "YELLOW"})),
        t,
    );
    let category = post(
        "template_category_update",
        with(serde_json::json!({"new_category": "MARKETING"})),
        t,
    );
    for body in [&paused_later, &approved, &quality, &category] {
        assert_eq!(stack.post_signed(body).await.0, 200);
    }
    let state = eventually(Duration::from_secs(30), "the template's state", || async {
        let state = stack
            .store
            .repo::<TemplateStore>()
            .template_state(&tenant.id, "1689556908129832")
            .await
            .unwrap()?;
        (state.quality.is_some() && state.category.is_some() && state.status.is_some())
            .then_some(state)
    })
    .await;
    // The older APPROVED arrived after PAUSED and must not undo it.
    eventually(
        Duration::from_secs(30),
        "all four events stored",
        || async {
            let items = stack.tenant_items(tenant.id.as_str()).await;
            (with_sk_prefix(&items, "EV#").len() == 4).then_some(())
        },
    )
    .await;
    let state = stack
        .store
        .repo::<TemplateStore>()
        .template_state(&tenant.id, "1689556908129832")
        .await
        .unwrap()
        .unwrap_or(state);
    assert_eq!(state.status.as_deref(), Some("PAUSED"));
    assert_eq!(state.quality.as_deref(), Some("YELLOW"));
    assert_eq!(state.category.as_deref(), Some("MARKETING"));
}

#[tokio::test]
async fn a_throughput_upgrade_raises_the_numbers_recorded_throughput() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let body = tenant.delivery(
        "phone_number_quality_update",
        serde_json::json!({"display_phone_number": tenant.display_phone_number, "event": "THROUGHPUT_UPGRADE", "current_limit": "TIER_UNLIMITED"}),
    );
    assert_eq!(stack.post_signed(&body).await.0, 200);
    eventually(
        Duration::from_secs(30),
        "the upgraded throughput",
        || async {
            let numbers = stack
                .store
                .repo::<NumberStore>()
                .phone_numbers_of(&tenant.id)
                .await
                .unwrap();
            (numbers[0].throughput_per_second == UPGRADED_THROUGHPUT).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_quality_update_is_shown_with_the_number_and_an_older_one_changes_nothing() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let update = |event: &str, limit: &str, time: i64| {
        serde_json::json!({"object": "whatsapp_business_account", "entry": [{
            "id": tenant.waba_id, "time": time, "changes": [{
                "field": "phone_number_quality_update",
                "value": {"display_phone_number": tenant.display_phone_number,
                          "event": event, "current_limit": limit}}]}]})
        .to_string()
    };
    let now = wagate_tests::now();
    assert_eq!(
        stack
            .post_signed(&update("FLAGGED", "TIER_1K", now))
            .await
            .0,
        200
    );
    // Sent earlier, arriving later: Meta does not keep order.
    assert_eq!(
        stack
            .post_signed(&update("UPGRADE", "TIER_10K", now - 60))
            .await
            .0,
        200
    );
    let quality = eventually(Duration::from_secs(30), "the number's quality", || async {
        let numbers = stack
            .store
            .repo::<NumberStore>()
            .phone_numbers_of(&tenant.id)
            .await
            .unwrap();
        numbers[0].quality.clone()
    })
    .await;
    assert_eq!(quality.event, "FLAGGED");
    assert_eq!(quality.messaging_limit.as_deref(), Some("TIER_1K"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let numbers = stack
        .store
        .repo::<NumberStore>()
        .phone_numbers_of(&tenant.id)
        .await
        .unwrap();
    assert_eq!(
        numbers[0].quality.as_ref().unwrap().event,
        "FLAGGED",
        "the older event lost"
    );
    // The admin API lists it with the number.
    let path = format!("/admin/v1/tenants/{}/numbers", tenant.id);
    let (status, listed) = stack
        .admin(reqwest::Method::GET, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["numbers"][0]["quality"]["event"], "FLAGGED");
    assert_eq!(
        listed["numbers"][0]["quality"]["messaging_limit"],
        "TIER_1K"
    );
}

#[tokio::test]
async fn marketing_stop_and_resume_set_the_users_opt_out_and_a_late_older_choice_is_ignored() {
    let stack = Stack::connect().await;
    let tenant = TestTenant::create(&stack).await;
    let user = "4915112345020";
    let preference = |value: &str, at: i64| {
        tenant.delivery(
            "user_preferences",
            serde_json::json!({"messaging_product": "whatsapp", "metadata": tenant.metadata(),
                "contacts": [{"profile": {"name": "Pat"}, "wa_id": user}],
                "user_preferences": [{"wa_id": user, "detail": "User requested", "category": "marketing_messages", "value": value, "timestamp": at}]}),
        )
    };
    let opt_out = || async {
        let contact_id = stack.contact_of(&tenant.id, user).await?;
        let profile = stack
            .store
            .repo::<ContactStore>()
            .get_contact(&tenant.id, &contact_id, now())
            .await
            .unwrap()?;
        Some(profile.consent.marketing_opt_out())
    };
    let t = now();
    assert_eq!(stack.post_signed(&preference("stop", t)).await.0, 200);
    eventually(Duration::from_secs(30), "the opt-out", || async {
        opt_out().await.filter(|o| *o)
    })
    .await;
    assert_eq!(stack.post_signed(&preference("resume", t + 5)).await.0, 200);
    eventually(Duration::from_secs(30), "the resume", || async {
        opt_out().await.filter(|o| !*o)
    })
    .await;
    assert_eq!(stack.post_signed(&preference("stop", t - 100)).await.0, 200);
    eventually(Duration::from_secs(30), "the late stop stored", || async {
        let items = stack.tenant_items(tenant.id.as_str()).await;
        (with_sk_prefix(&items, "EV#").len() == 3).then_some(())
    })
    .await;
    assert_eq!(
        opt_out().await,
        Some(false),
        "an older stop does not override a newer resume"
    );
}
