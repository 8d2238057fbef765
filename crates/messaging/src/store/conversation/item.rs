//! The conversation item's attributes: its cycle and stage, its version, its activity
//! and its place in the `conversations-by-activity` index. Nothing else reads them.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::conversation::activity::{Activity, ConversationState};
use crate::domain::conversation::cycle::{Conversation, Stage};
use crate::domain::retention::{DataClass, Retention};
use crate::domain::tenant::TenantId;
use crate::store::EXPIRES_AT;
use crate::store::item_life::Ageing;
use crate::store::keys::{contact_pk, conversation_activity_keys, conversation_sk};
use crate::store::table::{Item, get_i64, get_s, n, s};

pub const CONVERSATION_INDEX: &str = "conversations-by-activity";

/// The stage's owner or queue, by stage: a flow, a queue or an agent.
const OWNER: &str = "owner_id";
/// The queue an assigned conversation came from.
const FROM_QUEUE: &str = "from_queue_id";

/// The whole item of a conversation first written.
pub(crate) fn state_item(tenant: &TenantId, state: &ConversationState, expires_at: i64) -> Item {
    let c = &state.conversation;
    let mut it = Item::from([
        (
            "pk".to_owned(),
            s(contact_pk(tenant.as_str(), &c.contact_id)),
        ),
        ("sk".to_owned(), s(conversation_sk(&c.phone_number_id))),
        ("contact_id".to_owned(), s(&c.contact_id)),
        ("phone_number_id".to_owned(), s(&c.phone_number_id)),
        (EXPIRES_AT.to_owned(), n(expires_at)),
    ]);
    for (attribute, value) in stage_sets(c) {
        if let Some(value) = value {
            it.insert(attribute.to_owned(), value);
        }
    }
    let a = &state.activity;
    let at = a.last_activity_at().unwrap_or(c.opened_at);
    for (attribute, value) in activity_keys(tenant, &c.contact_id, a, at) {
        it.insert(attribute.to_owned(), value);
    }
    for (attribute, value) in [
        ("last_inbound_at", a.last_inbound_at),
        ("last_outbound_at", a.last_outbound_at),
        ("last_read_at", a.last_read_at),
    ] {
        if let Some(value) = value {
            it.insert(attribute.to_owned(), n(value));
        }
    }
    it
}

/// The attributes a move writes (`None`: removed).
pub(crate) fn stage_sets(c: &Conversation) -> Vec<(&'static str, Option<AttributeValue>)> {
    let (owner, from_queue) = match &c.stage {
        Stage::Open | Stage::Resolved => (None, None),
        Stage::WithBot { flow_id } => (Some(flow_id), None),
        Stage::Queued { queue_id } => (Some(queue_id), None),
        Stage::Assigned { agent_id, queue_id } => (Some(agent_id), queue_id.as_ref()),
    };
    vec![
        ("cycle", Some(n(c.cycle))),
        ("stage", Some(s(c.stage.name()))),
        (OWNER, owner.map(s)),
        (FROM_QUEUE, from_queue.map(s)),
        ("opened_at", Some(n(c.opened_at))),
        ("stage_at", Some(n(c.stage_at))),
        ("version", Some(n(c.version))),
    ]
}

