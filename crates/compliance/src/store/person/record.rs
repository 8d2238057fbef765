//! The record of a person's erasure (`T#<t>` / `ERASURE#<id>`): its state, what it has
//! deleted so far by class, and its signed receipt once done. It names no person.

use crate::domain::erasure::{
    ERASED_CLASSES, ERASURE_RECORD_SECS, ErasedCounts, PersonErasure, RequestState, SignedReceipt,
};
use crate::domain::tenant::TenantId;
use crate::store::keys::{erasure_sk, tenant_pk};
use crate::store::person::{PersonStore, RequestPage};
use crate::store::table::cursor::Cursor;
use crate::store::table::{Item, get_i64, get_s, item, n, s};
use crate::store::{EXPIRES_AT, PutOutcome, StoreError, is_live};

/// A class's count on the record: `n_messages`, ...
fn count_attribute(class: &str) -> String {
    format!("n_{class}")
}

impl PersonStore {
    /// Records a new erasure as running, with nothing deleted yet.
    pub async fn put_new_erasure(&self, erasure: &PersonErasure) -> Result<PutOutcome, StoreError> {
        let mut it = item([
            ("pk", s(tenant_pk(&erasure.tenant_id))),
            ("sk", s(erasure_sk(&erasure.id))),
            ("state", s(erasure.state.as_str())),
            ("requested_by", s(&erasure.requested_by)),
            ("requested_at", n(erasure.requested_at)),
            ("tombstone_expires_at", n(erasure.tombstone_expires_at)),
            (EXPIRES_AT, n(erasure.requested_at + ERASURE_RECORD_SECS)),
        ]);
        for class in ERASED_CLASSES {
            it.insert(count_attribute(class), n(0));
        }
        if let Some(subject) = &erasure.subject {
            it.insert("subject".into(), s(subject));
        }
        self.put_new("PutItem erasure", it).await
    }

    /// Notes when a running erasure's final pass is due.
    pub async fn await_final_pass(
        &self,
        tenant: &TenantId,
        id: &str,
        due: i64,
    ) -> Result<(), StoreError> {
        self.update(
            "UpdateItem erasure final pass",
            tenant_pk(tenant.as_str()),
            erasure_sk(id),
        )
        .set("final_pass_due_at", n(due))
        .condition("attribute_exists(pk) AND #state = :running")
        .name("#state", "state")
        .value(":running", s(RequestState::Running.as_str()))
        .send()
        .await?;
        Ok(())
    }

    /// The erasure, read consistently; `None` for an unknown id (or another tenant's).
    pub async fn erasure(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> Result<Option<PersonErasure>, StoreError> {
        let found = self
            .get_consistent(tenant_pk(tenant.as_str()), erasure_sk(id))
            .await?;
        found
            .filter(|it| is_live(it, now))
            .map(|it| erasure_from_item(tenant, id, &it))
            .transpose()
    }

    /// A page of the tenant's erasures, newest first (their ids begin with their time):
    /// the register of requests a data protection officer keeps.
    pub async fn erasures_page(
        &self,
        tenant: &TenantId,
        limit: i32,
        after: Option<&Cursor>,
        now: i64,
    ) -> Result<(Vec<PersonErasure>, Option<Cursor>), StoreError> {
        let erasures = RequestPage {
            op: "Query erasures",
            prefix: erasure_sk(""),
            parse: erasure_from_item,
        };
        self.requests_page(tenant, erasures, (limit, after), now)
            .await
    }

    /// Adds what a step deleted to a running erasure's counts.
    pub async fn add_erased(
        &self,
        tenant: &TenantId,
        id: &str,
        erased: &ErasedCounts,
    ) -> Result<(), StoreError> {
        if erased.total() == 0 {
            return Ok(());
        }
        let mut update = self.update(
            "UpdateItem erasure counts",
            tenant_pk(tenant.as_str()),
            erasure_sk(id),
        );
        for class in ERASED_CLASSES {
            let count = erased.get(class);
            if count > 0 {
                update = update.add(&count_attribute(class), n(count));
            }
        }
        update.condition("attribute_exists(pk)").send().await?;
        Ok(())
    }

    /// Marks a running erasure done with its receipt; false when it was not running.
    pub async fn finish_erasure(
        &self,
        tenant: &TenantId,
        id: &str,
        receipt: &SignedReceipt,
    ) -> Result<bool, StoreError> {
        let receipt_json = serde_json::to_string(receipt).expect("a receipt always serialises");
        self.settle_request(
            "UpdateItem erasure done",
            (tenant, erasure_sk(id)),
            (RequestState::Done, receipt.receipt.completed_at),
            vec![("receipt", s(receipt_json))],
        )
        .await
    }

    /// Marks a running erasure failed; `reason` says why for the operator and names no
    /// person.
    pub async fn fail_erasure(
        &self,
        tenant: &TenantId,
        id: &str,
        reason: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        self.settle_request(
            "UpdateItem erasure failed",
            (tenant, erasure_sk(id)),
            (RequestState::Failed, at),
            vec![("failure", s(reason))],
        )
        .await
    }
}

fn erasure_from_item(tenant: &TenantId, id: &str, it: &Item) -> Result<PersonErasure, StoreError> {
    let corrupt = |problem: &str| StoreError::corrupt(&erasure_sk(id), problem);
    let state = get_s(it, "state")
        .and_then(RequestState::parse)
        .ok_or_else(|| corrupt("no state"))?;
    let mut erased = ErasedCounts::default();
    for class in ERASED_CLASSES {
        if let (Some(count), Some(value)) =
            (erased.get_mut(class), get_i64(it, &count_attribute(class)))
        {
            *count = value.max(0) as u64;
        }
    }
    let receipt = get_s(it, "receipt")
        .map(serde_json::from_str::<SignedReceipt>)
        .transpose()
        .map_err(|_| corrupt("the receipt does not parse"))?;
    Ok(PersonErasure {
        id: id.to_owned(),
        tenant_id: tenant.as_str().to_owned(),
        state,
        requested_by: get_s(it, "requested_by").unwrap_or_default().to_owned(),
        requested_at: get_i64(it, "requested_at").unwrap_or(0),
        finished_at: get_i64(it, "finished_at"),
        erased,
        tombstone_expires_at: get_i64(it, "tombstone_expires_at").unwrap_or(0),
        failure: get_s(it, "failure").map(str::to_owned),
        subject: get_s(it, "subject").map(str::to_owned),
        final_pass_due_at: get_i64(it, "final_pass_due_at")
            .filter(|_| state == RequestState::Running),
        receipt,
    })
}
