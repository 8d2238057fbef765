//! What the listing shows of a conversation's contact, kept on the conversation item so
//! that a page of conversations is one query (not one more read per row): the phone, BSUID
//! and profile name sealed for the profile's own place, so they open as the profile's do
//! and die with the person's key, and whether the person opted out of marketing. Every
//! write of the conversation carries the card as its writer read the profile; a change of
//! the profile's copy refreshes the cards of all the contact's conversations
//! (`ConversationStore::refresh_cards`). An item written before cards has none, and the
//! listing reads its profile instead.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::contact::{ContactCard, ContactProfile};
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::contact::seal_on_profile;
use crate::store::keys::PROFILE_SK;
use crate::store::table::{Item, bool_attr, get_bool, get_s, unsealed_copy};

/// The sealed copies, by the profile attribute each copies.
const SEALED: [&str; 3] = ["phone", "bsuid", "profile_name"];
const MARKETING_OPT_OUT: &str = "marketing_opt_out";
/// Set on an item that carries a card.
const HAS_CARD: &str = "card";

/// The card's attributes for `profile` (`None`: removed), sealed under `key`.
pub(crate) fn card_sets(
    key: &DataKey,
    tenant: &TenantId,
    profile: &ContactProfile,
) -> Vec<(&'static str, Option<AttributeValue>)> {
    let seal = |attribute: &str, text: &Option<String>| {
        text.as_deref()
            .map(|text| seal_on_profile(key, tenant, &profile.contact_id, attribute, text))
    };
    let [phone, bsuid, name] = SEALED;
    vec![
        (phone, seal(phone, &profile.phone)),
        (bsuid, seal(bsuid, &profile.bsuid)),
        (name, seal(name, &profile.profile_name)),
        (
            MARKETING_OPT_OUT,
            Some(bool_attr(profile.consent.marketing_opt_out())),
        ),
        (HAS_CARD, Some(bool_attr(true))),
    ]
}

/// A change of the profile that the cards of its conversations follow.
#[derive(Debug, Clone, Copy)]
pub enum CardChange<'a> {
    /// One of the sealed fields (`phone`, `bsuid`, `profile_name`) now reads this.
    Sealed(&'static str, &'a str),
    /// The person's marketing opt-out as it now stands.
    MarketingOptOut(bool),
}

impl CardChange<'_> {
    /// The attribute and value this change writes; `key` seals a sealed field.
    pub(crate) fn set(
        &self,
        key: Option<&DataKey>,
        tenant: &TenantId,
        contact_id: &str,
    ) -> Option<(&'static str, AttributeValue)> {
        match *self {
            Self::Sealed(attribute, text) => Some((
                attribute,
                seal_on_profile(key?, tenant, contact_id, attribute, text),
            )),
            Self::MarketingOptOut(opted_out) => Some((MARKETING_OPT_OUT, bool_attr(opted_out))),
        }
    }
}

/// The card `it` carries, opened with `key` (its sealed fields read as absent without
/// it, as an erased person's do); `None` when the item was written before cards.
pub(crate) fn card_from_item(it: &Item, key: Option<&DataKey>) -> Option<ContactCard> {
    if get_bool(it, HAS_CARD) != Some(true) {
        return None;
    }
    let open = |attribute: &str| unsealed_copy(key, it, PROFILE_SK, attribute);
    Some(ContactCard {
        contact_id: get_s(it, "contact_id")?.to_owned(),
        phone: open("phone"),
        bsuid: open("bsuid"),
        profile_name: open("profile_name"),
        marketing_opt_out: get_bool(it, MARKETING_OPT_OUT).unwrap_or(false),
    })
}
