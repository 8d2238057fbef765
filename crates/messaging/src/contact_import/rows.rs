//! The rows of a contact import, read from JSON or CSV and checked one by one: a bad row is
//! reported with its number and field and never stops the others.
//!
//! JSON: `{"contacts": [{"phone", "bsuid", "name", "email", "attributes": {…},
//! "consent": {"marketing"|"all": "opt_in"|"opt_out"}}, …]}`.
//! CSV: a header row naming the columns `phone`, `bsuid`, `name`, `email`,
//! `attributes.<key>`, `consent.marketing` and `consent.all`; an empty cell gives nothing.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::domain::consent::{Action, Scope};
use crate::domain::contact::DetailsChange;
use crate::domain::identity::{Bsuid, IdentityKey, Phone, UserIdentity};

/// More rows than this in one request are refused as a whole.
pub const MAX_ROWS: usize = 20_000;

/// A row that passed every check: who, and what to record about them.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// 1-based position among the data rows.
    pub row: usize,
    pub identity: UserIdentity,
    pub change: DetailsChange,
    /// Consent the business's records hold, recorded in the contact's ledger (`import`).
    pub consent: Vec<(Scope, Action)>,
}

/// Why a row was left out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

/// A request that cannot be read as an import at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ImportFormatError {
    pub field: String,
    pub message: String,
}

fn format_error(field: &str, message: impl Into<String>) -> ImportFormatError {
    ImportFormatError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The checked rows and the rejected ones, duplicates of an earlier row included.
#[derive(Debug, Default)]
pub struct ReadRows {
    pub rows: Vec<ImportRow>,
    pub rejected: Vec<RowError>,
}

/// The fields of one row as given, before checking.
#[derive(Debug, Default)]
struct RawRow {
    phone: Option<String>,
    bsuid: Option<String>,
    name: Option<String>,
    email: Option<String>,
    attributes: BTreeMap<String, String>,
    /// (scope as given, action as given).
    consent: Vec<(String, String)>,
}

pub fn read_json(body: &Value) -> Result<ReadRows, ImportFormatError> {
    let object = body
        .as_object()
        .ok_or_else(|| format_error("body", "must be an object with `contacts`"))?;
    if let Some(unknown) = object.keys().find(|k| *k != "contacts") {
        return Err(format_error(unknown, "is not a field of an import"));
    }
    let list = object
        .get("contacts")
        .and_then(Value::as_array)
        .ok_or_else(|| format_error("contacts", "must be an array of contacts"))?;
    check_count(list.len())?;
    let raw = list
        .iter()
        .enumerate()
        .map(|(i, v)| (i + 1, raw_from_json(v)));
    Ok(check_rows(raw))
}

pub fn read_csv(body: &[u8]) -> Result<ReadRows, ImportFormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| format_error("header", format!("cannot be read: {e}")))?
        .clone();
    let columns: Vec<Column> = headers
        .iter()
        .map(Column::parse)
        .collect::<Result<_, _>>()?;
    if !columns
        .iter()
        .any(|c| matches!(c, Column::Phone | Column::Bsuid))
    {
        return Err(format_error("header", "needs a phone or bsuid column"));
    }
    let mut raw = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        check_count(row)?;
        raw.push((
            row,
            record
                .map_err(|e| row_error(row, "row", format!("cannot be read: {e}")))
                .and_then(|r| raw_from_csv(row, &columns, &r)),
        ));
    }
    Ok(check_rows(raw.into_iter()))
}

fn check_count(rows: usize) -> Result<(), ImportFormatError> {
    if rows > MAX_ROWS {
        return Err(format_error(
            "contacts",
            format!("at most {MAX_ROWS} rows per request"),
        ));
    }
    Ok(())
}

enum Column {
    Phone,
    Bsuid,
    Name,
    Email,
    Attribute(String),
    Consent(String),
}

impl Column {
    fn parse(header: &str) -> Result<Self, ImportFormatError> {
        Ok(match header {
            "phone" => Self::Phone,
            "bsuid" => Self::Bsuid,
            "name" => Self::Name,
            "email" => Self::Email,
            "consent.marketing" | "consent.all" => Self::Consent(header[8..].to_owned()),
            other => match other.strip_prefix("attributes.") {
                Some(key) if !key.is_empty() => Self::Attribute(key.to_owned()),
                _ => {
                    return Err(format_error(
                        other,
                        "is not a column of an import (phone, bsuid, name, email, attributes.<key>, consent.marketing, consent.all)",
                    ));
                }
            },
        })
    }
}

fn row_error(row: usize, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        row,
        field: field.to_owned(),
        message: message.into(),
    }
}

