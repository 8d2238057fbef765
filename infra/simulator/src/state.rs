//! What the simulator knows: registered numbers with their limits and status behaviour,
//! the users' 24-hour windows, injected faults, media, and every request received.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::limits::Bucket;

/// A business phone number as registered through `POST /_sim/numbers`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NumberConfig {
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub waba_id: String,
    /// The Bearer token the number's sends must carry; it also reaches every number of the
    /// same WABA, as a system user's token does.
    pub access_token: String,
    /// The business name Meta verified, shown by `GET /{phone-number-id}`.
    #[serde(default = "default_verified_name")]
    pub verified_name: String,
    #[serde(default = "default_quality")]
    pub quality_rating: String,
    /// Signs the webhooks posted for this number.
    pub app_secret: String,
    /// Where its webhooks go.
    pub webhook_url: String,
    #[serde(default = "default_throughput")]
    pub throughput_per_second: f64,
    /// Sends allowed at once above the steady rate; default a quarter second's worth.
    #[serde(default)]
    pub throughput_burst: Option<f64>,
    #[serde(default = "default_pair_burst")]
    pub pair_burst: f64,
    #[serde(default = "default_pair_refill_ms")]
    pub pair_refill_ms: u64,
    #[serde(default = "yes")]
    pub enforce_window: bool,
    #[serde(default)]
    pub statuses: StatusBehaviour,
}

/// How status webhooks follow an accepted send.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StatusBehaviour {
    /// Between the send and the first status, and between statuses.
    #[serde(default = "default_delay_ms")]
    pub delay_ms: u64,
    /// The last status: `sent`, `delivered`, `read`, or `failed`; `none` posts nothing.
    #[serde(default = "default_final")]
    pub final_status: String,
    /// The error code of a `failed` status.
    #[serde(default)]
    pub fail_code: Option<i64>,
    /// Post every status twice, as Meta's retries do.
    #[serde(default)]
    pub duplicate: bool,
    /// Post the statuses newest first.
    #[serde(default)]
    pub reorder: bool,
}

impl Default for StatusBehaviour {
    fn default() -> Self {
        Self {
            delay_ms: default_delay_ms(),
            final_status: default_final(),
            fail_code: None,
            duplicate: false,
            reorder: false,
        }
    }
}

fn default_verified_name() -> String {
    "Simulated Business".into()
}
fn default_quality() -> String {
    "GREEN".into()
}
fn default_throughput() -> f64 {
    80.0
}
fn default_pair_burst() -> f64 {
    45.0
}
fn default_pair_refill_ms() -> u64 {
    6000
}
fn default_delay_ms() -> u64 {
    50
}
fn default_final() -> String {
    "read".into()
}
fn yes() -> bool {
    true
}

/// Which calls a fault applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultedCall {
    /// `POST /{phone-number-id}/messages`.
    #[default]
    Send,
    /// `GET /{phone-number-id}`: the lookup that connecting a number makes.
    Lookup,
}

/// A fault injected through `POST /_sim/faults`, applied to the next matching calls.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Fault {
    #[serde(default)]
    pub call: FaultedCall,
    #[serde(default)]
    pub phone_number_id: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    /// How many calls it applies to.
    #[serde(default = "one")]
    pub count: u32,
    /// Answer with this HTTP status and a body that is not Meta's.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// Answer with Meta's error of this code.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// Wait this long before answering.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Close the connection without an answer.
    #[serde(default)]
    pub drop: bool,
}

fn one() -> u32 {
    1
}

/// One request to the send API as the simulator saw it.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub at_ms: u128,
    pub to: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub body: Value,
    pub http_status: u16,
    pub error_code: Option<i64>,
    pub wamid: Option<String>,
}

pub struct Number {
    pub config: NumberConfig,
    pub throughput: Bucket,
    pub pairs: HashMap<String, Bucket>,
    pub received: Vec<Received>,
}

