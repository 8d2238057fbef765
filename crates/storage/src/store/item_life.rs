//! What an item's new life is once its tenant's retention changes: each item module
//! answers with an [`Ageing`] for the sweep (`store/ageing.rs`) to write. Below both, so
//! the modules and the sweep that calls them do not import each other.

/// What one item's module asks the sweep to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ageing {
    /// A new, sooner end of the whole item.
    pub expires_at: Option<i64>,
    /// A new, sooner end of the message's content.
    pub content_expires_at: Option<i64>,
    /// Attributes to let go now: content whose time has passed.
    pub remove: &'static [&'static str],
}

impl Ageing {
    pub fn end(expires_at: Option<i64>) -> Option<Self> {
        expires_at.map(|at| Self {
            expires_at: Some(at),
            ..Self::default()
        })
    }
}
