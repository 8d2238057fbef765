//! The bodies the send API answers with: acceptance, or a Meta error.

use serde::Deserialize;

/// A send Meta accepted. Acceptance is not delivery: a `failed` status may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    pub wamid: String,
    /// `accepted`, `held_for_quality_assessment` or `paused`.
    pub message_status: Option<String>,
    /// The recipient's WhatsApp id as Meta resolved it.
    pub wa_id: Option<String>,
}

/// Meta's error object (`{"error": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MetaApiError {
    pub code: i64,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub error_data: Option<ErrorData>,
    #[serde(default)]
    pub is_transient: Option<bool>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorData {
    #[serde(default)]
    pub details: Option<String>,
}

#[derive(Deserialize)]
struct SendBody {
    #[serde(default)]
    contacts: Vec<ContactBody>,
    #[serde(default)]
    messages: Vec<MessageBody>,
}

#[derive(Deserialize)]
struct ContactBody {
    #[serde(default)]
    wa_id: Option<String>,
}

#[derive(Deserialize)]
struct MessageBody {
    id: String,
    #[serde(default)]
    message_status: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: MetaApiError,
}

#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("the send response is not what Meta answers: {0}")]
    Unexpected(String),
}

/// Reads a 200 answer to a send.
pub fn parse_send_response(body: &[u8]) -> Result<SendAccepted, ResponseError> {
    let parsed: SendBody =
        serde_json::from_slice(body).map_err(|e| ResponseError::Unexpected(e.to_string()))?;
    let message = parsed
        .messages
        .into_iter()
        .next()
        .ok_or_else(|| ResponseError::Unexpected("no messages[].id".into()))?;
    Ok(SendAccepted {
        wamid: message.id,
        message_status: message.message_status,
        wa_id: parsed.contacts.into_iter().next().and_then(|c| c.wa_id),
    })
}

/// Reads an error answer; `None` when the body is not Meta's error shape (a proxy's 502
/// page, say), which the sender treats as a passing failure.
pub fn parse_error_body(body: &[u8]) -> Option<MetaApiError> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_send_yields_its_wamid_and_status() {
        let body = br#"{"messaging_product":"whatsapp","contacts":[{"input":"+4915112345678","wa_id":"4915112345678"}],
            "messages":[{"id":"wamid.HBgL","message_status":"accepted"}]}"#;
        let accepted = parse_send_response(body).unwrap();
        assert_eq!(accepted.wamid, "wamid.HBgL");
        assert_eq!(accepted.message_status.as_deref(), Some("accepted"));
        assert_eq!(accepted.wa_id.as_deref(), Some("4915112345678"));
    }

    #[test]
    fn an_error_body_keeps_code_subcode_details_and_trace_id() {
        let body = br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,
            "error_subcode":2494055,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},
            "is_transient":true,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}"#;
        let error = parse_error_body(body).unwrap();
        assert_eq!(error.code, 130429);
        assert_eq!(error.error_subcode, Some(2494055));
        assert_eq!(
            error.error_data.unwrap().details.as_deref(),
            Some("Cloud API message throughput has been reached.")
        );
        assert_eq!(error.fbtrace_id.as_deref(), Some("Az8or2yhqkZfEZ-_4Qn_Bam"));
        assert_eq!(error.is_transient, Some(true));
    }

    #[test]
    fn bodies_of_another_shape_are_not_meta_errors() {
        assert_eq!(parse_error_body(b"<html>502 Bad Gateway</html>"), None);
        assert!(parse_send_response(br#"{"messages":[]}"#).is_err());
    }
}
