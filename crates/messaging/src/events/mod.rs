//! Where domain events go: the subscribers a function registers, in one place
//! (`functions/inbound/src/subscribers.rs` for the inbound worker), each run in order for
//! every event a use case publishes. What runs here runs in the worker, in the contact's
//! order, before the queue message is done: an event whose subscriber fails is retried
//! with its queue message, so every subscriber must take the same event twice without
//! doing twice what it does (the callbacks' receivers drop repeats by the event's id).

pub mod durable;

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::domain::event::Published;

/// What a subscriber's failure is: its own error, kept whole for the log.
pub type SubscriberError = Box<dyn std::error::Error + Send + Sync>;

/// One reader of domain events.
pub trait Subscriber: Send + Sync {
    /// Its name in logs.
    fn name(&self) -> &'static str;

    /// Acts on `event`; events it does not read it lets pass.
    fn handle<'a>(&'a self, event: Published<'a>) -> BoxFuture<'a, Result<(), SubscriberError>>;
}

/// A subscriber failed: the event's queue message is retried, and every subscriber sees
/// the event again.
#[derive(Debug, thiserror::Error)]
#[error("the {subscriber} subscriber failed on a {event} event")]
pub struct PublishError {
    pub subscriber: &'static str,
    pub event: &'static str,
    #[source]
    pub source: SubscriberError,
}

/// The subscribers of one function, in the order they run.
#[derive(Clone, Default)]
pub struct Subscribers(Vec<Arc<dyn Subscriber>>);

impl Subscribers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Also runs `subscriber`, after those registered before it.
    pub fn with(mut self, subscriber: impl Subscriber + 'static) -> Self {
        self.0.push(Arc::new(subscriber));
        self
    }

    /// Hands `event` to every subscriber in order; the first failure stops it.
    pub async fn publish(&self, event: Published<'_>) -> Result<(), PublishError> {
        for subscriber in &self.0 {
            subscriber
                .handle(event)
                .await
                .map_err(|source| PublishError {
                    subscriber: subscriber.name(),
                    event: event.event.name(),
                    source,
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::event::DomainEvent;
    use crate::domain::tenant::TenantId;

    struct Recorder {
        name: &'static str,
        seen: Arc<Mutex<Vec<&'static str>>>,
        fails: bool,
    }

    impl Subscriber for Recorder {
        fn name(&self) -> &'static str {
            self.name
        }

        fn handle<'a>(
            &'a self,
            _event: Published<'a>,
        ) -> BoxFuture<'a, Result<(), SubscriberError>> {
            Box::pin(async move {
                self.seen.lock().unwrap().push(self.name);
                if self.fails {
                    return Err("down".into());
                }
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn subscribers_run_in_the_order_registered_and_the_first_failure_stops_the_rest() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorder = |name, fails| Recorder {
            name,
            seen: seen.clone(),
            fails,
        };
        let subscribers = Subscribers::new()
            .with(recorder("first", false))
            .with(recorder("second", true))
            .with(recorder("third", false));
        let tenant = TenantId::parse("acme").unwrap();
        let event = DomainEvent::ContactCreated {
            contact_id: "c1".into(),
        };
        let published = Published {
            tenant: &tenant,
            source: "{}",
            received_at: 1,
            person_restricted: false,
            event: &event,
        };
        let error = subscribers.publish(published).await.unwrap_err();
        assert_eq!(
            (error.subscriber, error.event),
            ("second", "contact_created")
        );
        assert_eq!(*seen.lock().unwrap(), ["first", "second"]);
        assert!(Subscribers::new().publish(published).await.is_ok());
    }
}
