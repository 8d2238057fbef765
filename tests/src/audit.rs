//! The audit chains' items as the tests tamper with them, and their verification through
//! the admin API.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::Value;

use crate::Stack;

pub type Item = HashMap<String, AttributeValue>;

/// The table key of entry `seq` of `chain`.
pub fn entry_key(chain: &str, seq: u64) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!("T#{chain}#AUDIT")),
        ),
        ("sk".to_owned(), AttributeValue::S(format!("SEQ#{seq:012}"))),
    ])
}

/// The table key of the checkpoint of head `seq` of `chain`.
pub fn checkpoint_key(chain: &str, seq: u64) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            AttributeValue::S(format!("T#{chain}#AUDITCP")),
        ),
        ("sk".to_owned(), AttributeValue::S(format!("CP#{seq:012}"))),
    ])
}

/// The item at `key`, read strongly.
pub async fn read(stack: &Stack, key: Item) -> Option<Item> {
    stack
        .dynamo
        .get_item()
        .table_name(&stack.table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

/// Entry `seq` of `chain`, which must be there.
pub async fn entry(stack: &Stack, chain: &str, seq: u64) -> Item {
    read(stack, entry_key(chain, seq)).await.expect("the entry")
}

pub async fn put(stack: &Stack, item: Item) {
    stack
        .dynamo
        .put_item()
        .table_name(&stack.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

pub async fn delete(stack: &Stack, key: Item) {
    stack
        .dynamo
        .delete_item()
        .table_name(&stack.table)
        .set_key(Some(key))
        .send()
        .await
        .unwrap();
}

/// A number attribute of `item`.
pub fn number(item: &Item, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

/// `POST .../audit/verify` of a tenant's chain, by the operator: its report.
pub async fn verify(stack: &Stack, tenant: &str) -> Value {
    let path = format!("/admin/v1/tenants/{tenant}/audit/verify");
    let (status, report) = stack
        .admin(Method::POST, &path, Some(&stack.operator_key), None)
        .await;
    assert_eq!(status, 200, "{report}");
    report
}
