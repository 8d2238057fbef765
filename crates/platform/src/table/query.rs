//! Query, built once: an item module gives the key condition, the index, a filter and
//! their placeholders; the builder pages, counts the cost and hands back a [`Cursor`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::attrs::Item;
use super::cursor::Cursor;
use super::{StoreError, Table};

/// One Query in the making.
#[must_use = "a query reads nothing until it is sent"]
pub struct Query<'a> {
    store: &'a Table,
    op: &'static str,
    index: Option<&'static str>,
    key_condition: String,
    filter: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    forward: bool,
    limit: Option<i32>,
    start: Option<Item>,
    consistent: bool,
}

/// One page of a query: the items DynamoDB returned and where the next page starts.
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Cursor>,
}

impl Table {
    /// A query of the table (or of an index, with [`Query::index`]); `op` names it in
    /// errors.
    pub fn query(&self, op: &'static str, key_condition: impl Into<String>) -> Query<'_> {
        Query {
            store: self,
            op,
            index: None,
            key_condition: key_condition.into(),
            filter: None,
            names: HashMap::new(),
            values: HashMap::new(),
            forward: true,
            limit: None,
            start: None,
            consistent: false,
        }
    }
}

impl Query<'_> {
    pub fn index(mut self, index: &'static str) -> Self {
        self.index = Some(index);
        self
    }

    /// Items the key condition finds but `filter` refuses are read (and paid for), not
    /// returned.
    pub fn filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Newest (highest sort key) first.
    /// A placeholder for an attribute name the filter uses (a reserved word, say).
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    pub fn backwards(mut self) -> Self {
        self.forward = false;
        self
    }

    /// At most `limit` items read per page.
    pub fn limit(mut self, limit: i32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts after a cursor an earlier page gave.
    pub fn after(mut self, cursor: Option<&Cursor>) -> Self {
        self.start = Cursor::start_key(cursor);
        self
    }

    /// Strongly consistent (the table only; indexes cannot be).
    pub fn consistent(mut self) -> Self {
        self.consistent = true;
        self
    }

    /// One page.
    pub async fn page(&self) -> Result<Page, StoreError> {
        let store = self.store;
        let mut request = store
            .client
            .query()
            .table_name(&store.table)
            .set_index_name(self.index.map(str::to_owned))
            .key_condition_expression(&self.key_condition)
            .set_filter_expression(self.filter.clone())
            .set_expression_attribute_values(Some(self.values.clone()))
            .set_exclusive_start_key(self.start.clone())
            .scan_index_forward(self.forward)
            .set_limit(self.limit)
            .consistent_read(self.consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if !self.names.is_empty() {
            request = request.set_expression_attribute_names(Some(self.names.clone()));
        }
        let call = request.send();
        let out = super::timed(&store.metrics, self.op, call)
            .await
            .map_err(|e| StoreError::dynamo(self.op, e))?;
        store.count_read(self.op, out.consumed_capacity());
        Ok(Page {
            next: Cursor::after(out.last_evaluated_key()),
            items: out.items.unwrap_or_default(),
        })
    }

    /// Every page, to the end.
    pub async fn all(mut self) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        loop {
            let page = self.page().await?;
            items.extend(page.items);
            match page.next {
                Some(next) => self.start = Cursor::start_key(Some(&next)),
                None => return Ok(items),
            }
        }
    }

    /// The first item, page after page, for which `found` gives an answer.
    pub async fn find_map<T>(
        mut self,
        found: impl Fn(&Item) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        loop {
            let page = self.page().await?;
            if let Some(answer) = page.items.iter().find_map(&found) {
                return Ok(Some(answer));
            }
            match page.next {
                Some(next) => self.start = Cursor::start_key(Some(&next)),
                None => return Ok(None),
            }
        }
    }
}
