//! UpdateItem, built once: an item module names the attributes to set, add, remove or
//! delete from a set, and the condition; the builder makes the expression, its
//! placeholders (every attribute by name, so reserved words need no care), counts the
//! cost, and tells a failed condition (an answer) from a failure (an error).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};

use super::attrs::{Item, s};
use super::{StoreError, Table, is_condition_failure};

/// One UpdateItem call in the making.
#[must_use = "an update does nothing until it is sent"]
pub struct Update<'a> {
    store: &'a Table,
    op: &'static str,
    pk: String,
    sk: String,
    sets: Vec<String>,
    removes: Vec<String>,
    adds: Vec<String>,
    deletes: Vec<String>,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Table {
    /// An update of the item at `pk`/`sk`; `op` names it in errors.
    pub fn update(&self, op: &'static str, pk: String, sk: String) -> Update<'_> {
        Update {
            store: self,
            op,
            pk,
            sk,
            sets: Vec::new(),
            removes: Vec::new(),
            adds: Vec::new(),
            deletes: Vec::new(),
            condition: None,
            names: HashMap::new(),
            values: HashMap::new(),
        }
    }

    /// Applies `expression` to an existing item; false (nothing written) when there is none.
    pub async fn update_if_exists<const N: usize>(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
        expression: &str,
        values: [(&str, AttributeValue); N],
    ) -> Result<bool, StoreError> {
        let sets = expression.trim().strip_prefix("SET ").ok_or_else(|| {
            StoreError::corrupt(op, "update_if_exists takes a SET expression only")
        })?;
        let mut update = self
            .update(op, pk, sk)
            .set_expression(sets)
            .condition("attribute_exists(pk)");
        for (placeholder, value) in values {
            update = update.value(placeholder, value);
        }
        update.send().await
    }

    /// As [`Self::update_if_exists`], for items that must exist: a missing one is an error.
    pub async fn update_existing<const N: usize>(
        &self,
        op: &'static str,
        pk: String,
        sk: String,
        expression: &str,
        values: [(&str, AttributeValue); N],
    ) -> Result<(), StoreError> {
        let key = format!("{pk}/{sk}");
        if self
            .update_if_exists(op, pk, sk, expression, values)
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                key,
                problem: "the item to update does not exist".into(),
            })
        }
    }
}

