//! One page of one segment of a parallel Scan: keys only for a sweep that deletes (a
//! tenant's erasure), whole items for one that rewrites (sealing what was written before).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};

use super::attrs::s;
use super::query::Page;
use super::{StoreError, Table, cursor::Cursor};

/// A filter's placeholders: attribute names, then values.
pub type Placeholders<'a> = (&'a [(&'a str, &'a str)], &'a [(&'a str, AttributeValue)]);

impl Table {
    /// The `pk`/`sk` of the items `filter` takes in one page of segment `segment` of
    /// `segments`, from after `start`.
    pub async fn scan_keys_page(
        &self,
        op: &'static str,
        filter: &str,
        values: &[(&str, AttributeValue)],
        segments: (u32, u32),
        start: Option<(&str, &str)>,
        limit: i32,
    ) -> Result<Page, StoreError> {
        let placeholders = (&[][..], values);
        self.scan_segment_page(
            op,
            filter,
            placeholders,
            Some("pk, sk"),
            segments,
            start,
            limit,
        )
        .await
    }

    /// The whole items `filter` takes in one page of segment `segment` of `segments`, from
    /// after `start`. `names` and `values` are the filter's placeholders.
    pub async fn scan_page(
        &self,
        op: &'static str,
        filter: &str,
        placeholders: Placeholders<'_>,
        segments: (u32, u32),
        start: Option<(&str, &str)>,
        limit: i32,
    ) -> Result<Page, StoreError> {
        self.scan_segment_page(op, filter, placeholders, None, segments, start, limit)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn scan_segment_page(
        &self,
        op: &'static str,
        filter: &str,
        (names, values): Placeholders<'_>,
        projection: Option<&str>,
        (segment, segments): (u32, u32),
        start: Option<(&str, &str)>,
        limit: i32,
    ) -> Result<Page, StoreError> {
        let mut request = self
            .client
            .scan()
            .table_name(&self.table)
            .segment(segment as i32)
            .total_segments(segments as i32)
            .limit(limit)
            .filter_expression(filter)
            .set_projection_expression(projection.map(str::to_owned))
            .set_exclusive_start_key(
                start.map(|(pk, sk)| [("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))].into()),
            )
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        for (placeholder, name) in names {
            request = request.expression_attribute_names(*placeholder, *name);
        }
        for (placeholder, value) in values {
            request = request.expression_attribute_values(*placeholder, value.clone());
        }
        let call = request.send();
        let out = super::timed(&self.metrics, op, call)
            .await
            .map_err(|e| StoreError::dynamo(op, e))?;
        self.count_read(op, out.consumed_capacity());
        Ok(Page {
            next: Cursor::after(out.last_evaluated_key()),
            items: out.items.unwrap_or_default(),
        })
    }
}
