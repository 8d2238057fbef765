//! A subscriber that keeps every domain event published to it, in order.

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use crate::domain::event::{DomainEvent, Published};
use crate::events::{Subscriber, SubscriberError};

/// One published event as the recorder kept it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub event: DomainEvent,
    pub person_restricted: bool,
}

/// Cheap to clone: the clones share what was kept, so a test keeps one and registers the
/// other.
#[derive(Clone, Default)]
pub struct FakeSubscriber {
    kept: Arc<Mutex<Vec<Kept>>>,
}

impl FakeSubscriber {
    /// The events' names, in the order they were published.
    pub fn names(&self) -> Vec<&'static str> {
        self.kept().iter().map(|k| k.event.name()).collect()
    }

    pub fn kept(&self) -> Vec<Kept> {
        self.kept.lock().expect("never poisoned").clone()
    }

    /// The events of one kind, in order.
    pub fn events(&self) -> Vec<DomainEvent> {
        self.kept().into_iter().map(|k| k.event).collect()
    }
}

impl Subscriber for FakeSubscriber {
    fn name(&self) -> &'static str {
        "recorder"
    }

    fn handle<'a>(&'a self, event: Published<'a>) -> BoxFuture<'a, Result<(), SubscriberError>> {
        Box::pin(async move {
            self.kept.lock().expect("never poisoned").push(Kept {
                event: event.event.clone(),
                person_restricted: event.person_restricted,
            });
            Ok(())
        })
    }
}

/// A subscriber that is down: it fails on every event.
pub struct DownSubscriber;

impl Subscriber for DownSubscriber {
    fn name(&self) -> &'static str {
        "down"
    }

    fn handle<'a>(&'a self, _event: Published<'a>) -> BoxFuture<'a, Result<(), SubscriberError>> {
        Box::pin(async { Err("unreachable".into()) })
    }
}