impl Update<'_> {
    /// `SET attribute = value`.
    pub fn set(mut self, attribute: &str, value: AttributeValue) -> Self {
        let (name, placeholder) = self.bind(attribute, value);
        self.sets.push(format!("{name} = {placeholder}"));
        self
    }

    /// `SET attribute = value` unless it has a value already (a first time kept).
    pub fn set_if_absent(mut self, attribute: &str, value: AttributeValue) -> Self {
        let (name, placeholder) = self.bind(attribute, value);
        self.sets
            .push(format!("{name} = if_not_exists({name}, {placeholder})"));
        self
    }

    /// `SET` the attribute when `value` is `Some`, `REMOVE` it when `None`.
    pub fn set_or_remove(self, attribute: &str, value: Option<AttributeValue>) -> Self {
        match value {
            Some(value) => self.set(attribute, value),
            None => self.remove(attribute),
        }
    }

    pub fn remove(mut self, attribute: &str) -> Self {
        let name = self.name_of(attribute);
        self.removes.push(name);
        self
    }

    /// `ADD attribute value`: a number added, or elements added to a set.
    pub fn add(mut self, attribute: &str, value: AttributeValue) -> Self {
        let (name, placeholder) = self.bind(attribute, value);
        self.adds.push(format!("{name} {placeholder}"));
        self
    }

    /// `DELETE attribute value`: elements taken out of a set.
    pub fn delete(mut self, attribute: &str, value: AttributeValue) -> Self {
        let (name, placeholder) = self.bind(attribute, value);
        self.deletes.push(format!("{name} {placeholder}"));
        self
    }

    /// `SET` clauses written by hand, for what the methods above cannot say
    /// (`if_not_exists` over another attribute, arithmetic); their placeholders come
    /// through [`Self::value`].
    pub fn set_expression(mut self, clauses: &str) -> Self {
        self.sets.push(clauses.to_owned());
        self
    }

    /// Only if `condition` holds; its placeholders come through [`Self::value`] and
    /// [`Self::name`]. Attributes set through this builder are named `#a<n>` in order.
    pub fn condition(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    /// The update as one action of a transaction.
    pub fn into_action(self) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.store.table)
            .key("pk", s(&self.pk))
            .key("sk", s(&self.sk))
            .update_expression(self.expression())
            .set_condition_expression(self.condition.clone())
            .set_expression_attribute_names((!self.names.is_empty()).then_some(self.names))
            .set_expression_attribute_values((!self.values.is_empty()).then_some(self.values))
            .build()
            .map_err(|e| StoreError::dynamo(self.op, e))?;
        Ok(aws_sdk_dynamodb::types::TransactWriteItem::builder()
            .update(update)
            .build())
    }

    /// Writes; false when the condition did not hold (nothing was written).
    pub async fn send(self) -> Result<bool, StoreError> {
        Ok(self.send_returning(ReturnValue::None).await?.is_some())
    }

    /// Writes and answers the item's attributes as `returning` says (all of them, or the
    /// updated ones); `None` when the condition did not hold.
    pub async fn send_returning(self, returning: ReturnValue) -> Result<Option<Item>, StoreError> {
        let store = self.store;
        let op = self.op;
        let mut request = store
            .client
            .update_item()
            .table_name(&store.table)
            .key("pk", s(&self.pk))
            .key("sk", s(&self.sk))
            .update_expression(self.expression())
            .set_condition_expression(self.condition)
            .return_values(returning)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if !self.names.is_empty() {
            request = request.set_expression_attribute_names(Some(self.names));
        }
        if !self.values.is_empty() {
            request = request.set_expression_attribute_values(Some(self.values));
        }
        match super::timed(&store.metrics, op, request.send()).await {
            Ok(out) => {
                store.count_write(op, out.consumed_capacity());
                Ok(Some(out.attributes.unwrap_or_default()))
            }
            Err(e) if is_condition_failure(&e) => {
                store.count_write(op, None);
                Ok(None)
            }
            Err(e) => Err(StoreError::dynamo(op, e)),
        }
    }

    fn expression(&self) -> String {
        let mut clauses = Vec::new();
        if !self.sets.is_empty() {
            clauses.push(format!("SET {}", self.sets.join(", ")));
        }
        if !self.removes.is_empty() {
            clauses.push(format!("REMOVE {}", self.removes.join(", ")));
        }
        if !self.adds.is_empty() {
            clauses.push(format!("ADD {}", self.adds.join(", ")));
        }
        if !self.deletes.is_empty() {
            clauses.push(format!("DELETE {}", self.deletes.join(", ")));
        }
        clauses.join(" ")
    }

    /// The placeholders of an attribute and its value.
    fn bind(&mut self, attribute: &str, value: AttributeValue) -> (String, String) {
        let name = self.name_of(attribute);
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        (name, placeholder)
    }

    fn name_of(&mut self, attribute: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| *a == attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#a{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::attrs::n;

    fn store() -> Table {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        Table::new(
            aws_sdk_dynamodb::Client::from_conf(config),
            "t",
            std::sync::Arc::default(),
        )
    }

    #[test]
    fn clauses_come_in_order_with_every_attribute_named() {
        let store = store();
        let update = store
            .update("op", "pk".into(), "sk".into())
            .set("status", s("read"))
            .set_if_absent("at_read", n(5))
            .remove("error_code")
            .add("hits", n(1))
            .delete("numbers", AttributeValue::Ss(vec!["1".into()]))
            .condition("attribute_exists(pk)");
        assert_eq!(
            update.expression(),
            "SET #a0 = :v0, #a1 = if_not_exists(#a1, :v1) REMOVE #a2 ADD #a3 :v2 DELETE #a4 :v3"
        );
        assert_eq!(update.names["#a0"], "status");
        assert_eq!(update.names["#a4"], "numbers");
        assert_eq!(update.values.len(), 4);
    }

    #[test]
    fn an_attribute_named_twice_keeps_one_placeholder() {
        let store = store();
        let update = store
            .update("op", "pk".into(), "sk".into())
            .set("a", n(1))
            .set_or_remove("a", None)
            .set_expression("c = c + :one")
            .value(":one", n(1));
        assert_eq!(
            update.expression(),
            "SET #a0 = :v0, c = c + :one REMOVE #a0"
        );
        assert_eq!(update.names.len(), 1);
    }
}
