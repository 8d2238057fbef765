//! Account-level events: templates, the account, phone numbers and users' marketing
//! preferences. Routed by WABA (or phone number), applied to tenant state.

use serde_json::Value;

use super::timestamp::parse_seconds;

#[derive(Debug, Clone, PartialEq)]
pub enum ManagementEvent {
    TemplateStatus {
        template: TemplateRef,
        status: String,
        reason: Option<String>,
    },
    TemplateQuality {
        template: TemplateRef,
        quality: String,
    },
    TemplateCategory {
        template: TemplateRef,
        category: String,
    },
    TemplateComponents {
        template: TemplateRef,
    },
    AccountUpdate {
        event: String,
    },
    PhoneNumberQuality {
        display_phone_number: String,
        event: String,
        current_limit: Option<String>,
    },
    PhoneNumberName {
        display_phone_number: String,
        decision: Option<String>,
    },
    /// A field this version stores but does not act on.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRef {
    pub id: String,
    pub name: Option<String>,
    pub language: Option<String>,
}

/// What a phone_number_quality_update event means for the number's throughput.
pub const THROUGHPUT_UPGRADE_EVENT: &str = "THROUGHPUT_UPGRADE";

/// Reads a whole change value of `field`. A field we know with a value we cannot read
/// becomes `Other`, and is still stored.
pub fn parse_management(field: &str, value: &Value) -> ManagementEvent {
    parse_known(field, value).unwrap_or(ManagementEvent::Other)
}

fn parse_known(field: &str, value: &Value) -> Option<ManagementEvent> {
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let template = || {
        Some(TemplateRef {
            id: id_text(value.get("message_template_id")?)?,
            name: text("message_template_name"),
            language: text("message_template_language"),
        })
    };
    Some(match field {
        "message_template_status_update" => ManagementEvent::TemplateStatus {
            template: template()?,
            status: text("event")?,
            reason: text("reason").filter(|r| r != "NONE"),
        },
        "message_template_quality_update" => ManagementEvent::TemplateQuality {
            template: template()?,
            quality: text("new_quality_score")?,
        },
        "template_category_update" => ManagementEvent::TemplateCategory {
            template: template()?,
            category: text("new_category")?,
        },
        "message_template_components_update" => ManagementEvent::TemplateComponents {
            template: template()?,
        },
        "account_update" => ManagementEvent::AccountUpdate {
            event: text("event")?,
        },
        "phone_number_quality_update" => ManagementEvent::PhoneNumberQuality {
            display_phone_number: text("display_phone_number")?,
            event: text("event")?,
            current_limit: text("current_limit"),
        },
        "phone_number_name_update" => ManagementEvent::PhoneNumberName {
            display_phone_number: text("display_phone_number")?,
            decision: text("decision"),
        },
        _ => return None,
    })
}

/// Template ids arrive as numbers; keep them as text so no precision is ever lost.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A user's marketing choice from `user_preferences[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketingPreference {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub choice: MarketingChoice,
    pub at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketingChoice {
    /// The user stopped marketing messages: suppress them.
    Stop,
    /// The user resumed (or signed up for) marketing messages.
    Resume,
    Other,
}

pub fn parse_marketing_preference(item: &Value) -> Option<MarketingPreference> {
    let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
    if text("category").as_deref() != Some("marketing_messages") {
        return None;
    }
    let choice = match text("value").as_deref() {
        Some("stop") => MarketingChoice::Stop,
        Some("resume" | "signup") => MarketingChoice::Resume,
        _ => MarketingChoice::Other,
    };
    Some(MarketingPreference {
        wa_id: text("wa_id"),
        user_id: text("user_id"),
        choice,
        at: item.get("timestamp").and_then(parse_seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_status_update_names_the_template_and_its_new_status() {
        let e = parse_management(
            "message_template_status_update",
            &json!({"event":"APPROVED","message_template_id":1689556908129832_u64,"message_template_name":"order","message_template_language":"en_US","reason":"NONE"}),
        );
        let ManagementEvent::TemplateStatus {
            template,
            status,
            reason,
        } = e
        else {
            panic!()
        };
        assert_eq!(template.id, "1689556908129832");
        assert_eq!(status, "APPROVED");
        assert_eq!(reason, None);
    }

    #[test]
    fn a_throughput_upgrade_is_read_from_the_quality_update() {
        let e = parse_management(
            "phone_number_quality_update",
            &json!({"display_phone_number":"15550001111","event":"THROUGHPUT_UPGRADE","current_limit":"TIER_UNLIMITED"}),
        );
        assert!(
            matches!(e, ManagementEvent::PhoneNumberQuality { ref event, .. } if event == THROUGHPUT_UPGRADE_EVENT)
        );
    }

    #[test]
    fn unknown_fields_and_unreadable_values_are_other() {
        assert_eq!(
            parse_management("security", &json!({"x":1})),
            ManagementEvent::Other
        );
        assert_eq!(
            parse_management("account_update", &json!([])),
            ManagementEvent::Other
        );
    }

    #[test]
    fn marketing_stop_and_resume_are_told_apart() {
        let stop = parse_marketing_preference(
            &json!({"wa_id":"1","category":"marketing_messages","value":"stop","timestamp":1}),
        )
        .unwrap();
        assert_eq!(stop.choice, MarketingChoice::Stop);
        let resume = parse_marketing_preference(
            &json!({"wa_id":"1","category":"marketing_messages","value":"resume"}),
        )
        .unwrap();
        assert_eq!(resume.choice, MarketingChoice::Resume);
    }
}
