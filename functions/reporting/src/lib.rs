//! The reporting worker: reads the durable path's event records and counts each once in
//! the projections (today a number's daily usage). A record it cannot read, or that does
//! not hold what the gateway writes, is logged and dropped (it could never be counted; it
//! names no person); so is one for a tenant that is gone or being deleted, whose data
//! must not come back. A record whose count failed goes back to the queue and is counted
//! when it returns, once.

pub mod config;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::future::join_all;
use wagate_platform::queue::batch_response::{message_id, returning};
use wagate_platform::telemetry::error_chain;
use wagate_reporting::domain::event_record::EventRecord;
use wagate_reporting::domain::tenant::{TenantId, TenantStatus};
use wagate_reporting::store::UsageStore;
use wagate_tenancy::tenants::{TenantDirectory, Tenants};

/// How far ahead of the worker's clock a record's time may be (clocks differ a little).
const MAX_AHEAD_SECS: i64 = 3_600;

/// What the worker needs, built once per container.
pub struct Worker {
    pub usage: UsageStore,
    pub tenants: TenantDirectory,
}

/// Reads the batch's records, drops what cannot be counted, and counts the rest in one go
/// (one transaction per forty); when that fails, they all come back.
pub async fn handle_batch(worker: &Worker, event: SqsEvent, now: i64) -> SqsBatchResponse {
    let checked = join_all(event.records.iter().map(|r| check(worker, r, now))).await;
    let mut failed: Vec<String> = Vec::new();
    let mut countable: Vec<(String, EventRecord)> = Vec::new();
    for (message, checked) in event.records.iter().zip(checked) {
        let id = message_id(message);
        match checked {
            Ok(Some(record)) => countable.push((id, record)),
            Ok(None) => {}
            Err(()) => failed.push(id),
        }
    }
    let records: Vec<EventRecord> = countable.iter().map(|(_, r)| r.clone()).collect();
    if let Err(e) = worker.usage.count_batch(&records, now).await {
        tracing::warn!(records = records.len(), error = %error_chain(&e), "events were not counted; they come back");
        failed.extend(countable.into_iter().map(|(id, _)| id));
    }
    returning(failed)
}

/// The record a message holds, to count; `None` to drop (not one the gateway writes, or
/// its tenant is gone); `Err` when it must come back (its tenant could not be read).
async fn check(worker: &Worker, message: &SqsMessage, now: i64) -> Result<Option<EventRecord>, ()> {
    let id = message.message_id.as_deref().unwrap_or_default();
    let body = message.body.as_deref().unwrap_or_default();
    let Some((record, tenant)) = readable(body, now) else {
        tracing::error!(alert = "event_record_unreadable", message_id = %id, "unreadable event record dropped");
        return Ok(None);
    };
    match worker.tenants.tenant(&tenant).await {
        Ok(Some(found)) if found.status != TenantStatus::Deleting => Ok(Some(record)),
        Ok(_) => {
            tracing::info!(tenant = %tenant, "an event record of a tenant that is gone dropped");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(tenant = %tenant, error = %error_chain(&e), "the tenant could not be read; the record comes back");
            Err(())
        }
    }
}

/// The record in `body`, when it holds what the gateway writes: a tenant id, a number id
/// of digits, an id, a time not far in the future.
fn readable(body: &str, now: i64) -> Option<(EventRecord, TenantId)> {
    let record = serde_json::from_str::<EventRecord>(body).ok()?;
    let tenant = TenantId::parse(&record.tenant_id).ok()?;
    let number = &record.phone_number_id;
    let number_ok = (1..=32).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit());
    let id_ok =
        (1..=64).contains(&record.id.len()) && record.id.bytes().all(|b| b.is_ascii_hexdigit());
    let time_ok = (0..=now + MAX_AHEAD_SECS).contains(&record.at);
    (number_ok && id_ok && time_ok).then_some((record, tenant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(tenant: &str, number: &str, id: &str, at: i64) -> String {
        serde_json::json!({"id": id, "tenant_id": tenant, "phone_number_id": number,
            "at": at, "kind": "message_sent"})
        .to_string()
    }

    #[test]
    fn only_records_the_gateway_writes_are_read() {
        let now = 1_767_000_000;
        let id = "0123456789abcdef0123456789abcdef";
        assert!(readable(&body("acme", "106540352242922", id, now), now).is_some());
        for (tenant, number, id, at) in [
            ("acme", "106540352242922#PN#1", id, now),
            ("acme", "", id, now),
            ("no such tenant!", "106540352242922", id, now),
            ("acme", "106540352242922", "in:c_1", now),
            ("acme", "106540352242922", id, i64::MAX),
            ("acme", "106540352242922", id, -1),
        ] {
            assert!(
                readable(&body(tenant, number, id, at), now).is_none(),
                "{tenant} {number} {id} {at}"
            );
        }
        assert!(readable("{\"kind\":\"message_sent\"}", now).is_none());
        assert!(readable("not json", now).is_none());
    }
}
