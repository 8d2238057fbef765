//! Every item of one partition whose sort key starts with a prefix (an empty one: every
//! item), over all pages: the tenant's numbers, keys, callback endpoints and templates are
//! read this way.

use super::attrs::{Item, s};
use super::{StoreError, Table};

impl Table {
    pub async fn query_prefix(
        &self,
        op: &'static str,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        // DynamoDB refuses a value the expression does not use.
        if prefix.is_empty() {
            self.query(op, "pk = :pk").value(":pk", s(pk)).all().await
        } else {
            self.query(op, "pk = :pk AND begins_with(sk, :prefix)")
                .value(":pk", s(pk))
                .value(":prefix", s(prefix))
                .all()
                .await
        }
    }
}
