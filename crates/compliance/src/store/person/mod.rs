//! A person's erasure in the table: its record (`record`), finding and deleting everything
//! about them (`sweep`), and the records of their exports (`export`). The tombstones of
//! their identifiers are the contacts' (`contact::tombstone`): every path that makes a
//! contact checks them.

pub mod export;
pub mod record;
pub mod sweep;

pub use sweep::{Opening, PersonFootprint, SweepStep};

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::erasure::RequestState;
use crate::domain::tenant::TenantId;
use crate::store::keys::tenant_pk;
use crate::store::table::cursor::Cursor;
use crate::store::table::{Item, get_s, n, s};
use crate::store::{StoreError, is_live};

crate::store::repository! {
    /// A person's erasure in the data table: its record, the tombstones of their identifiers, the sweep of their items and the records of their exports.
    PersonStore
}

/// How a page of a person's requests is read: the records under `prefix` in the tenant's
/// partition (erasures or exports), and how one is made from its item.
pub(crate) struct RequestPage<T> {
    pub op: &'static str,
    pub prefix: String,
    pub parse: fn(&TenantId, &str, &Item) -> Result<T, StoreError>,
}

impl PersonStore {
    /// A page of the tenant's requests of one kind, newest first (their ids begin with
    /// their time); expired records are left out.
    pub(crate) async fn requests_page<T>(
        &self,
        tenant: &TenantId,
        kind: RequestPage<T>,
        (limit, after): (i32, Option<&Cursor>),
        now: i64,
    ) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
        let page = self
            .query(kind.op, "pk = :pk AND begins_with(sk, :prefix)")
            .value(":pk", s(tenant_pk(tenant.as_str())))
            .value(":prefix", s(kind.prefix.clone()))
            .backwards()
            .limit(limit)
            .after(after)
            .page()
            .await?;
        let mut requests = Vec::with_capacity(page.items.len());
        for it in page.items.iter().filter(|it| is_live(it, now)) {
            let Some(id) = get_s(it, "sk").and_then(|sk| sk.strip_prefix(kind.prefix.as_str()))
            else {
                continue;
            };
            requests.push((kind.parse)(tenant, id, it)?);
        }
        Ok((requests, page.next))
    }

    /// Settles a person's request (an erasure's or an export's record, `sk` under the
    /// tenant) as `state` at `at`, with `more` attributes, only while it is running; false
    /// when it no longer was.
    pub(crate) async fn settle_request(
        &self,
        op: &'static str,
        (tenant, sk): (&TenantId, String),
        (state, at): (RequestState, i64),
        more: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut update = self
            .update(op, tenant_pk(tenant.as_str()), sk)
            .set("state", s(state.as_str()))
            .set("finished_at", n(at));
        for (attribute, value) in more {
            update = update.set(attribute, value);
        }
        update
            .condition("#state = :running")
            .name("#state", "state")
            .value(":running", s(RequestState::Running.as_str()))
            .send()
            .await
    }
}
