//! What the listing shows of a conversation's contact, kept on the conversation item so
//! that a page of conversations is one query (not one more read per row): the phone, BSUID
//! and profile name sealed for the profile's own place, so they open as the profile's do
//! and die with the person's key, and whether the person opted out of marketing. The
//! writer that makes a conversation gives it the card of the contact it just read; after
//! that only `ConversationStore::refresh_cards` writes it, from the profile read strongly
//! after each change of what it shows, so a slower writer never puts back an older card.
//! An item written before cards has none, and the listing reads its profile instead.
//!
//! The one place a sealed value opens on another item than the one it is bound to: it is
//! the same field of the same person, in the same partition, so the binding still keeps
//! it from opening as anything else or for anyone else.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::contact::{ContactCard, ContactProfile};
use crate::domain::tenant::TenantId;
use crate::privacy::cipher::DataKey;
use crate::store::contact::seal_on_profile;
use crate::store::keys::PROFILE_SK;
use crate::store::table::{Item, Update, bool_attr, get_bool, get_s, n, unsealed_copy};

/// The sealed copies, by the profile attribute each copies.
const SEALED: [&str; 3] = ["phone", "bsuid", "profile_name"];
/// Not the profile's `marketing_opt_out` (that scope alone): opted out of marketing by
/// either scope, as the listing shows it.
const MARKETING_OPT_OUT: &str = "card_marketing_opt_out";
/// Set on an item that carries a card.
const HAS_CARD: &str = "card";
/// On the profile, how many changes of what the cards show it has had; on a card, which
/// of them it shows (none: as its conversation's maker read the profile). A refresh writes
/// a card only forward, so two refreshes that cross keep the later change.
pub(crate) const CARD_REVISION: &str = "card_rev";

/// Counts a change of what the cards show, on the profile's update that makes it.
pub(crate) fn next_card_revision(update: Update<'_>) -> Update<'_> {
    update.add(CARD_REVISION, n(1))
}

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

/// Whether `it` carries a card (items written before cards do not).
pub(crate) fn has_card(it: &Item) -> bool {
    get_bool(it, HAS_CARD) == Some(true)
}

/// The card `it` carries, opened with `key` (its sealed fields read as absent without
/// it, as an erased person's do); `None` when the item was written before cards.
pub(crate) fn card_from_item(it: &Item, key: Option<&DataKey>) -> Option<ContactCard> {
    if !has_card(it) {
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
