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
use crate::store::StoreError;
use crate::store::keys::tenant_pk;
use crate::store::table::{n, s};

crate::store::repository! {
    /// A person's erasure in the data table: its record, the tombstones of their identifiers, the sweep of their items and the records of their exports.
    PersonStore
}

impl PersonStore {
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
