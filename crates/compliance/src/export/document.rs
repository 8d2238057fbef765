//! The export's files, written as they are read: the JSON document (schema
//! [`EXPORT_SCHEMA`], see docs/export.md) and, when asked for, a CSV of the messages. Each
//! element is serialised on its own, so memory holds one page of messages and one part of
//! each file, whatever the person's history. A document pauses between two elements and
//! goes on in another invocation ([`Document::pause`], [`Document::resume`]).

use serde::Serialize;
use serde_json::Value;

use super::ExportError;
use super::job::{DocumentState, Place};
use super::upload::Upload;
use crate::domain::export::{EXPORT_SCHEMA, ExportedConversation, ExportedDelivery, ExportedEvent};
use crate::views::consent::ConsentEntryView;
use crate::views::contact::ContactView;
use crate::views::message::MessageView;

/// The CSV's columns, one message a row.
const CSV_HEADER: [&str; 9] = [
    "contact_id",
    "message_id",
    "direction",
    "type",
    "created_at",
    "state",
    "wamid",
    "text",
    "content",
];

pub struct Document {
    json: Upload,
    csv: Option<Upload>,
    place: Place,
    pub messages: u64,
    pub contacts: u64,
}

/// Who the document is for, at its head.
pub struct Head<'a> {
    pub export_id: &'a str,
    pub tenant_id: &'a str,
    pub exported_at: i64,
}

impl Document {
    pub async fn start(
        json: Upload,
        csv: Option<Upload>,
        head: &Head<'_>,
    ) -> Result<Self, ExportError> {
        let mut document = Self {
            json,
            csv,
            place: Place::Contacts { first: true },
            messages: 0,
            contacts: 0,
        };
        let opening = format!(
            "{{\"schema\":{},\"export_id\":{},\"tenant_id\":{},\"exported_at\":{},\"contacts\":[",
            to_json(&EXPORT_SCHEMA),
            to_json(&head.export_id),
            to_json(&head.tenant_id),
            head.exported_at
        );
        document.json.write(opening.as_bytes()).await?;
        if let Some(csv) = &mut document.csv {
            csv.write(&csv_row(CSV_HEADER.map(str::to_owned))).await?;
        }
        Ok(document)
    }

    /// Opens a contact, with its consent ledger and conversations: what follows are its
    /// messages.
    pub async fn contact(
        &mut self,
        contact: &ContactView,
        consent: &[ConsentEntryView],
        conversations: &[ExportedConversation],
    ) -> Result<(), ExportError> {
        let comma = match self.place {
            Place::Contacts { first } => {
                if first {
                    ""
                } else {
                    ","
                }
            }
            _ => {
                return Err(ExportError::Order(
                    "a contact inside another, or after the events",
                ));
            }
        };
        let opening = format!(
            "{comma}{{\"contact\":{},\"consent\":{},\"conversations\":{},\"messages\":[",
            to_json(contact),
            to_json(&consent),
            to_json(&conversations)
        );
        self.json.write(opening.as_bytes()).await?;
        self.place = Place::Messages { first: true };
        self.contacts += 1;
        Ok(())
    }

    pub async fn message(&mut self, message: &MessageView) -> Result<(), ExportError> {
        let Place::Messages { first } = self.place else {
            return Err(ExportError::Order("a message outside a contact"));
        };
        let comma = if first { "" } else { "," };
        self.json
            .write(format!("{comma}{}", to_json(message)).as_bytes())
            .await?;
        if let Some(csv) = &mut self.csv {
            csv.write(&csv_row(message_row(message))).await?;
        }
        self.place = Place::Messages { first: false };
        self.messages += 1;
        Ok(())
    }

    pub async fn delivery(&mut self, delivery: &ExportedDelivery) -> Result<(), ExportError> {
        let first = match self.place {
            Place::Messages { .. } => {
                self.json.write(b"],\"callback_deliveries\":[").await?;
                true
            }
            Place::Deliveries { first } => first,
            Place::Contacts { .. } | Place::Events { .. } => {
                return Err(ExportError::Order("a delivery outside a contact"));
            }
        };
        let comma = if first { "" } else { "," };
        self.json
            .write(format!("{comma}{}", to_json(delivery)).as_bytes())
            .await?;
        self.place = Place::Deliveries { first: false };
        Ok(())
    }