impl Number {
    pub fn new(config: NumberConfig) -> Self {
        let burst = config
            .throughput_burst
            .unwrap_or((config.throughput_per_second / 4.0).max(1.0));
        Self {
            throughput: Bucket::new(burst, config.throughput_per_second),
            pairs: HashMap::new(),
            received: Vec::new(),
            config,
        }
    }

    pub fn pair(&mut self, recipient: &str) -> &mut Bucket {
        let burst = self.config.pair_burst;
        let per_second = 1000.0 / self.config.pair_refill_ms.max(1) as f64;
        self.pairs
            .entry(recipient.to_owned())
            .or_insert_with(|| Bucket::new(burst, per_second))
    }
}

/// A media object users sent (or that tests uploaded), served by `GET /{media-id}`.
#[derive(Debug, Clone)]
pub struct Media {
    pub phone_number_id: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct SimState {
    pub numbers: HashMap<String, Number>,
    /// (phone number id, user) -> when the user last wrote in, epoch seconds.
    pub last_inbound: HashMap<(String, String), i64>,
    pub faults: Vec<Fault>,
    pub media: HashMap<String, Media>,
    /// WABA id -> its message templates, in creation order.
    pub templates: HashMap<String, Vec<SimTemplate>>,
}

impl SimState {
    /// Takes the first fault matching a call, using up one of its count.
    pub fn take_fault(
        &mut self,
        call: FaultedCall,
        phone_number_id: &str,
        recipient: Option<&str>,
    ) -> Option<Fault> {
        let index = self.faults.iter().position(|f| {
            f.call == call
                && f.phone_number_id
                    .as_deref()
                    .is_none_or(|p| p == phone_number_id)
                && f.recipient.as_deref().is_none_or(|r| Some(r) == recipient)
        })?;
        let fault = self.faults[index].clone();
        self.faults[index].count -= 1;
        if self.faults[index].count == 0 {
            self.faults.remove(index);
        }
        Some(fault)
    }
}

pub fn epoch_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// A wamid as Meta makes them: `wamid.` and the base64 of a small Thrift (compact
/// protocol) structure that holds the user's number (or BSUID), a direction flag and a
/// random hex id. Real ones carry the person's number this way, so every test of the
/// gateway sees what a stored wamid would give away.
pub fn meta_wamid(user: &str, from_business: bool) -> String {
    use base64::Engine;
    use rand::Rng;
    let user: String = user.chars().filter(|c| *c != '+').collect();
    let id = hex::encode(rand::rng().random::<[u8; 11]>()).to_uppercase();
    let mut bytes = vec![0x1c, 0x18];
    bytes.push(user.len().min(0x7f) as u8);
    bytes.extend(user.bytes().take(0x7f));
    // An i32 field (1), the inner structure's end, then the direction as a bool field.
    bytes.extend([
        0x15,
        0x02,
        0x00,
        if from_business { 0x11 } else { 0x12 },
        0x18,
    ]);
    bytes.push(id.len() as u8);
    bytes.extend(id.bytes());
    bytes.push(0x00);
    format!(
        "wamid.{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

pub fn random_id(prefix: &str) -> String {
    use rand::Rng;
    format!(
        "{prefix}{}",
        hex::encode(rand::rng().random::<[u8; 12]>()).to_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn a_minted_wamid_has_metas_shape_and_embeds_the_user() {
        let wamid = meta_wamid("+4915112345678", false);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(wamid.strip_prefix("wamid.").unwrap())
            .unwrap();
        assert_eq!(&raw[..3], b"\x1c\x18\x0d");
        assert_eq!(&raw[3..16], b"4915112345678");
        assert_eq!(raw[19], 0x12, "a user's message");
        assert!(wamid.starts_with("wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYF"));
        assert_ne!(wamid, meta_wamid("+4915112345678", false));
        let sent = meta_wamid("4915112345678", true);
        assert!(sent.starts_with("wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYF"));
    }
}

/// A template the simulator holds for a WABA.
#[derive(Debug, Clone)]
pub struct SimTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub components: Value,
}
