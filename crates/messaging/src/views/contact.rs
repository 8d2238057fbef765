//! A contact as the business API shows it, and as a person's export holds it.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::consent::Scope;
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
    /// The person stopped marketing messages (themselves, in WhatsApp, or recorded by the
    /// business); an opt-out of all messages covers marketing too.
    pub marketing_opt_out: bool,
    /// The person opted out of every message the business sends
    /// (`GET /v1/contacts/{id}/consent` has the history).
    pub opted_out_of_all: bool,
    /// Set while the person's processing is restricted: nothing is sent to them and no
    /// callback about them is delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted: Option<RestrictionView>,
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
            marketing_opt_out: c.consent.marketing_opt_out(),
            opted_out_of_all: c.consent.mark(Scope::All).is_some_and(|m| m.opted_out),
            restricted: c.restriction.map(|r| RestrictionView {
                since: r.since,
                keep_inbound: r.keep_inbound,
            }),
            last_inbound_at: c.last_inbound_at,
            last_outbound_at: c.last_outbound_at,
        }
    }
}

/// A restriction of processing, as the contact shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestrictionView {
    /// Since when, epoch seconds.
    pub since: i64,
    /// Whether what the person writes meanwhile is stored.
    pub keep_inbound: bool,
}