/// The index keys for a latest activity of at least `at`. A write sets them with the
/// one time its message moved, never the other side's as it was read, so two writers
/// (the person's message, the business's reply) never undo each other's times.
pub(crate) fn activity_keys(
    tenant: &TenantId,
    contact_id: &str,
    activity: &Activity,
    at: i64,
) -> [(&'static str, AttributeValue); 2] {
    let latest = activity.last_activity_at().unwrap_or(at).max(at);
    let (pk, sk) = conversation_activity_keys(tenant.as_str(), contact_id, latest);
    [("activity_pk", s(pk)), ("activity_sk", s(sk))]
}

/// The conversation an item holds; `None` when it is not one.
pub(crate) fn state_from_item(it: &Item) -> Option<ConversationState> {
    let number = |name: &str| get_i64(it, name);
    let owner = || get_s(it, OWNER).map(str::to_owned);
    let stage = match get_s(it, "stage")? {
        "open" => Stage::Open,
        "resolved" => Stage::Resolved,
        "bot" => Stage::WithBot { flow_id: owner()? },
        "queued" => Stage::Queued { queue_id: owner()? },
        "assigned" => Stage::Assigned {
            agent_id: owner()?,
            queue_id: get_s(it, FROM_QUEUE).map(str::to_owned),
        },
        _ => return None,
    };
    Some(ConversationState {
        conversation: Conversation {
            contact_id: get_s(it, "contact_id")?.to_owned(),
            phone_number_id: get_s(it, "phone_number_id")?.to_owned(),
            cycle: u32::try_from(number("cycle")?).ok()?,
            stage,
            opened_at: number("opened_at")?,
            stage_at: number("stage_at")?,
            version: u64::try_from(number("version")?).ok()?,
        },
        activity: Activity {
            last_inbound_at: number("last_inbound_at"),
            last_outbound_at: number("last_outbound_at"),
            last_read_at: number("last_read_at"),
        },
    })
}

/// A conversation's life under a shorter retention: the profile's class, from its latest
/// message either way (as the profile's, so it does not outlive the profile: an agent's
/// move, a resolve days later, lengthens nothing). One with no message dates from its
/// opening.
pub fn ageing(it: &Item, retention: &Retention) -> Option<Ageing> {
    let base = ["opened_at", "last_inbound_at", "last_outbound_at"]
        .iter()
        .filter_map(|a| get_i64(it, a))
        .max()?;
    let stored = get_i64(it, EXPIRES_AT)?;
    Ageing::end(retention.shortened_end(DataClass::ContactProfile, base, stored))
}

/// The profile attributes that held a contact's conversation before conversations were
/// items (`conversation-index` keys, the number, the read mark).
pub const PROFILE_CONVERSATION_ATTRIBUTES: [&str; 4] =
    ["conv_pk", "conv_sk", "last_number", "last_read_at"];

/// The conversation a profile written before conversations were items held: on the
/// number it last showed, opened at its first recorded activity.
pub(crate) fn state_from_old_profile(
    contact_id: &str,
    profile: &Item,
) -> Option<ConversationState> {
    let number = get_s(profile, "last_number")?;
    let activity = Activity {
        last_inbound_at: get_i64(profile, "last_inbound_at"),
        last_outbound_at: get_i64(profile, "last_outbound_at"),
        last_read_at: get_i64(profile, "last_read_at"),
    };
    let opened_at = [activity.last_inbound_at, activity.last_outbound_at]
        .into_iter()
        .flatten()
        .min()?;
    Some(ConversationState {
        conversation: Conversation::opened(contact_id, number, opened_at),
        activity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_reads_back_as_written() {
        let tenant = TenantId::parse("acme").unwrap();
        let base = Conversation::opened("c1", "106540352242922", 100);
        let stages = [
            Stage::Open,
            Stage::WithBot {
                flow_id: "f1".into(),
            },
            Stage::Queued {
                queue_id: "q1".into(),
            },
            Stage::Assigned {
                agent_id: "a1".into(),
                queue_id: Some("q1".into()),
            },
            Stage::Assigned {
                agent_id: "a1".into(),
                queue_id: None,
            },
            Stage::Resolved,
        ];
        for stage in stages {
            let state = ConversationState {
                conversation: Conversation {
                    stage,
                    version: 7,
                    cycle: 3,
                    ..base.clone()
                },
                activity: Activity {
                    last_inbound_at: Some(100),
                    last_outbound_at: Some(160),
                    last_read_at: Some(100),
                },
            };
            let it = state_item(&tenant, &state, 9_999);
            assert_eq!(state_from_item(&it), Some(state));
            assert_eq!(get_s(&it, "activity_sk"), Some("0000000160#c1"));
        }
    }
}
