//! The tenant's callbacks as a subscriber of domain events: each event a tenant can
//! receive becomes its callback (`message.received`, `message.status`,
//! `contact.marketing_preference`, `template.update`, `account.update`) and goes to the
//! callback queue through the sink; the rest pass.

use std::future::Future;

use futures_util::future::BoxFuture;

use super::emitter::{CallbackEmitter, EmitError};
use super::event::CallbackEvent;
use super::payload::{
    AccountChangeData, CallbackData, MarketingPreferenceData, MessageReceivedData,
    MessageStatusData,
};
use crate::domain::consent::{Action, Scope, Source};
use crate::domain::event::{DomainEvent, Published};
use crate::domain::tenant::TenantId;
use crate::events::{Subscriber, SubscriberError};

/// Where callback events go: the callback queue, or a test's recorder.
pub trait CallbackSink: Send + Sync {
    fn emit(
        &self,
        tenant: &TenantId,
        event: &CallbackEvent,
    ) -> impl Future<Output = Result<(), EmitError>> + Send;
}

impl CallbackSink for CallbackEmitter {
    async fn emit(&self, tenant: &TenantId, event: &CallbackEvent) -> Result<(), EmitError> {
        CallbackEmitter::emit(self, tenant, event).await.map(|_| ())
    }
}

/// A sink shared with whoever else holds it (a test reads what was emitted).
impl<S: CallbackSink> CallbackSink for std::sync::Arc<S> {
    async fn emit(&self, tenant: &TenantId, event: &CallbackEvent) -> Result<(), EmitError> {
        S::emit(self, tenant, event).await
    }
}

/// Hands the events tenants receive to `sink`.
pub struct CallbackSubscriber<S = CallbackEmitter> {
    sink: S,
}

impl<S: CallbackSink> CallbackSubscriber<S> {
    pub fn new(sink: S) -> Self {
        Self { sink }
    }

    #[cfg(test)]
    fn sink(&self) -> &S {
        &self.sink
    }
}

impl<S: CallbackSink> Subscriber for CallbackSubscriber<S> {
    fn name(&self) -> &'static str {
        "callbacks"
    }

    fn handle<'a>(&'a self, event: Published<'a>) -> BoxFuture<'a, Result<(), SubscriberError>> {
        Box::pin(async move {
            let Some(data) = callback_data(event.event) else {
                return Ok(());
            };
            let callback = CallbackEvent::of(
                event.tenant.as_str(),
                event.source,
                event.received_at,
                &data,
            );
            self.sink.emit(event.tenant, &callback).await?;
            Ok(())
        })
    }
}

/// The callback a tenant receives for `event`, if it receives one. A message goes out on
/// every delivery (a worker stopped after storing it but before emitting left it undone;
/// receivers drop repeats by the event's id); a consent change only when it is Meta's
/// report of a marketing preference, as the callbacks have always had it.
pub fn callback_data(event: &DomainEvent) -> Option<CallbackData> {
    Some(match event {
        DomainEvent::MessageReceived(m) => CallbackData::MessageReceived(MessageReceivedData {
            contact_id: m.contact_id.clone(),
            phone_number_id: m.phone_number_id.clone(),
            from: m.from.clone(),
            from_user_id: m.from_user_id.clone(),
            profile_name: m.profile_name.clone(),
            message: m.message.clone(),
        }),
        DomainEvent::StatusChanged(s) => CallbackData::MessageStatus(MessageStatusData {
            contact_id: s.contact_id.clone(),
            phone_number_id: s.phone_number_id.clone(),
            late: s.late,
            status: s.status.clone(),
        }),
        DomainEvent::ConsentChanged(c)
            if c.source == Source::Meta && c.scope == Scope::Marketing =>
        {
            CallbackData::MarketingPreference(MarketingPreferenceData {
                contact_id: c.contact_id.clone(),
                marketing_opt_out: c.action == Action::OptOut,
                at: c.at,
            })
        }
        DomainEvent::TemplateChanged(change) => CallbackData::TemplateUpdate(account(change)),
        DomainEvent::AccountChanged(change) => CallbackData::AccountUpdate(account(change)),
        DomainEvent::ConsentChanged(_)
        | DomainEvent::ContactCreated { .. }
        | DomainEvent::ConversationOpened(_)
        | DomainEvent::MessageQueued(_)
        | DomainEvent::MessageSent { .. }
        | DomainEvent::MessageFailed { .. } => return None,
    })
}

