//! A number's daily usage, counted once per event. Each event's count and the mark that
//! it was counted are written in one transaction, the mark only if it is new: a redelivered
//! record finds its mark and counts nothing, and a crash between two writes cannot happen.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | usage of a number on a day (one of `SHARDS`) | `T#<t>#USAGE#<shard>` | `DAY#<yyyy-mm-dd>#PN#<phone number id>` |
//! | an event counted | `T#<t>#SEEN#<digest of the event id>` | `SEEN` |
//!
//! A busy number's day is spread over `SHARDS` items (one at random per transaction), so
//! that a thousand messages a second do not all write one item; a read adds them up.

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
/// Marks outlive every redelivery: SQS keeps a message at most 14 days, and a record
/// moved back from the dead-letter queue starts its 14 days again.
const MARK_SECS: i64 = 30 * 86_400;
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

/// Marks and counters in one transaction: DynamoDB takes at most 100 items.
const RECORDS_PER_TRANSACTION: usize = 40;

/// What a batch's records add to one counter item: by (tenant, number, day).
type Sums<'r> = BTreeMap<(&'r str, &'r str, Day), BTreeMap<&'static str, u64>>;

fn mark_item(record: &EventRecord, now: i64) -> crate::store::table::Item {
    let digest = Sha256::digest(record.id.as_bytes());
    item([
        (
            "pk",
            s(format!(
                "T#{}#SEEN#{}",
                record.tenant_id,
                hex::encode(&digest[..16])
            )),
        ),
        ("sk", s("SEEN")),
        (EXPIRES_AT, n(now + MARK_SECS)),
    ])
}

impl UsageStore {
    /// Counts `record` unless it was counted before.
    pub async fn count_once(&self, record: &EventRecord, now: i64) -> Result<Counted, StoreError> {
        let counted = self.count_batch(std::slice::from_ref(record), now).await?;
        Ok(counted[0])
    }

    /// Counts each of `records` unless it was counted before (by an earlier delivery, or
    /// earlier in the same batch): what became of each, in order. A batch costs one
    /// transaction per forty records (their marks and the counters they add to), not one
    /// per record.
    pub async fn count_batch(
        &self,
        records: &[EventRecord],
        now: i64,
    ) -> Result<Vec<Counted>, StoreError> {
        let mut outcomes = vec![Counted::Already; records.len()];
        let mut seen = std::collections::HashSet::new();
        let firsts: Vec<usize> = (0..records.len())
            .filter(|&i| seen.insert((&records[i].tenant_id, &records[i].id)))
            .collect();
        for chunk in firsts.chunks(RECORDS_PER_TRANSACTION) {
            for i in self.count_chunk(records, chunk.to_vec(), now).await? {
                outcomes[i] = Counted::Counted;
            }
        }
        Ok(outcomes)
    }

    /// Counts the records at `pending` in one transaction; the indexes it counted. A mark
    /// found already there drops its record and the rest go again.
    async fn count_chunk(
        &self,
        records: &[EventRecord],
        mut pending: Vec<usize>,
        now: i64,
    ) -> Result<Vec<usize>, StoreError> {
        for attempt in 0..CONFLICT_ATTEMPTS {
            if pending.is_empty() {
                return Ok(pending);
            }
            let mut actions = Vec::with_capacity(pending.len() + 4);
            let mut sums: Sums = BTreeMap::new();
            for &i in &pending {
                let r = &records[i];
                actions.push(put_action(
                    self.table_name(),
                    mark_item(r, now),
                    "attribute_not_exists(pk)",
                    &[],
                )?);
                *sums
                    .entry((&r.tenant_id, &r.phone_number_id, Day::of_seconds(r.at)))
                    .or_default()
                    .entry(counter(r.what))
                    .or_default() += 1;
            }
            // One shard per transaction, at random: a busy number's writers spread.
            let shard = rand::random_range(0..SHARDS);
            for ((tenant, number, day), counts) in &sums {
                let mut update = self
                    .update(
                        "UpdateItem usage",
                        usage_pk(tenant, shard),
                        day_sk(*day, number),
                    )
                    .set("day", s(day.to_string()))
                    .set("phone_number_id", s(*number))
                    .set(EXPIRES_AT, n(now + USAGE_SECS));
                for (name, count) in counts {
                    update = update.add(name, n(*count));
                }
                actions.push(update.into_action()?);
            }
            match self.transact("TransactWriteItems usage", actions).await? {
                Transacted::Written => return Ok(pending),
                Transacted::Cancelled { failed_conditions }
                    if failed_conditions
                        .iter()
                        .take(pending.len())
                        .any(|failed| *failed) =>
                {
                    // Counted before: those go; the others are tried again at once.
                    pending = pending
                        .into_iter()
                        .zip(failed_conditions)
                        .filter(|(_, failed)| !failed)
                        .map(|(i, _)| i)
                        .collect();
                }
                // Another transaction on the same counter (or throttling): this one wrote
                // nothing; again, after a wait that grows and is spread so that the
                // writers of one counter do not meet again.
                Transacted::Cancelled { .. } => {
                    let base = 10u64 << attempt.min(6);
                    let jitter = rand::random_range(0..=base);
                    tokio::time::sleep(std::time::Duration::from_millis(base + jitter)).await;
                }
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
        let shard = |shard: usize| {
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
            query.all()
        };
        // The shards at once: a read costs one round trip, not eight.
        let shards = futures_util::future::try_join_all((0..SHARDS).map(shard)).await?;
        let mut days: BTreeMap<(String, String), DailyUsage> = BTreeMap::new();
        for items in shards {
            for it in items {
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
