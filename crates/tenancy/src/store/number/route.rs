//! Routes from Meta's ids to tenants. Each phone number id and each WABA id has one route
//! item with one owner; connecting a number writes its number, its number route and its
//! WABA route in one transaction, each route only if it is free or already the tenant's,
//! so two tenants can never hold the same number or WABA, whatever the timing. The webhook
//! reads a route with one GetItem.
//!
//! A WABA's route also holds the ids of its connected numbers (a set: connecting again adds
//! nothing), so it goes when its last number does. The operator may share a WABA: its route
//! then names the tenants that may connect its numbers besides the owner, and stays until
//! the operator changes it; WABA-level events (templates, account, quality) go to the owner.
//!
//! Numbers connected before route items existed carry a `route_pk` on their own item and
//! are found through `route-index` when their route item is missing.

use crate::store::number::NumberStore;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Put, ReturnValue, TransactWriteItem, Update,
};

use crate::domain::tenant::WabaRoute;
use crate::store::StoreError;
use crate::store::Transacted;
use crate::store::keys::{
    ROUTE_SK, TENANT_SK, number_route_pk, number_sk, tenant_pk, waba_route_pk, waba_sk,
};
use crate::store::number::number_item;
use crate::store::table::{Item, get_s, item, s};

/// The index that finds a tenant from a phone number id or a WABA id, for numbers
/// connected before route items existed.
pub const ROUTE_INDEX: &str = "route-index";
use crate::domain::tenant::{PhoneNumber, TenantId};

/// What became of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connected {
    /// The number is the tenant's now, with its WABA.
    Done,
    /// Another tenant holds the phone number id.
    NumberTaken,
    /// Another tenant holds the WABA, and the operator has not shared it with this one.
    WabaTaken,
    /// The tenant does not exist, or is being deleted.
    TenantGone,
}

