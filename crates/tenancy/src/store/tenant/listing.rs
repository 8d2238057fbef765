//! The operator's listing of tenants: a sparse GSI, `tenant-index`, whose key only tenant
//! items carry (`tlist_pk` = `TENANTS`, `tlist_sk` = the tenant id). Keys only, so a
//! tenant's frequent-enough updates (retention, credentials) write no index copy; a page
//! reads its tenants with one BatchGetItem.

use crate::store::tenant::TenantStore;
use std::collections::HashMap;

use crate::domain::tenant::{Tenant, TenantId};
use crate::store::StoreError;
use crate::store::cursor::Cursor;
use crate::store::keys::{TENANT_SK, tenant_pk};
use crate::store::table::{Item, get_s, s};
use crate::store::tenant::tenant_from_item;

pub const TENANT_INDEX: &str = "tenant-index";
/// The index partition of every tenant: there are few, and only the operator lists them.
pub const TENANT_LIST_PK: &str = "TENANTS";

/// One page of tenants, by id.
#[derive(Debug, Default)]
pub struct TenantPage {
    pub tenants: Vec<Tenant>,
    /// Where the next page starts, when more may follow.
    pub next: Option<Cursor>,
}

impl TenantStore {
    /// Up to `limit` tenants by id, after `after`.
    pub async fn list_tenants(
        &self,
        after: Option<&Cursor>,
        limit: i32,
    ) -> Result<TenantPage, StoreError> {
        let page = self
            .query("Query tenants", "tlist_pk = :p")
            .index(TENANT_INDEX)
            .value(":p", s(TENANT_LIST_PK))
            .after(after)
            .limit(limit)
            .page()
            .await?;
        let order: Vec<TenantId> = page
            .items
            .iter()
            .filter_map(|it| TenantId::parse(get_s(it, "tlist_sk")?).ok())
            .collect();
        let keys = order
            .iter()
            .map(|id| {
                HashMap::from([
                    ("pk".to_owned(), s(tenant_pk(id.as_str()))),
                    ("sk".to_owned(), s(TENANT_SK)),
                ])
            })
            .collect();
        let mut found: HashMap<String, Item> = self
            .batch_get("BatchGetItem tenants", keys, 0)
            .await?
            .into_iter()
            .filter_map(|it| Some((get_s(&it, "pk")?.to_owned(), it)))
            .collect();
        // A tenant erased between the query and the read is left out.
        let tenants = order
            .iter()
            .filter_map(|id| {
                let it = found.remove(&tenant_pk(id.as_str()))?;
                Some(tenant_from_item(id, &it))
            })
            .collect::<Result<_, _>>()?;
        Ok(TenantPage {
            tenants,
            next: page.next,
        })
    }
}
