//! A number's daily usage, counted once per event. Each event's count and the mark that
//! it was counted are written in one transaction, the mark only if it is new: a redelivered
//! record finds its mark and counts nothing, and a crash between two writes cannot happen.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | usage of a number on a day (one of `SHARDS`) | `T#<t>#USAGE#<shard>` | `DAY#<yyyy-mm-dd>#PN#<phone number id>` |
//! | an event counted | `T#<t>#SEEN#<digest of the event id>` | `SEEN` |
//!
//! A busy number's day is spread over `SHARDS` items (by the event's digest), so that a
//! thousand messages a second do not all write one item; a read adds them up.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::domain::calendar::Day;
use crate::domain::event_record::{EventRecord, Tally};
use crate::domain::tenant::TenantId;
use crate::store::table::{Transacted, get_i64, get_s, item, n, put_action, s};
use crate::store::{EXPIRES_AT, StoreError};
use crate::usage::DailyUsage;

const SHARDS: usize = 8;
/// Transactions on the same counter cancel each other; the record comes back after these.
const CONFLICT_ATTEMPTS: usize = 8;
/// Marks outlive every redelivery: SQS keeps a message at most 14 days.
const MARK_SECS: i64 = 15 * 86_400;
/// Usage is kept for a year and a month, for a year's comparison.
const USAGE_SECS: i64 = 400 * 86_400;

crate::store::repository! {
    /// The daily usage of the tenants' numbers.
    UsageStore
}

/// What applying an event came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Counted,
    /// Counted before (a redelivery).
    Already,
}

fn usage_pk(tenant: &str, shard: usize) -> String {
    format!("T#{tenant}#USAGE#{shard}")
}

fn day_sk(day: Day, number: &str) -> String {
    format!("DAY#{day}#PN#{number}")
}

/// The counter an event adds to.
fn counter(what: Tally) -> &'static str {
    match what {
        Tally::MessageReceived => "received",
        Tally::MessageSent => "sent",
        Tally::MessageFailed { refused: false } => "failed",
        Tally::MessageFailed { refused: true } => "refused",
        Tally::ConversationOpened { by_person: true } => "opened_by_person",
        Tally::ConversationOpened { by_person: false } => "opened_by_business",
    }
}

impl UsageStore {
    /// Counts `record` unless it was counted before.
    pub async fn count_once(&self, record: &EventRecord, now: i64) -> Result<Counted, StoreError> {
        let digest = Sha256::digest(record.id.as_bytes());
        let tenant = record.tenant_id.as_str();
        let mark = item([
            (
                "pk",
                s(format!("T#{tenant}#SEEN#{}", hex::encode(&digest[..16]))),
            ),
            ("sk", s("SEEN")),
            (EXPIRES_AT, n(now + MARK_SECS)),
        ]);
        let shard = usize::from(digest[16]) % SHARDS;
        let day = Day::of_seconds(record.at);
        let count = self
            .update(
                "UpdateItem usage",
                usage_pk(tenant, shard),
                day_sk(day, &record.phone_number_id),
            )
            .add(counter(record.what), n(1))
            .set("day", s(day.to_string()))
            .set("phone_number_id", s(&record.phone_number_id))
            .set(EXPIRES_AT, n(record.at + USAGE_SECS))
            .into_action()?;
        let actions = vec![
            put_action(self.table_name(), mark, "attribute_not_exists(pk)", &[])?,
            count,
        ];
        for _ in 0..CONFLICT_ATTEMPTS {
            match self
                .transact("TransactWriteItems usage", actions.clone())
                .await?
            {
                Transacted::Written => return Ok(Counted::Counted),
                Transacted::Cancelled { failed_conditions }
                    if failed_conditions.first() == Some(&true) =>
                {
                    return Ok(Counted::Already);
                }
                // Another transaction on the same counter: this one wrote nothing; again.
                Transacted::Cancelled { .. } => {}
            }
        }
        Err(StoreError::Contended("TransactWriteItems usage"))
    }

    /// The tenant's usage from `from` to `to` (both counted), by day and number, oldest
    /// first; only `number`'s when given.
    pub async fn daily_usage(
        &self,
        tenant: &TenantId,
        number: Option<&str>,
        (from, to): (Day, Day),
    ) -> Result<Vec<DailyUsage>, StoreError> {
        let mut days: BTreeMap<(String, String), DailyUsage> = BTreeMap::new();
        for shard in 0..SHARDS {
            let mut query = self
                .query("Query usage", "pk = :pk AND sk BETWEEN :from AND :to")
                .value(":pk", s(usage_pk(tenant.as_str(), shard)))
                .value(":from", s(format!("DAY#{from}")))
                .value(":to", s(format!("DAY#{to}#~")));
            if let Some(number) = number {
                query = query
                    .filter("phone_number_id = :num")
                    .value(":num", s(number));
            }
            for it in query.all().await? {
                let (Some(day), Some(number)) = (get_s(&it, "day"), get_s(&it, "phone_number_id"))
                else {
                    continue;
                };
                let usage = days
                    .entry((day.to_owned(), number.to_owned()))
                    .or_insert_with(|| DailyUsage::new(day, number));
                let count = |name: &str| get_i64(&it, name).unwrap_or(0).max(0) as u64;
                usage.received += count("received");
                usage.sent += count("sent");
                usage.failed += count("failed");
                usage.refused += count("refused");
                usage.opened_by_person += count("opened_by_person");
                usage.opened_by_business += count("opened_by_business");
            }
        }
        Ok(days.into_values().collect())
    }
}
