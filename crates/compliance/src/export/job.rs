//! An export's job as the erasure queue carries it, and where a paused export stands:
//! data only, below the exporter and the queue's job enum, which both name it.

use serde::{Deserialize, Serialize};

use crate::store::table::cursor::Cursor;

/// The job of one export: whom, by contact ids and the keyed hashes of their identifiers,
/// and, for a job that goes on from a pause, where the last one stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportJob {
    pub tenant: String,
    pub export: String,
    pub contacts: Vec<String>,
    pub csv: bool,
    /// The blind indexes of the person's identifiers: the tenant events that name them
    /// are theirs too (absent from jobs queued before events were exported).
    #[serde(default)]
    pub blinded: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Box<ExportProgress>>,
}

/// Where a paused export stands, as the job that goes on from it carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportProgress {
    /// The export's own time: what lived then is exported.
    pub exported_at: i64,
    pub document: DocumentState,
    pub position: ExportPosition,
    /// How many times it paused so far.
    pub pauses: u32,
}

/// Where the writer is in the document, to put commas and brackets in their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    Contacts { first: bool },
    Messages { first: bool },
    Deliveries { first: bool },
    Events { first: bool },
}

/// Where a paused document stands: its files' uploads and its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentState {
    pub(crate) json: UploadState,
    pub(crate) csv: Option<UploadState>,
    pub(crate) place: Place,
    pub(crate) messages: u64,
    pub(crate) contacts: u64,
}

/// Where a paused upload stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadState {
    pub key: String,
    pub upload_id: String,
    /// Each part sent: its number and its ETag.
    pub parts: Vec<(i32, Option<String>)>,
    pub written: u64,
    /// The object that holds the bytes not yet sent, when there were some.
    pub pending: Option<String>,
}

/// Where the walk stands: which of the job's contacts (their count once they are all
/// written: the events follow), and where within it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPosition {
    pub contact: usize,
    pub step: Step,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Step {
    /// The contact is next.
    Open,
    Messages {
        after: Option<Cursor>,
    },
    Deliveries {
        after: Option<Cursor>,
    },
    Events {
        after: Option<Cursor>,
    },
}
