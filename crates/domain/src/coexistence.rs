//! What a number shared with the WhatsApp Business app (coexistence) sends besides
//! messages: `history` (the app's past chats, thousands of messages at once, a thread per
//! person) and `smb_app_state_sync` (the app's address book, an entry per person). The
//! gateway keeps them without acting on them, one piece per person, so that each piece is
//! sealed under its person's key and goes with their erasure alone.

use serde_json::{Map, Value};

/// The pieces of a coexistence change, one per person it names, each shaped like the
/// change itself (its `metadata` and one thread or one entry); `None` for any other field,
/// and for a value with nothing to split (a declined history, say), which is kept whole.
pub fn pieces_per_person(field: &str, value: &Value) -> Option<Vec<Value>> {
    let pieces = match field {
        "history" => history_threads(value),
        "smb_app_state_sync" => state_sync_entries(value),
        _ => return None,
    };
    (!pieces.is_empty()).then_some(pieces)
}

/// When a piece happened by Meta's clock: the earliest `timestamp` in it (a thread's
/// oldest message, an address book entry's change). It is the same on every retry of the
/// change, so a piece is kept once; and a piece that holds anything from before an
/// erasure of its person counts as from before it, and is not kept.
pub fn piece_time(piece: &Value) -> Option<i64> {
    match piece {
        Value::Object(map) => map
            .iter()
            .filter_map(|(key, value)| match key.as_str() {
                "timestamp" => crate::timestamp::parse_seconds(value),
                _ => piece_time(value),
            })
            .min(),
        Value::Array(items) => items.iter().filter_map(piece_time).min(),
        _ => None,
    }
}

/// One piece per thread of each history chunk, with the chunk's own metadata.
fn history_threads(value: &Value) -> Vec<Value> {
    let Some(chunks) = value.get("history").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut pieces = Vec::new();
    for chunk in chunks {
        let Some(threads) = chunk.get("threads").and_then(Value::as_array) else {
            continue;
        };
        for thread in threads {
            let mut one = chunk.as_object().cloned().unwrap_or_default();
            one.insert("threads".into(), Value::Array(vec![thread.clone()]));
            pieces.push(with_envelope(
                value,
                "history",
                Value::Array(vec![Value::Object(one)]),
            ));
        }
    }
    pieces
}

/// One piece per address book entry.
fn state_sync_entries(value: &Value) -> Vec<Value> {
    let Some(entries) = value.get("state_sync").and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|entry| with_envelope(value, "state_sync", Value::Array(vec![entry.clone()])))
        .collect()
}

/// `value` with `list` under `name` in place of what it held there.
fn with_envelope(value: &Value, name: &str, list: Value) -> Value {
    let mut piece: Map<String, Value> = value.as_object().cloned().unwrap_or_default();
    piece.insert(name.into(), list);
    Value::Object(piece)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_history_is_kept_a_thread_at_a_time_with_its_chunks_metadata() {
        let value = json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1"},
            "history": [{"metadata": {"phase": 0, "chunk_order": 1},
                "threads": [{"id": "4915112345678", "messages": [{"id": "wamid.A"}]},
                            {"id": "4915199999999", "messages": []}]}]});
        let pieces = pieces_per_person("history", &value).unwrap();
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[1]["history"][0]["threads"][0]["id"], "4915199999999");
        assert_eq!(pieces[1]["history"][0]["metadata"]["phase"], 0);
        assert_eq!(pieces[0]["metadata"]["phone_number_id"], "1");
        // A declined history has no threads: kept whole.
        let declined = json!({"history": [{"errors": [{"code": 2593109}]}]});
        assert_eq!(pieces_per_person("history", &declined), None);
    }

    #[test]
    fn an_address_book_sync_is_kept_an_entry_at_a_time() {
        let value = json!({"state_sync": [
            {"type": "contact", "contact": {"full_name": "Ana", "phone_number": "4915112345678"}, "action": "add"},
            {"type": "contact", "contact": {"full_name": "Bo", "phone_number": "4915199999999"}, "action": "remove"}]});
        let pieces = pieces_per_person("smb_app_state_sync", &value).unwrap();
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[1]["state_sync"][0]["contact"]["full_name"], "Bo");
        assert_eq!(pieces_per_person("account_update", &value), None);
    }

    #[test]
    fn a_pieces_time_is_its_earliest_timestamp() {
        let thread = json!({"history": [{"threads": [{"messages": [
            {"timestamp": "1700000300"}, {"timestamp": 1_700_000_100}, {"timestamp": "x"}
        ]}]}]});
        assert_eq!(piece_time(&thread), Some(1_700_000_100));
        let entry = json!({"state_sync": [{"metadata": {"timestamp": "1700000500"}}]});
        assert_eq!(piece_time(&entry), Some(1_700_000_500));
        assert_eq!(piece_time(&json!({"history": []})), None);
    }
}
