//! A message template as the gateway keeps it: what Meta said of it last (its status and
//! quality) beside what the business asked for. Stored by `store::template`.

use serde_json::Value;

/// A template as the gateway keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRecord {
    pub id: String,
    pub waba_id: Option<String>,
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub quality: Option<String>,
    pub components: Vec<Value>,
    /// When its status last changed, epoch seconds.
    pub status_at: Option<i64>,
}
