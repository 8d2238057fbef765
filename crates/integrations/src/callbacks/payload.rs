//! What a callback's `data` holds for each event type: the public contract with the
//! tenants' receivers, built from these types only and published with them as JSON
//! schemas in the business API's OpenAPI document (`CallbackEvent`, `CallbackData` and
//! the data types under `components.schemas` of `openapi/api.json`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::event_type::EventType;

/// `message.received`: a user wrote to one of the tenant's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageReceivedData {
    /// The contact the message is stored under.
    pub contact_id: String,
    /// The tenant's number the user wrote to.
    pub phone_number_id: Option<String>,
    /// The user's phone number as Meta gave it (digits), when it did.
    pub from: Option<String>,
    /// The user's business-scoped user id (BSUID), when Meta gave one.
    pub from_user_id: Option<String>,
    /// The name on the user's WhatsApp profile.
    pub profile_name: Option<String>,
    /// Meta's message object, exactly as Meta sent it.
    #[schema(value_type = Object)]
    pub message: Value,
}

/// `message.status`: Meta reported on a message the tenant sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageStatusData {
    pub contact_id: String,
    pub phone_number_id: Option<String>,
    /// Older than what the message had already reached: kept in its history only.
    pub late: bool,
    /// Meta's status object, exactly as Meta sent it.
    #[schema(value_type = Object)]
    pub status: Value,
}

/// `contact.marketing_preference`: a user stopped or resumed marketing messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MarketingPreferenceData {
    pub contact_id: String,
    pub marketing_opt_out: bool,
    /// When the user chose, epoch seconds.
    pub at: i64,
}

/// `template.update` and `account.update`: a change Meta reported for the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccountChangeData {
    /// Meta's webhook field, such as `message_template_status_update`.
    pub field: String,
    pub waba_id: String,
    /// Meta's change value, exactly as Meta sent it.
    #[schema(value_type = Object)]
    pub value: Value,
}

/// The `data` of a callback event; which one the event's `type` says.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CallbackData {
    MessageReceived(MessageReceivedData),
    MessageStatus(MessageStatusData),
    MarketingPreference(MarketingPreferenceData),
    TemplateUpdate(AccountChangeData),
    AccountUpdate(AccountChangeData),
}

impl CallbackData {
    pub fn event_type(&self) -> EventType {
        match self {
            Self::MessageReceived(_) => EventType::MessageReceived,
            Self::MessageStatus(_) => EventType::MessageStatus,
            Self::MarketingPreference(_) => EventType::MarketingPreference,
            Self::TemplateUpdate(_) => EventType::TemplateUpdate,
            Self::AccountUpdate(_) => EventType::AccountUpdate,
        }
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("callback data always serialises")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn data_serialises_flat_with_absent_fields_as_null() {
        let data = CallbackData::MessageReceived(MessageReceivedData {
            contact_id: "c_1".into(),
            phone_number_id: Some("106540352242922".into()),
            from: Some("4915112345678".into()),
            from_user_id: None,
            profile_name: None,
            message: json!({"id": "wamid.A", "type": "text"}),
        });
        assert_eq!(data.event_type(), EventType::MessageReceived);
        assert_eq!(
            data.to_value(),
            json!({"contact_id": "c_1", "phone_number_id": "106540352242922",
                   "from": "4915112345678", "from_user_id": null, "profile_name": null,
                   "message": {"id": "wamid.A", "type": "text"}})
        );
    }
}
