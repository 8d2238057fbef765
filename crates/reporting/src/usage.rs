//! A number's messages and conversations per UTC day: what the business received, sent,
//! and what failed or was refused, and the conversations opened by the person or by the
//! business. Billing reads the same counts when credits arrive.

use crate::domain::calendar::Day;

/// The longest span one read covers.
pub const MAX_DAYS: i64 = 93;

/// One number's usage on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyUsage {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub phone_number_id: String,
    pub received: u64,
    pub sent: u64,
    /// Meta refused them, or every attempt failed.
    pub failed: u64,
    /// Refused by the gateway's rules about the person (consent, the window, a
    /// restriction), never sent.
    pub refused: u64,
    pub opened_by_person: u64,
    pub opened_by_business: u64,
}

impl DailyUsage {
    pub fn new(day: &str, phone_number_id: &str) -> Self {
        Self {
            day: day.to_owned(),
            phone_number_id: phone_number_id.to_owned(),
            received: 0,
            sent: 0,
            failed: 0,
            refused: 0,
            opened_by_person: 0,
            opened_by_business: 0,
        }
    }
}

/// Why a span of days cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("`{0}` is not a date as YYYY-MM-DD")]
    NotADate(&'static str),
    #[error("`from` is after `to`")]
    Backwards,
    #[error("at most {MAX_DAYS} days at once")]
    TooLong,
}

impl SpanError {
    /// The request's field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            SpanError::NotADate(field) => field,
            SpanError::Backwards | SpanError::TooLong => "to",
        }
    }
}

/// The days from `from` to `to`, both counted, checked.
pub fn span(from: &str, to: &str) -> Result<(Day, Day), SpanError> {
    let from = Day::parse(from).ok_or(SpanError::NotADate("from"))?;
    let to = Day::parse(to).ok_or(SpanError::NotADate("to"))?;
    if to < from {
        return Err(SpanError::Backwards);
    }
    if from.span_to(to) > MAX_DAYS {
        return Err(SpanError::TooLong);
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_checked() {
        assert!(span("2026-12-01", "2026-12-07").is_ok());
        assert_eq!(span("2026-12-08", "2026-12-07"), Err(SpanError::Backwards));
        assert_eq!(span("2026-01-01", "2026-12-31"), Err(SpanError::TooLong));
        assert_eq!(
            span("yesterday", "2026-12-07"),
            Err(SpanError::NotADate("from"))
        );
        assert_eq!(SpanError::NotADate("from").field(), "from");
        assert_eq!(SpanError::TooLong.field(), "to");
    }
}