fn account(change: &crate::domain::event::AccountChange) -> AccountChangeData {
    AccountChangeData {
        field: change.field.clone(),
        waba_id: change.waba_id.clone(),
        value: change.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::callbacks::event::EventType;
    use crate::domain::event::{AccountChange, ConsentChanged, MessageReceived, StatusChanged};
    use std::sync::Mutex;

    /// Keeps what was emitted, in order.
    #[derive(Default)]
    struct FakeCallbacks {
        emitted: Mutex<Vec<CallbackEvent>>,
    }

    impl FakeCallbacks {
        fn ids(&self) -> Vec<String> {
            let emitted = self.emitted.lock().expect("never poisoned");
            emitted.iter().map(|e| e.id.clone()).collect()
        }
    }

    impl CallbackSink for FakeCallbacks {
        async fn emit(&self, _tenant: &TenantId, event: &CallbackEvent) -> Result<(), EmitError> {
            self.emitted
                .lock()
                .expect("never poisoned")
                .push(event.clone());
            Ok(())
        }
    }

    fn consent(source: Source, scope: Scope) -> DomainEvent {
        DomainEvent::ConsentChanged(ConsentChanged {
            contact_id: "c1".into(),
            scope,
            action: Action::OptOut,
            source,
            at: 5,
            duplicate: false,
        })
    }

    #[test]
    fn each_event_a_tenant_receives_becomes_its_callback_and_the_rest_pass() {
        let received = DomainEvent::MessageReceived(MessageReceived {
            contact_id: "c1".into(),
            message_id: "m1".into(),
            phone_number_id: Some("106540352242922".into()),
            from: Some("4915112345678".into()),
            from_user_id: None,
            profile_name: Some("Ana".into()),
            message: json!({"id": "wamid.A"}),
            first_delivery: false,
        });
        let status = DomainEvent::StatusChanged(StatusChanged {
            contact_id: "c1".into(),
            phone_number_id: None,
            late: true,
            status: json!({"status": "read"}),
        });
        let change = AccountChange {
            field: "message_template_status_update".into(),
            waba_id: "w1".into(),
            value: json!({"event": "APPROVED"}),
        };
        let cases = [
            (received, Some(EventType::MessageReceived)),
            (status, Some(EventType::MessageStatus)),
            (
                consent(Source::Meta, Scope::Marketing),
                Some(EventType::MarketingPreference),
            ),
            (
                DomainEvent::TemplateChanged(change.clone()),
                Some(EventType::TemplateUpdate),
            ),
            (
                DomainEvent::AccountChanged(change),
                Some(EventType::AccountUpdate),
            ),
            (consent(Source::Keyword, Scope::Marketing), None),
            (consent(Source::Meta, Scope::All), None),
            (
                DomainEvent::ContactCreated {
                    contact_id: "c1".into(),
                },
                None,
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(
                callback_data(&event).map(|d| d.event_type()),
                expected,
                "{event:?}"
            );
        }
        let Some(CallbackData::MarketingPreference(data)) =
            callback_data(&consent(Source::Meta, Scope::Marketing))
        else {
            panic!("a marketing preference");
        };
        assert_eq!((data.marketing_opt_out, data.at), (true, 5));
    }

    #[test]
    fn a_received_messages_callback_holds_the_published_data_and_nothing_more() {
        let received = DomainEvent::MessageReceived(MessageReceived {
            contact_id: "c1".into(),
            message_id: "m1".into(),
            phone_number_id: Some("106540352242922".into()),
            from: Some("4915112345678".into()),
            from_user_id: Some("DE.1a2b".into()),
            profile_name: Some("Ana".into()),
            message: json!({"id": "wamid.A", "type": "text", "text": {"body": "Hi"}}),
            first_delivery: true,
        });
        let data = callback_data(&received).unwrap().to_value();
        assert_eq!(
            data,
            json!({"contact_id": "c1", "phone_number_id": "106540352242922",
                   "from": "4915112345678", "from_user_id": "DE.1a2b", "profile_name": "Ana",
                   "message": {"id": "wamid.A", "type": "text", "text": {"body": "Hi"}}})
        );
        let typed: MessageReceivedData = serde_json::from_value(data.clone()).unwrap();
        assert_eq!(serde_json::to_value(typed).unwrap(), data);
    }

    #[tokio::test]
    async fn the_same_event_delivered_twice_makes_the_same_callback_id() {
        let subscriber = CallbackSubscriber::new(FakeCallbacks::default());
        let tenant = TenantId::parse("acme").unwrap();
        let event = consent(Source::Meta, Scope::Marketing);
        let published = Published {
            tenant: &tenant,
            source: r#"{"wa_id":"4915112345678"}"#,
            received_at: 9,
            person_restricted: false,
            event: &event,
        };
        subscriber.handle(published).await.unwrap();
        subscriber.handle(published).await.unwrap();
        let ids = subscriber.sink().ids();
        assert_eq!(ids.len(), 2);
        assert_eq!(ids[0], ids[1]);
    }
}
