//! Bulk import of contacts: rows matched by phone or BSUID update the contact they name
//! (given fields replace, as in an update); the others become new contacts, written many to
//! a transaction. Sending the same import again is safe: its rows then all match and
//! update to the same values, so an import cut short by a failure is finished by repeating
//! it.

pub mod rows;

use crate::store::ContactStore;
use crate::store::contact::ContactRecords;
use crate::store::contact::consent::ConsentRecords;
use crate::store::contact::resolve::ContactResolution;
use futures_util::StreamExt;

use crate::domain::consent::{ConsentEntry, Source};
use crate::domain::identity::IdentityKey;
use crate::domain::retention::DataClass;
use crate::domain::tenant::Tenant;
use crate::store::contact::ContactFacts;
use crate::store::contact::import::NewContact;
use crate::store::{Store, StoreError};
use rows::{ImportRow, ReadRows, RowError};

/// Rows updated (or created after a transaction found them taken) at once.
const CONCURRENT_UPDATES: usize = 8;

/// What an import did, row by row for the rejected ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    /// Rows that matched an existing contact (its details set as the row gives them).
    pub updated: usize,
    pub rejected: Vec<RowError>,
}

/// Imports `read` for `tenant`; `recorded_by` (the caller as records name it, `key:<id>`)
/// is the evidence of the consent the rows carry.
pub async fn import_contacts(
    store: &Store,
    tenant: &Tenant,
    read: ReadRows,
    recorded_by: &str,
    now: i64,
) -> Result<ImportReport, StoreError> {
    let ReadRows { rows, mut rejected } = read;
    let mut report = ImportReport {
        rows: rows.len() + rejected.len(),
        ..ImportReport::default()
    };
    let keys: Vec<IdentityKey> = rows.iter().flat_map(|r| r.identity.keys()).collect();
    let known = store
        .repo::<ContactStore>()
        .known_identities(&tenant.id, &keys, now)
        .await?;
    let (existing, new): (Vec<&ImportRow>, Vec<&ImportRow>) = rows
        .iter()
        .partition(|r| r.identity.keys().iter().any(|k| known.contains(k)));

    let contacts: Vec<NewContact<'_>> = new
        .iter()
        .map(|r| NewContact {
            identity: &r.identity,
            details: &r.change,
        })
        .collect();
    let created = store
        .repo::<ContactStore>()
        .create_contacts(&tenant.id, &contacts, &tenant.retention, now)
        .await?;
    report.created = created.iter().filter(|c| **c).count();
    // A row whose transaction found its phone or BSUID taken meanwhile is matched one by
    // one, like the rows that were known from the start.
    let one_by_one: Vec<&ImportRow> = new
        .iter()
        .zip(&created)
        .filter(|(_, created)| !**created)
        .map(|(row, _)| *row)
        .chain(existing)
        .collect();
    let upserts: Vec<_> = one_by_one
        .into_iter()
        .map(|row| upsert(store, tenant, row, now))
        .collect();
    let results: Vec<Result<RowResult, StoreError>> = futures_util::stream::iter(upserts)
        .buffer_unordered(CONCURRENT_UPDATES)
        .collect()
        .await;
    for result in results {
        match result? {
            RowResult::Created => report.created += 1,
            RowResult::Updated => report.updated += 1,
            RowResult::Gone(row) => rejected.push(RowError {
                row,
                field: "phone".into(),
                message: "its contact was erased or expired during the import".into(),
            }),
        }
    }
    // Consent last, once every row's contact exists.
    let evidence = recorded_by;
    let consents: Vec<_> = rows
        .iter()
        .filter(|r| !r.consent.is_empty())
        .map(|row| record_consent(store, tenant, row, evidence, now))
        .collect();
    let results: Vec<Result<Option<RowError>, StoreError>> = futures_util::stream::iter(consents)
        .buffer_unordered(CONCURRENT_UPDATES)
        .collect()
        .await;
    for result in results {
        rejected.extend(result?);
    }
    rejected.sort_by_key(|e| e.row);
    report.rejected = rejected;
    Ok(report)
}

/// Records a row's consent in its contact's ledger, as of the import (nothing when the
/// contact is gone meanwhile). An import cannot lift an opt-out the person gave
/// themselves: that column of the row is refused, and answered as the row's error.
async fn record_consent(
    store: &Store,
    tenant: &Tenant,
    row: &ImportRow,
    evidence: &str,
    now: i64,
) -> Result<Option<RowError>, StoreError> {
    let Some(contact) = store
        .repo::<ContactStore>()
        .find_contact(&tenant.id, &row.identity, now)
        .await?
    else {
        return Ok(None);
    };
    let expires_at = tenant.retention.expires_at(DataClass::ContactProfile, now);
    let mut state = contact.consent;
    let mut refused = None;
    for (scope, action) in &row.consent {
        let entry = ConsentEntry {
            scope: *scope,
            action: *action,
            source: Source::Import,
            evidence: Some(evidence.to_owned()),
            at: now,
            via_tenant_app: false,
        };
        if let Err(own) = state.business_may_record(&entry) {
            refused = Some(RowError {
                row: row.row,
                field: format!("consent.{}", scope.as_str()),
                message: own.to_string(),
            });
            continue;
        }
        state = store
            .repo::<ContactStore>()
            .record_consent(
                &tenant.id,
                &contact.contact_id,
                &row.identity.keys(),
                &entry,
                expires_at,
            )
            .await?
            .state;
    }
    Ok(refused)
}

enum RowResult {
    Created,
    Updated,
    Gone(usize),
}

/// Finds or creates the row's contact and sets the details it gives.
async fn upsert(
    store: &Store,
    tenant: &Tenant,
    row: &ImportRow,
    now: i64,
) -> Result<RowResult, StoreError> {
    let contact = store
        .repo::<ContactStore>()
        .resolve_contact(
            &tenant.id,
            &row.identity,
            &ContactFacts::default(),
            &tenant.retention,
            now,
        )
        .await?;
    if !row.change.is_empty()
        && store
            .repo::<ContactStore>()
            .update_contact_details(
                &tenant.id,
                &contact.profile.contact_id,
                &row.change,
                &tenant.retention,
                now,
            )
            .await?
            .is_none()
    {
        return Ok(RowResult::Gone(row.row));
    }
    Ok(if contact.created {
        RowResult::Created
    } else {
        RowResult::Updated
    })
}