    /// Closes the contact opened last.
    pub async fn end_contact(&mut self) -> Result<(), ExportError> {
        let closing: &[u8] = match self.place {
            Place::Messages { .. } => b"],\"callback_deliveries\":[]}",
            Place::Deliveries { .. } => b"]}",
            Place::Contacts { .. } | Place::Events { .. } => {
                return Err(ExportError::Order("no contact to close"));
            }
        };
        self.json.write(closing).await?;
        self.place = Place::Contacts { first: false };
        Ok(())
    }

    /// An event the tenant kept about the person, after every contact.
    pub async fn event(&mut self, event: &ExportedEvent) -> Result<(), ExportError> {
        let first = match self.place {
            Place::Contacts { .. } => {
                self.json.write(b"],\"events\":[").await?;
                true
            }
            Place::Events { first } => first,
            _ => return Err(ExportError::Order("an event inside a contact")),
        };
        let comma = if first { "" } else { "," };
        self.json
            .write(format!("{comma}{}", to_json(event)).as_bytes())
            .await?;
        self.place = Place::Events { first: false };
        Ok(())
    }

    /// Closes the document and completes its files; answers the JSON's size in bytes.
    pub async fn finish(mut self) -> Result<u64, ExportError> {
        let closing: &[u8] = match self.place {
            Place::Contacts { .. } => b"],\"events\":[]}",
            Place::Events { .. } => b"]}",
            _ => return Err(ExportError::Order("a contact left open")),
        };
        self.json.write(closing).await?;
        let bytes = self.json.finish().await?;
        if let Some(csv) = self.csv {
            csv.finish().await?;
        }
        Ok(bytes)
    }

    /// Pauses the document between two elements: its uploads' bytes not yet sent go to
    /// objects of their own (`pending`: the JSON's and the CSV's keys).
    pub async fn pause(self, pending: [&str; 2]) -> Result<DocumentState, ExportError> {
        let json = self.json.pause(pending[0]).await?;
        let csv = match self.csv {
            Some(csv) => Some(csv.pause(pending[1]).await?),
            None => None,
        };
        Ok(DocumentState {
            json,
            csv,
            place: self.place,
            messages: self.messages,
            contacts: self.contacts,
        })
    }

    /// Takes a paused document up again where it stood.
    pub async fn resume(
        s3: &aws_sdk_s3::Client,
        bucket: &str,
        state: DocumentState,
    ) -> Result<Self, ExportError> {
        let json = Upload::resume(s3, bucket, state.json).await?;
        let csv = match state.csv {
            Some(csv) => Some(Upload::resume(s3, bucket, csv).await?),
            None => None,
        };
        Ok(Self {
            json,
            csv,
            place: state.place,
            messages: state.messages,
            contacts: state.contacts,
        })
    }

    /// Gives the files up.
    pub async fn abort(self) {
        self.json.abort().await;
        if let Some(csv) = self.csv {
            csv.abort().await;
        }
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("an export's values always serialise")
}

fn message_row(m: &MessageView) -> [String; 9] {
    let direction = serde_json::to_value(&m.direction)
        .ok()
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default();
    [
        m.contact_id.clone(),
        m.id.clone(),
        direction,
        m.message_type.clone(),
        m.created_at.to_string(),
        m.state.clone(),
        m.wamid.clone().unwrap_or_default(),
        text_of(&m.content),
        to_json(&m.content),
    ]
}

/// The words of a message, where it has some: a text's body, a caption.
fn text_of(content: &Value) -> String {
    let candidates = [
        content.pointer("/text/body"),
        content.pointer("/body"),
        content.pointer("/caption"),
        content.pointer("/image/caption"),
        content.pointer("/video/caption"),
        content.pointer("/document/caption"),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn csv_row<const N: usize>(fields: [String; N]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(&fields)
        .expect("a CSV row in memory always writes");
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_messages_words_are_found_in_its_content() {
        let text: Value = serde_json::json!({"text": {"body": "hi, \"you\""}});
        assert_eq!(text_of(&text), "hi, \"you\"");
        assert_eq!(
            text_of(&serde_json::json!({"image": {"caption": "cat"}})),
            "cat"
        );
        assert_eq!(text_of(&serde_json::json!({"location": {}})), "");
        let row = String::from_utf8(csv_row(["a,b".to_owned(), "c\"d".to_owned()])).unwrap();
        assert_eq!(row, "\"a,b\",\"c\"\"d\"\n");
    }
}
