//! A contact as the business API shows it, and as a person's export holds it.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::contact::ContactProfile;

/// A contact: who the person is to the tenant, as WhatsApp and the business know them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub contact_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsuid: Option<String>,
    /// The name the user set in WhatsApp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The name the business gave the contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub marketing_opt_out: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_inbound_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outbound_at: Option<i64>,
}

impl From<ContactProfile> for ContactView {
    fn from(c: ContactProfile) -> Self {
        Self {
            contact_id: c.contact_id,
            phone: c.phone,
            bsuid: c.bsuid,
            profile_name: c.profile_name,
            username: c.username,
            name: c.details.name,
            email: c.details.email,
            attributes: c.details.attributes,
            marketing_opt_out: c.marketing_opt_out,
            last_inbound_at: c.last_inbound_at,
            last_outbound_at: c.last_outbound_at,
        }
    }
}