fn raw_from_csv(
    row: usize,
    columns: &[Column],
    record: &csv::StringRecord,
) -> Result<RawRow, RowError> {
    if record.len() > columns.len() {
        return Err(row_error(
            row,
            "row",
            format!("has {} cells for {} columns", record.len(), columns.len()),
        ));
    }
    let mut raw = RawRow::default();
    for (column, cell) in columns.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        let cell = cell.to_owned();
        match column {
            Column::Phone => raw.phone = Some(cell),
            Column::Bsuid => raw.bsuid = Some(cell),
            Column::Name => raw.name = Some(cell),
            Column::Email => raw.email = Some(cell),
            Column::Attribute(key) => {
                raw.attributes.insert(key.clone(), cell);
            }
            Column::Consent(scope) => raw.consent.push((scope.clone(), cell)),
        }
    }
    Ok(raw)
}

fn raw_from_json(value: &Value) -> Result<RawRow, (String, String)> {
    let object = value
        .as_object()
        .ok_or_else(|| ("row".to_owned(), "must be an object".to_owned()))?;
    let mut raw = RawRow::default();
    for (key, v) in object {
        let text = || match v {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Null => Ok(None),
            _ => Err((key.clone(), "must be a string".to_owned())),
        };
        match key.as_str() {
            "phone" => raw.phone = text()?,
            "bsuid" => raw.bsuid = text()?,
            "name" => raw.name = text()?,
            "email" => raw.email = text()?,
            "attributes" => {
                let map = v
                    .as_object()
                    .ok_or_else(|| (key.clone(), "must be an object of strings".to_owned()))?;
                for (name, value) in map {
                    let value = value.as_str().ok_or_else(|| {
                        (format!("attributes.{name}"), "must be a string".to_owned())
                    })?;
                    raw.attributes.insert(name.clone(), value.to_owned());
                }
            }
            "consent" => {
                let map = v.as_object().ok_or_else(|| {
                    (
                        key.clone(),
                        "must be an object of scope to action".to_owned(),
                    )
                })?;
                for (scope, action) in map {
                    let action = action.as_str().ok_or_else(|| {
                        (
                            format!("consent.{scope}"),
                            "must be opt_in or opt_out".to_owned(),
                        )
                    })?;
                    raw.consent.push((scope.clone(), action.to_owned()));
                }
            }
            _ => return Err((key.clone(), "is not a field of a contact".to_owned())),
        }
    }
    Ok(raw)
}

/// Checks each row and rejects a second row for a phone or BSUID already seen.
fn check_rows<E: Into<RowErrorParts>>(
    raw: impl Iterator<Item = (usize, Result<RawRow, E>)>,
) -> ReadRows {
    let mut read = ReadRows::default();
    let mut seen: HashMap<IdentityKey, usize> = HashMap::new();
    for (row, parsed) in raw {
        let checked = parsed
            .map_err(|e| {
                let (field, message) = e.into().0;
                row_error(row, &field, message)
            })
            .and_then(|r| check_row(row, r));
        let checked = checked.and_then(|r| {
            for key in r.identity.keys() {
                if let Some(first) = seen.get(&key) {
                    let field = match key {
                        IdentityKey::Phone(_) => "phone",
                        IdentityKey::Bsuid(_) => "bsuid",
                    };
                    return Err(row_error(row, field, format!("repeats row {first}")));
                }
            }
            for key in r.identity.keys() {
                seen.insert(key, row);
            }
            Ok(r)
        });
        match checked {
            Ok(r) => read.rows.push(r),
            Err(e) => read.rejected.push(e),
        }
    }
    read
}

/// A row's failure to parse, as (field, message).
struct RowErrorParts((String, String));

impl From<(String, String)> for RowErrorParts {
    fn from(parts: (String, String)) -> Self {
        Self(parts)
    }
}

impl From<RowError> for RowErrorParts {
    fn from(e: RowError) -> Self {
        Self((e.field, e.message))
    }
}

