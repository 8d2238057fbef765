//! A message's public id: the contact it belongs to and its place in the conversation
//! (when it was sent and the blind index of Meta's wamid, or when its job was queued and
//! the job's id),
//! encoded so that callers hold it as an opaque string. Reading a message by its id is one
//! lookup under the caller's own tenant, so another tenant's id finds nothing. How a place
//! becomes a key is the store's (`store::keys`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The longest id accepted: a contact id, a time and a wamid or job id fit well within.
const MAX_ID_CHARS: usize = 512;
/// What an outbound message's place names after its time: the job, not a wamid.
const JOB_MARK: &str = "job.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageId {
    pub contact_id: String,
    place: String,
}

/// The place of a message the user sent: its time, then the blind index of Meta's wamid
/// (ids given out before wamids were blinded hold the wamid itself).
pub fn inbound_place(sent_at: i64, blinded_wamid: &str) -> String {
    format!("{sent_at:010}#{blinded_wamid}")
}

/// How every one of Meta's wamids starts.
const WAMID_MARK: &str = "wamid.";

/// The place of a message sent to the user: when its job was queued, then the job.
pub fn outbound_place(enqueued_at: i64, job_id: &str) -> String {
    format!("{enqueued_at:010}#{JOB_MARK}{job_id}")
}

impl MessageId {
    pub fn inbound(contact_id: &str, sent_at: i64, blinded_wamid: &str) -> Self {
        Self::at(contact_id, inbound_place(sent_at, blinded_wamid))
    }

    /// The time and wamid an inbound id given out before wamids were blinded names; `None`
    /// for every other id.
    pub fn raw_wamid(&self) -> Option<(i64, &str)> {
        let (time, rest) = self.place.split_once('#')?;
        rest.starts_with(WAMID_MARK)
            .then(|| Some((time.parse().ok()?, rest)))
            .flatten()
    }

    /// The id of the outbound message of a job.
    pub fn outbound(contact_id: &str, enqueued_at: i64, job_id: &str) -> Self {
        Self::at(contact_id, outbound_place(enqueued_at, job_id))
    }

    /// The id of the message at `place` (as the store read it back).
    pub fn at(contact_id: &str, place: String) -> Self {
        Self {
            contact_id: contact_id.to_owned(),
            place,
        }
    }

    /// Where the message stands in its contact's partition: the store keys it by this.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// When the job of an outbound message was queued; `None` for an inbound message.
    pub fn outbound_time(&self) -> Option<i64> {
        let (time, job) = self.place.split_once('#')?;
        job.strip_prefix(JOB_MARK)?;
        time.parse().ok()
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.contact_id, self.place))
    }

    /// `None` for anything that is not an id this service made.
    pub fn decode(id: &str) -> Option<Self> {
        if id.is_empty() || id.len() > MAX_ID_CHARS {
            return None;
        }
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
        let (contact_id, place) = raw.split_once('|')?;
        if !is_contact_id(contact_id) || place.is_empty() || place.chars().any(char::is_control) {
            return None;
        }
        Some(Self::at(contact_id, place.to_owned()))
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

    const CONTACT: &str = "c_0123456789abcdef0123";

    #[test]
    fn an_outbound_id_tells_its_enqueue_time_and_an_inbound_one_does_not() {
        let out = MessageId::outbound(CONTACT, 1_767_000_000, "abc");
        assert_eq!(out.outbound_time(), Some(1_767_000_000));
        assert_eq!(MessageId::decode(&out.encode()), Some(out.clone()));
        let inbound = MessageId::inbound(CONTACT, 1_767_000_000, "0123abcd");
        assert_eq!(inbound.outbound_time(), None);
        assert_eq!(inbound.raw_wamid(), None);
        assert_eq!(out.raw_wamid(), None);
    }

    #[test]
    fn ids_given_out_before_keep_their_meaning() {
        // An inbound id as the API gave it out before the id moved out of the store.
        let earlier = URL_SAFE_NO_PAD.encode(format!("{CONTACT}|1700000000#wamid.HBgL+/="));
        let id = MessageId::decode(&earlier).unwrap();
        assert_eq!(
            id,
            MessageId::inbound(CONTACT, 1_700_000_000, "wamid.HBgL+/=")
        );
        assert_eq!(id.encode(), earlier);
        assert_eq!(id.raw_wamid(), Some((1_700_000_000, "wamid.HBgL+/=")));
    }

    #[test]
    fn an_id_round_trips_and_anything_else_is_refused() {
        let id = MessageId::inbound(CONTACT, 1_700_000_000, "wamid.HBgL+/=");
        assert_eq!(MessageId::decode(&id.encode()), Some(id));
        for bad in [
            "",
            "x",
            "!!!",
            &URL_SAFE_NO_PAD.encode("nope|x"),
            &"a".repeat(600),
        ] {
            assert_eq!(MessageId::decode(bad), None, "{bad}");
        }
        assert_eq!(
            MessageId::decode(&URL_SAFE_NO_PAD.encode("c_abc|")),
            None,
            "an id without a message"
        );
    }
}
