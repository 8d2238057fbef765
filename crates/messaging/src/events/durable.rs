//! The durable path: the subscriber that hands the events lagging subscribers count
//! (reports, billing) to their queue, as [`EventRecord`]s. It runs in the worker like any
//! subscriber: on the inbound path its failure fails the record, whose redelivery
//! publishes again, so no event is lost; the record's id makes the second copy count once.
//! What reads the queue (`functions/reporting`) may lag without holding the worker up.
//! The workers hold a batch's records (`HeldRecords::batch`) and send them in one request
//! per ten when the batch is done, failing the whole batch when that fails: each of its
//! queue messages comes back and publishes again, and a record's id makes every copy one.

use std::future::Future;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use super::{Subscriber, SubscriberError};
use crate::domain::event::Published;
use crate::domain::event_record::EventRecord;
use crate::queue::QueueError;
use crate::queue::jobs::JobQueue;

/// Where the records go.
pub trait RecordSink: Send + Sync {
    fn send(&self, record: &EventRecord) -> BoxFuture<'_, Result<(), QueueError>>;
}

impl RecordSink for JobQueue {
    fn send(&self, record: &EventRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        let record = record.clone();
        Box::pin(async move { JobQueue::send(self, std::slice::from_ref(&record)).await })
    }
}

tokio::task_local! {
    /// The records the batch being handled made, while `HeldRecords::batch` runs it.
    static HELD: Arc<Mutex<Vec<EventRecord>>>;
}

/// The durable queue, holding what a batch makes until the batch is done (outside a
/// batch, a record is sent at once). Each batch holds its own, so batches handled at
/// once by one worker neither send nor lose each other's.
#[derive(Clone)]
pub struct HeldRecords {
    queue: JobQueue,
}

impl HeldRecords {
    pub fn new(queue: JobQueue) -> Self {
        Self { queue }
    }

    /// Runs `handling` (a batch) holding the records it makes, then sends them, one
    /// request per ten. On `Err` they were not all sent: the caller fails the batch, whose
    /// redelivery makes them again.
    pub async fn batch<F: Future>(&self, handling: F) -> (F::Output, Result<(), QueueError>) {
        let held = Arc::new(Mutex::new(Vec::new()));
        let output = HELD.scope(held.clone(), handling).await;
        let records = std::mem::take(&mut *held.lock().expect("never poisoned"));
        if records.is_empty() {
            return (output, Ok(()));
        }
        (output, self.queue.send(&records).await)
    }
}

impl RecordSink for HeldRecords {
    fn send(&self, record: &EventRecord) -> BoxFuture<'_, Result<(), QueueError>> {
        let held = HELD.try_with(|held| {
            held.lock().expect("never poisoned").push(record.clone());
        });
        match held {
            Ok(()) => Box::pin(async { Ok(()) }),
            Err(_) => RecordSink::send(&self.queue, record),
        }
    }
}

/// Forwards what lagging subscribers count to their queue.
pub struct DurableForwarder<S> {
    sink: S,
}

impl<S: RecordSink> DurableForwarder<S> {
    pub fn new(sink: S) -> Self {
        Self { sink }
    }
}

impl<S: RecordSink> Subscriber for DurableForwarder<S> {
    fn name(&self) -> &'static str {
        "durable"
    }

    fn handle<'a>(&'a self, event: Published<'a>) -> BoxFuture<'a, Result<(), SubscriberError>> {
        Box::pin(async move {
            if let Some(record) = EventRecord::of(&event) {
                self.sink.send(&record).await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::event::{DomainEvent, OutboundRef};
    use crate::domain::tenant::TenantId;

    #[derive(Default)]
    struct Kept(Mutex<Vec<EventRecord>>);

    impl RecordSink for &Kept {
        fn send(&self, record: &EventRecord) -> BoxFuture<'_, Result<(), QueueError>> {
            self.0.lock().unwrap().push(record.clone());
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test]
    async fn counted_events_are_forwarded_and_the_rest_are_not() {
        let kept = Kept::default();
        let forwarder = DurableForwarder::new(&kept);
        let tenant = TenantId::parse("acme").unwrap();
        let job = OutboundRef {
            contact_id: "c1".into(),
            job_id: "j1".into(),
            phone_number_id: "106540352242922".into(),
            enqueued_at: 1_767_000_000,
        };
        for event in [
            DomainEvent::MessageQueued(job.clone()),
            DomainEvent::MessageSent {
                message: job,
                wamid: "wamid.X".into(),
            },
        ] {
            let published = Published {
                tenant: &tenant,
                source: "j1",
                received_at: 1_767_000_000,
                person_restricted: false,
                event: &event,
            };
            forwarder.handle(published).await.unwrap();
        }
        let kept = kept.0.lock().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            kept[0].what,
            crate::domain::event_record::Tally::MessageSent
        );
    }
}
