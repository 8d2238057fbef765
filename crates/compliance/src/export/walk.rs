//! The walk through what the tenant holds about a person, element by element into the
//! document: each contact (its profile and consent ledger, its messages page by page, the
//! callback deliveries about it), then the tenant events about the person. The walk
//! stands still between two pages when its invocation's time runs low, and answers where
//! it stood, so that the next invocation goes on from there.

use super::document::Document;
use super::job::{ExportJob, ExportPosition, Step};
use super::{ExportError, PersonExporter};
use crate::conversations::Conversations;
use crate::domain::export::{ExportedConversation, ExportedDelivery, ExportedEvent};
use crate::domain::tenant::TenantId;
use crate::store::ContactStore;
use crate::store::ConversationStore;
use crate::store::TenantEventStore;
use crate::store::table::cursor::Cursor;
use crate::views::consent::ConsentEntryView;
use crate::views::contact::ContactView;
use crate::views::message::MessageView;
use wagate_integrations::store::CallbackStore;

/// Messages read per page.
const MESSAGE_PAGE: i32 = 200;
/// Callback log items, or tenant events, read per page.
const LOG_PAGE: i32 = 1_000;

impl ExportPosition {
    pub fn start() -> Self {
        Self {
            contact: 0,
            step: Step::Open,
        }
    }

    fn next_contact(&self) -> Self {
        Self {
            contact: self.contact + 1,
            step: Step::Open,
        }
    }
}

/// How far a walk got.
pub enum Walked {
    Done,
    /// It stood still here, with time running low.
    Paused(ExportPosition),
}

impl PersonExporter {
    /// Writes from `position` on, while `keep_going` says there is time; `now` is the
    /// export's own time (what lives then is exported).
    pub(super) async fn walk(
        &self,
        (tenant, job): (&TenantId, &ExportJob),
        document: &mut Document,
        mut position: ExportPosition,
        now: i64,
        keep_going: &impl Fn() -> bool,
    ) -> Result<Walked, ExportError> {
        let conversations = Conversations::new(self.store.clone());
        loop {
            let Some(contact) = job.contacts.get(position.contact) else {
                let after = match std::mem::replace(&mut position.step, Step::Open) {
                    Step::Events { after } => after,
                    _ => None,
                };
                let people = (job.blinded.as_slice(), job.contacts.as_slice());
                let (events, next) = self
                    .store
                    .repo::<TenantEventStore>()
                    .events_about(tenant, people, after.as_ref(), LOG_PAGE, now)
                    .await?;
                for event in events {
                    document.event(&exported(event)).await?;
                }
                let Some(next) = next else {
                    return Ok(Walked::Done);
                };
                position.step = Step::Events { after: Some(next) };
                if !keep_going() {
                    return Ok(Walked::Paused(position));
                }
                continue;
            };
            let step = std::mem::replace(&mut position.step, Step::Open);
            position = match step {
                Step::Open => match self
                    .store
                    .repo::<ContactStore>()
                    .get_contact(tenant, contact, now)
                    .await?
                {
                    Some(profile) => {
                        let consent = self.consent_ledger(tenant, contact, now).await?;
                        let conversations: Vec<_> = self
                            .store
                            .repo::<ConversationStore>()
                            .conversations_of(tenant, contact, now)
                            .await?
                            .iter()
                            .map(ExportedConversation::from)
                            .collect();
                        document
                            .contact(&ContactView::from(profile), &consent, &conversations)
                            .await?;
                        ExportPosition {
                            step: Step::Messages { after: None },
                            ..position
                        }
                    }
                    None => position.next_contact(),
                },
                Step::Messages { after } => {
                    let page = conversations
                        .messages(tenant, contact, after.as_ref(), MESSAGE_PAGE, now)
                        .await?;
                    let next = match page {
                        Some(page) => {
                            for (id, message) in page.messages {
                                document
                                    .message(&MessageView::new(&id, message, &page.deliveries))
                                    .await?;
                            }
                            page.next
                        }
                        // Gone meanwhile: what was written of it stands.
                        None => None,
                    };
                    let step = match next {
                        Some(after) => Step::Messages { after: Some(after) },
                        None => Step::Deliveries { after: None },
                    };
                    ExportPosition { step, ..position }
                }
                Step::Deliveries { after } => {
                    let (records, next) = self
                        .store
                        .repo::<CallbackStore>()
                        .deliveries_about(
                            tenant,
                            std::slice::from_ref(contact),
                            after.as_ref(),
                            LOG_PAGE,
                            Some(now),
                        )
                        .await?;
                    for record in records {
                        let delivery = ExportedDelivery {
                            event_id: record.event_id,
                            event_type: record.event_type,
                            endpoint_id: record.endpoint_id,
                            state: record
                                .state
                                .map(|s| s.as_str().to_owned())
                                .unwrap_or_default(),
                            attempts: record.attempts.max(0) as u32,
                            created_at: record.event_created_at,
                        };
                        document.delivery(&delivery).await?;
                    }
                    match next {
                        Some(after) => ExportPosition {
                            step: Step::Deliveries { after: Some(after) },
                            ..position
                        },
                        None => {
                            document.end_contact().await?;
                            position.next_contact()
                        }
                    }
                }
                Step::Events { .. } => {
                    return Err(ExportError::Order("events before the last contact"));
                }
            };
            if !keep_going() {
                return Ok(Walked::Paused(position));
            }
        }
    }

    /// The contact's whole consent ledger, newest first (a few lines for most people).
    async fn consent_ledger(
        &self,
        tenant: &TenantId,
        contact: &str,
        now: i64,
    ) -> Result<Vec<ConsentEntryView>, ExportError> {
        let mut entries = Vec::new();
        let mut after: Option<Cursor> = None;
        loop {
            let page = self
                .store
                .repo::<ContactStore>()
                .consent_entries(tenant, contact, MESSAGE_PAGE, after.as_ref(), now)
                .await?;
            entries.extend(page.entries.into_iter().map(ConsentEntryView::from));
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(entries),
            }
        }
    }
}

/// A stored event as the document holds it: Meta's JSON as JSON where it parses.
fn exported(event: crate::store::event::StoredEvent) -> ExportedEvent {
    let json = serde_json::from_str(&event.raw).unwrap_or(serde_json::Value::String(event.raw));
    ExportedEvent {
        field: event.field,
        kind: event.kind,
        event_time: event.event_time,
        unhandled_reason: event.unhandled_reason,
        event: json,
    }
}
