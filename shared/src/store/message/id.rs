//! A message's public id: where it lives (its contact and sort key), opaque to callers.
//! Reading a message is then one GetItem under the caller's own tenant, so another
//! tenant's id finds nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::store::keys::{MESSAGE_PREFIX, outbound_sk};

/// The longest id accepted: a contact id, a time and a wamid or job id fit well within.
const MAX_ID_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    pub contact_id: String,
    /// The message's sort key (`MSG#…`).
    pub sk: String,
}

impl MessageRef {
    pub fn new(contact_id: &str, sk: &str) -> Self {
        Self {
            contact_id: contact_id.to_owned(),
            sk: sk.to_owned(),
        }
    }

    /// The id of the outbound message of a job.
    pub fn outbound(contact_id: &str, enqueued_at: i64, job_id: &str) -> Self {
        Self::new(contact_id, &outbound_sk(enqueued_at, job_id))
    }

    /// When the job of an outbound message was enqueued; `None` for an inbound message.
    pub fn outbound_time(&self) -> Option<i64> {
        let rest = self.sk.strip_prefix(MESSAGE_PREFIX)?;
        let (time, job) = rest.split_once('#')?;
        job.strip_prefix("job.")?;
        time.parse().ok()
    }

    pub fn encode(&self) -> String {
        let rest = self.sk.strip_prefix(MESSAGE_PREFIX).unwrap_or(&self.sk);
        URL_SAFE_NO_PAD.encode(format!("{}|{rest}", self.contact_id))
    }

    /// `None` for anything that is not an id this service made.
    pub fn decode(id: &str) -> Option<Self> {
        if id.is_empty() || id.len() > MAX_ID_CHARS {
            return None;
        }
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
        let (contact_id, rest) = raw.split_once('|')?;
        if !is_contact_id(contact_id) || rest.is_empty() || rest.chars().any(char::is_control) {
            return None;
        }
        Some(Self::new(contact_id, &format!("{MESSAGE_PREFIX}{rest}")))
    }
}

/// Whether `raw` has the shape of the contact ids this service makes (`c_` and letters or
/// digits); anything else is refused before it reaches a key.
pub fn is_contact_id(raw: &str) -> bool {
    raw.starts_with("c_") && raw.len() <= 64 && raw[2..].bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outbound_id_tells_its_enqueue_time_and_an_inbound_one_does_not() {
        let out = MessageRef::outbound("c_0123456789abcdef0123", 1_767_000_000, "abc");
        assert_eq!(out.outbound_time(), Some(1_767_000_000));
        assert_eq!(MessageRef::decode(&out.encode()), Some(out));
        let inbound = MessageRef::new("c_0123456789abcdef0123", "MSG#1767000000#wamid.X");
        assert_eq!(inbound.outbound_time(), None);
    }

    #[test]
    fn an_id_round_trips_and_anything_else_is_refused() {
        let r = MessageRef::new("c_0123456789abcdef0123", "MSG#1700000000#wamid.HBgL+/=");
        assert_eq!(MessageRef::decode(&r.encode()), Some(r));
        for bad in [
            "",
            "x",
            "!!!",
            &URL_SAFE_NO_PAD.encode("nope|x"),
            &"a".repeat(600),
        ] {
            assert_eq!(MessageRef::decode(bad), None, "{bad}");
        }
        assert_eq!(
            MessageRef::decode(&URL_SAFE_NO_PAD.encode("c_abc|")),
            None,
            "an id without a message"
        );
    }
}