impl NumberStore {
    /// Stores the tenant's number with its routes, in one transaction: the number route and
    /// the WABA route must be free or already this tenant's (a shared WABA: open to it).
    pub async fn connect_phone_number(
        &self,
        number: &PhoneNumber,
    ) -> Result<Connected, StoreError> {
        let tenant = number.tenant_id.as_str();
        let op = "TransactWriteItems connect number";
        let built = |e: aws_sdk_dynamodb::error::BuildError| StoreError::dynamo(op, e);
        let tenant_alive = ConditionCheck::builder()
            .table_name(self.table_name())
            .key("pk", s(tenant_pk(tenant)))
            .key("sk", s(TENANT_SK))
            .condition_expression("attribute_exists(pk) AND #status <> :deleting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":deleting", s("deleting"))
            .build()
            .map_err(built)?;
        let number_route = Put::builder()
            .table_name(self.table_name())
            .set_item(Some(item([
                ("pk", s(number_route_pk(&number.phone_number_id))),
                ("sk", s(ROUTE_SK)),
                ("tenant_id", s(tenant)),
                ("phone_number_id", s(&number.phone_number_id)),
                ("waba_id", s(&number.waba_id)),
            ])))
            .condition_expression("attribute_not_exists(pk) OR tenant_id = :t")
            .expression_attribute_values(":t", s(tenant))
            .build()
            .map_err(built)?;
        let waba_route = Update::builder()
            .table_name(self.table_name())
            .key("pk", s(waba_route_pk(&number.waba_id)))
            .key("sk", s(ROUTE_SK))
            .update_expression(
                "SET tenant_id = if_not_exists(tenant_id, :t), waba_id = :w ADD numbers :n",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR tenant_id = :t OR contains(shared_with, :t)",
            )
            .expression_attribute_values(":t", s(tenant))
            .expression_attribute_values(":w", s(&number.waba_id))
            .expression_attribute_values(
                ":n",
                AttributeValue::Ss(vec![number.phone_number_id.clone()]),
            )
            .build()
            .map_err(built)?;
        let number_item = Put::builder()
            .table_name(self.table_name())
            .set_item(Some(number_item(number)))
            .build()
            .map_err(built)?;
        let items = vec![
            TransactWriteItem::builder()
                .condition_check(tenant_alive)
                .build(),
            TransactWriteItem::builder().put(number_route).build(),
            TransactWriteItem::builder().update(waba_route).build(),
            TransactWriteItem::builder().put(number_item).build(),
        ];
        let failed_conditions = match self.transact(op, items).await? {
            Transacted::Written => return Ok(Connected::Done),
            Transacted::Cancelled { failed_conditions } => failed_conditions,
        };
        let failed = |i: usize| failed_conditions.get(i).copied().unwrap_or(false);
        Ok(if failed(0) {
            Connected::TenantGone
        } else if failed(1) {
            Connected::NumberTaken
        } else if failed(2) {
            Connected::WabaTaken
        } else {
            // Cancelled by a conflicting transaction: a passing failure; the caller may
            // try again.
            return Err(StoreError::Dynamo {
                op,
                source: "the transaction was cancelled by a conflicting one".into(),
            });
        })
    }

    /// Frees what a removed number held: its route (only the tenant's own) and its place in
    /// its WABA's route, which goes with its last number unless the operator shared it.
    pub async fn release_number_routes(
        &self,
        tenant: &TenantId,
        phone_number_id: &str,
        waba_id: &str,
    ) -> Result<(), StoreError> {
        self.delete_if(
            "DeleteItem number route",
            (number_route_pk(phone_number_id), ROUTE_SK.into()),
            "tenant_id = :t",
            &[],
            &[(":t", s(tenant.as_str()))],
        )
        .await?;
        self.release_from_waba(waba_id, phone_number_id).await
    }

    /// Takes a number out of its WABA's route; deletes the route when no number is left and
    /// the operator did not share it.
    pub(crate) async fn release_from_waba(
        &self,
        waba_id: &str,
        phone_number_id: &str,
    ) -> Result<(), StoreError> {
        let left = self
            .update(
                "UpdateItem WABA route",
                waba_route_pk(waba_id),
                ROUTE_SK.into(),
            )
            .delete("numbers", AttributeValue::Ss(vec![phone_number_id.into()]))
            .condition("attribute_exists(pk)")
            .send_returning(ReturnValue::AllNew)
            .await?;
        // No route (released already): nothing to do.
        let Some(left) = left else {
            return Ok(());
        };
        if left.contains_key("numbers") || left.contains_key("shared_with") {
            return Ok(());
        }
        // A number connected meanwhile keeps the route: the condition sees its id.
        self.delete_if(
            "DeleteItem WABA route",
            (waba_route_pk(waba_id), ROUTE_SK.into()),
            "attribute_not_exists(numbers) AND attribute_not_exists(shared_with)",
            &[],
            &[],
        )
        .await?;
        Ok(())
    }

    /// The tenant a phone number id routes to, if any.
    pub async fn tenant_for_phone_number(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<TenantId>, StoreError> {
        match self.route_item(number_route_pk(phone_number_id)).await? {
            Some(it) => owner(&it).map(Some),
            None => self.legacy_route(number_sk(phone_number_id)).await,
        }
    }

    /// The tenant a WABA's own events route to (its owner), if any.
    pub async fn tenant_for_waba(&self, waba_id: &str) -> Result<Option<TenantId>, StoreError> {
        match self.waba_route(waba_id).await? {
            Some(route) => Ok(Some(route.owner)),
            None => self.legacy_route(waba_sk(waba_id)).await,
        }
    }

    /// A WABA's route, when a number of it is connected or the operator shared it.
    pub async fn waba_route(&self, waba_id: &str) -> Result<Option<WabaRoute>, StoreError> {
        let Some(it) = self.route_item(waba_route_pk(waba_id)).await? else {
            return Ok(None);
        };
        let tenants = |name: &str| -> Result<Vec<TenantId>, StoreError> {
            match it.get(name) {
                Some(AttributeValue::Ss(set)) => set
                    .iter()
                    .map(|t| {
                        TenantId::parse(t).map_err(|e| StoreError::corrupt(waba_id, &e.to_string()))
                    })
                    .collect(),
                _ => Ok(Vec::new()),
            }
        };
        let connected_numbers = match it.get("numbers") {
            Some(AttributeValue::Ss(set)) => set.len(),
            _ => 0,
        };
        Ok(Some(WabaRoute {
            waba_id: waba_id.to_owned(),
            owner: owner(&it)?,
            shared_with: tenants("shared_with")?,
            connected_numbers,
        }))
    }

    /// Sets who holds a WABA, as the operator decides: `owner` gets its events, the
    /// `shared_with` tenants may connect its numbers too. An empty list unshares it.
    pub async fn share_waba(
        &self,
        waba_id: &str,
        owner: &TenantId,
        shared_with: &[TenantId],
    ) -> Result<(), StoreError> {
        // A string set may not be empty: no tenant to share with removes the attribute.
        let shared = (!shared_with.is_empty())
            .then(|| AttributeValue::Ss(shared_with.iter().map(|t| t.to_string()).collect()));
        self.update(
            "UpdateItem WABA sharing",
            waba_route_pk(waba_id),
            ROUTE_SK.into(),
        )
        .set("tenant_id", s(owner.as_str()))
        .set("waba_id", s(waba_id))
        .set_or_remove("shared_with", shared)
        .send()
        .await?;
        Ok(())
    }

    /// Who holds a number and a WABA through the index, for numbers connected before route
    /// items existed.
    pub async fn legacy_holders(
        &self,
        phone_number_id: &str,
        waba_id: &str,
    ) -> Result<(Option<TenantId>, Option<TenantId>), StoreError> {
        Ok((
            self.legacy_route(number_sk(phone_number_id)).await?,
            self.legacy_route(waba_sk(waba_id)).await?,
        ))
    }

    async fn route_item(&self, pk: String) -> Result<Option<Item>, StoreError> {
        self.get(pk, ROUTE_SK.into()).await
    }

    /// A route of a number or WABA connected before route items existed.
    async fn legacy_route(&self, route_key: String) -> Result<Option<TenantId>, StoreError> {
        let page = self
            .query("Query route-index", "route_pk = :r")
            .index(ROUTE_INDEX)
            .value(":r", s(&route_key))
            .limit(1)
            .page()
            .await?;
        page.items.first().map(owner).transpose()
    }
}

fn owner(it: &Item) -> Result<TenantId, StoreError> {
    let key = get_s(it, "pk").unwrap_or("route");
    let tenant = get_s(it, "tenant_id").ok_or_else(|| StoreError::corrupt(key, "no tenant_id"))?;
    TenantId::parse(tenant).map_err(|e| StoreError::corrupt(key, &e.to_string()))
}