fn check_row(row: usize, raw: RawRow) -> Result<ImportRow, RowError> {
    let phone = raw
        .phone
        .map(|p| Phone::parse(&p).map_err(|e| row_error(row, "phone", e.to_string())))
        .transpose()?;
    let bsuid = raw
        .bsuid
        .map(|b| Bsuid::parse(&b).map_err(|e| row_error(row, "bsuid", e.to_string())))
        .transpose()?;
    if phone.is_none() && bsuid.is_none() {
        return Err(row_error(
            row,
            "phone",
            "a phone number or a bsuid is required",
        ));
    }
    let change = DetailsChange {
        name: raw.name.map(Some),
        email: raw.email.map(Some),
        attributes: (!raw.attributes.is_empty()).then_some(raw.attributes),
    };
    change
        .validate()
        .map_err(|e| row_error(row, &e.field, e.problem))?;
    let consent = raw
        .consent
        .iter()
        .map(|(scope, action)| {
            let field = format!("consent.{scope}");
            let scope = Scope::parse(scope)
                .ok_or_else(|| row_error(row, &field, "is not a scope (marketing, all)"))?;
            let action = Action::parse(action)
                .ok_or_else(|| row_error(row, &field, "must be opt_in or opt_out"))?;
            Ok((scope, action))
        })
        .collect::<Result<_, _>>()?;
    Ok(ImportRow {
        row,
        identity: UserIdentity { phone, bsuid },
        change,
        consent,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_rows_are_checked_one_by_one_and_repeats_are_rejected() {
        let body = json!({"contacts": [
            {"phone": "+49 152 0000001", "name": "Anna", "attributes": {"tier": "gold"}},
            {"phone": "not a phone"},
            {"name": "nobody"},
            {"phone": "+491520000001"},
            {"bsuid": "US.13491208655302741918", "colour": "red"},
            {"bsuid": "US.13491208655302741918", "attributes": {"tier": 3}},
            "a string",
        ]});
        let read = read_json(&body).unwrap();
        assert_eq!(read.rows.len(), 1);
        assert_eq!(read.rows[0].row, 1);
        let fields: Vec<(usize, &str)> = read
            .rejected
            .iter()
            .map(|e| (e.row, e.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (2, "phone"),
                (3, "phone"),
                (4, "phone"),
                (5, "colour"),
                (6, "attributes.tier"),
                (7, "row")
            ]
        );
        assert_eq!(read.rejected[2].message, "repeats row 1");
    }

    #[test]
    fn csv_columns_map_to_fields_and_an_unknown_column_refuses_the_file() {
        let csv = "phone,name,email,attributes.city\n\
                   4915200000001,Anna,anna@example.com,Berlin\n\
                   4915200000002,,,\n\
                   4915200000003,Bob,not-an-email,\n\
                   4915200000004,Eve,,Rome,extra\n";
        let read = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(read.rows.len(), 2);
        let anna = &read.rows[0];
        assert_eq!(anna.change.name, Some(Some("Anna".into())));
        assert_eq!(
            anna.change.attributes.as_ref().unwrap()["city"],
            "Berlin".to_owned()
        );
        assert!(read.rows[1].change.is_empty());
        let rejected: Vec<(usize, &str)> = read
            .rejected
            .iter()
            .map(|e| (e.row, e.field.as_str()))
            .collect();
        assert_eq!(rejected, [(3, "email"), (4, "row")]);

        let err = read_csv(b"phone,colour\n491520000001,red\n").unwrap_err();
        assert_eq!(err.field, "colour");
        assert!(read_csv(b"name\nAnna\n").is_err(), "no identity column");
    }

    #[test]
    fn more_rows_than_the_limit_refuse_the_request() {
        let rows: Vec<Value> = (0..=MAX_ROWS).map(|_| json!({})).collect();
        assert!(read_json(&json!({ "contacts": rows })).is_err());
        assert!(read_json(&json!({"contacts": [], "extra": 1})).is_err());
        assert!(read_json(&json!([])).is_err());
    }

    #[test]
    fn consent_columns_are_read_from_csv_and_json_and_bad_values_reject_the_row() {
        let csv = "phone,consent.marketing,consent.all\n\
                   +491520000001,opt_out,\n\
                   +491520000002,,opt_in\n\
                   +491520000003,maybe,\n";
        let read = read_csv(csv.as_bytes()).unwrap();
        let consent: Vec<_> = read.rows.iter().map(|r| r.consent.clone()).collect();
        assert_eq!(
            consent,
            [
                vec![(Scope::Marketing, Action::OptOut)],
                vec![(Scope::All, Action::OptIn)]
            ]
        );
        assert_eq!(read.rejected[0].field, "consent.marketing");
        assert!(read_csv(b"phone,consent.sms\n+491520000001,opt_out\n").is_err());

        let body = json!({"contacts": [
            {"phone": "+491520000004", "consent": {"all": "opt_out"}},
            {"phone": "+491520000005", "consent": {"sms": "opt_out"}},
            {"phone": "+491520000006", "consent": "opt_out"},
        ]});
        let read = read_json(&body).unwrap();
        assert_eq!(read.rows[0].consent, [(Scope::All, Action::OptOut)]);
        let fields: Vec<&str> = read.rejected.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["consent.sms", "consent"]);
    }
}
