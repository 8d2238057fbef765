//! The record of a person's export (`T#<t>` / `EXPORT#<id>`): its state, what it holds
//! and which contacts it was about (so that erasing them deletes it too). It names no
//! person: the document itself lives in the bucket.

use crate::store::person::{PersonStore, RequestPage};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::erasure::RequestState;
use crate::domain::export::{EXPORT_SECS, PersonExport};
use crate::domain::tenant::TenantId;
use crate::store::keys::{export_sk, tenant_pk};
use crate::store::table::cursor::Cursor;
use crate::store::table::{Item, bool_attr, get_bool, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, PutOutcome, StoreError, is_live};

/// An export's record, as [`PersonStore::exports_about`] finds it for an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFiles {
    pub id: String,
    /// The object keys of its files in the bucket.
    pub objects: Vec<String>,
    /// An erasure of its person marked it already.
    pub erased: bool,
}

impl PersonStore {
    pub async fn put_new_export(
        &self,
        export: &PersonExport,
        contacts: &[String],
        blinded: &[String],
    ) -> Result<PutOutcome, StoreError> {
        let mut it = item([
            ("pk", s(tenant_pk(&export.tenant_id))),
            ("sk", s(export_sk(&export.id))),
            ("state", s(export.state.as_str())),
            ("requested_by", s(&export.requested_by)),
            ("requested_at", n(export.requested_at)),
            ("csv", bool_attr(export.csv)),
            (EXPIRES_AT, n(export.requested_at + EXPORT_SECS)),
        ]);
        if !contacts.is_empty() {
            it.insert("contacts".into(), AttributeValue::Ss(contacts.to_vec()));
        }
        // The blind indexes of the identifiers it was asked for: an erasure finds by them
        // the export of someone who was never a contact (known from events only).
        if !blinded.is_empty() {
            it.insert(ID_HASHES.into(), AttributeValue::Ss(blinded.to_vec()));
        }
        self.put_new("PutItem export", it).await
    }

    /// The export, read consistently, with the object keys of its files when done.
    pub async fn export(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> Result<Option<(PersonExport, Vec<String>)>, StoreError> {
        let found = self
            .get_consistent(tenant_pk(tenant.as_str()), export_sk(id))
            .await?;
        found
            .filter(|it| is_live(it, now))
            .map(|it| Ok((export_from_item(tenant, id, &it)?, objects_of(&it))))
            .transpose()
    }

    /// A page of the tenant's exports, newest first (their ids begin with their time),
    /// without links: the register of requests a data protection officer keeps.
    pub async fn exports_page(
        &self,
        tenant: &TenantId,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<(Vec<PersonExport>, Option<Cursor>), StoreError> {
        let exports = RequestPage {
            op: "Query exports",
            prefix: export_sk(""),
            parse: export_from_item,
        };
        self.requests_page(tenant, exports, (limit, after), now)
            .await
    }

    /// Marks a running export done with what it holds and where.
    pub async fn finish_export(
        &self,
        tenant: &TenantId,
        id: &str,
        done: &FinishedExport<'_>,
    ) -> Result<bool, StoreError> {
        let objects = AttributeValue::L(done.objects.iter().map(s).collect());
        self.settle_request(
            "UpdateItem export done",
            (tenant, export_sk(id)),
            (RequestState::Done, done.at),
            vec![
                ("n_contacts", n(done.contacts)),
                ("n_messages", n(done.messages)),
                ("objects", objects),
            ],
        )
        .await
    }

    pub async fn fail_export(
        &self,
        tenant: &TenantId,
        id: &str,
        reason: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        self.settle_request(
            "UpdateItem export failed",
            (tenant, export_sk(id)),
            (RequestState::Failed, at),
            vec![("failure", s(reason))],
        )
        .await
    }

    /// The tenant's exports about any of `contacts` or of the identifiers `blinded`, with
    /// their files: an erasure of the person deletes them.
    pub async fn exports_about(
        &self,
        tenant: &TenantId,
        (contacts, blinded): (&[String], &[String]),
    ) -> Result<Vec<ExportFiles>, StoreError> {
        let items = self
            .query_prefix("Query exports", tenant_pk(tenant.as_str()), "EXPORT#")
            .await?;
        let names = |it: &Item, attribute: &str, wanted: &[String]| {
            it.get(attribute)
                .and_then(|c| c.as_ss().ok())
                .is_some_and(|ids| ids.iter().any(|id| wanted.contains(id)))
        };
        Ok(items
            .iter()
            .filter(|it| names(it, "contacts", contacts) || names(it, ID_HASHES, blinded))
            .filter_map(|it| {
                let id = get_s(it, "sk")?.strip_prefix("EXPORT#")?.to_owned();
                Some(ExportFiles {
                    id,
                    objects: objects_of(it),
                    erased: get_s(it, "failure") == Some(ERASED_WITH_ITS_PERSON),
                })
            })
            .collect())
    }

    /// Marks the export erased with its person, whatever its state: a job still writing it
    /// finds it no longer running and deletes what it wrote, and the erasure's final pass
    /// finds it again. Its files' list goes.
    pub async fn mark_export_erased(
        &self,
        tenant: &TenantId,
        id: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.update(
            "UpdateItem export erased",
            tenant_pk(tenant.as_str()),
            export_sk(id),
        )
        .set("state", s(RequestState::Failed.as_str()))
        .set("finished_at", n(at))
        .set("failure", s(ERASED_WITH_ITS_PERSON))
        .remove("objects")
        .condition("attribute_exists(pk)")
        .send()
        .await
        .map(|_| ())
    }

    pub async fn delete_export(&self, tenant: &TenantId, id: &str) -> Result<(), StoreError> {
        self.delete_item(
            "DeleteItem export",
            tenant_pk(tenant.as_str()),
            export_sk(id),
        )
        .await
    }
}

const ID_HASHES: &str = "id_hashes";

/// The failure of an export whose person was erased.
pub const ERASED_WITH_ITS_PERSON: &str = "its person was erased";

/// What a finished export holds and where.
pub struct FinishedExport<'a> {
    pub at: i64,
    pub contacts: u64,
    pub messages: u64,
    pub objects: &'a [String],
}

fn objects_of(it: &Item) -> Vec<String> {
    it.get("objects")
        .and_then(|o| o.as_l().ok())
        .map(|list| list.iter().filter_map(|v| v.as_s().ok().cloned()).collect())
        .unwrap_or_default()
}

fn export_from_item(tenant: &TenantId, id: &str, it: &Item) -> Result<PersonExport, StoreError> {
    let state = get_s(it, "state")
        .and_then(RequestState::parse)
        .ok_or_else(|| StoreError::corrupt(&export_sk(id), "no state"))?;
    let requested_at = get_i64(it, "requested_at").unwrap_or(0);
    Ok(PersonExport {
        id: id.to_owned(),
        tenant_id: tenant.as_str().to_owned(),
        state,
        requested_by: get_s(it, "requested_by").unwrap_or_default().to_owned(),
        requested_at,
        finished_at: get_i64(it, "finished_at"),
        csv: get_bool(it, "csv").unwrap_or(false),
        contacts: get_i64(it, "n_contacts").unwrap_or(0).max(0) as u64,
        messages: get_i64(it, "n_messages").unwrap_or(0).max(0) as u64,
        expires_at: get_i64(it, EXPIRES_AT).unwrap_or(requested_at + EXPORT_SECS),
        failure: get_s(it, "failure").map(str::to_owned),
        download_url: None,
        csv_url: None,
        download_expires_at: None,
    })
}
