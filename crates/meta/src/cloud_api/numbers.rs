//! Meta's view of a business phone number and of a WhatsApp Business Account's numbers,
//! read with a tenant's access token: what proves that the token reaches the number and that
//! the number belongs to the account, before the gateway routes anything to the tenant.

use serde::Deserialize;

use super::client::{CloudApiClient, SendError};
use wagate_platform::secret::Secret;

/// The fields asked of a number, on the node and on the account's edge alike.
const NUMBER_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,throughput";
/// An account lists at most this many pages of numbers (100 each) before the gateway stops
/// looking: Meta caps an account's numbers far below that.
const MAX_PAGES: usize = 20;

/// A business phone number as Meta describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NumberInfo {
    pub id: String,
    /// As Meta shows it, e.g. `+1 555-078-3881`.
    #[serde(default)]
    pub display_phone_number: Option<String>,
    #[serde(default)]
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    #[serde(default)]
    pub quality_rating: Option<String>,
    #[serde(default)]
    pub throughput: Option<Throughput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Throughput {
    /// `STANDARD` (80 messages/s), `HIGH` (1,000), or `NOT_APPLICABLE`.
    #[serde(default)]
    pub level: Option<String>,
}

impl NumberInfo {
    /// The display number's digits, as the gateway stores a phone number.
    pub fn display_digits(&self) -> Option<String> {
        let digits: String = self
            .display_phone_number
            .as_deref()?
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        (!digits.is_empty()).then_some(digits)
    }

    /// Whether Meta has raised the number to high throughput.
    pub fn high_throughput(&self) -> bool {
        self.throughput
            .as_ref()
            .and_then(|t| t.level.as_deref())
            .is_some_and(|level| level.eq_ignore_ascii_case("HIGH"))
    }
}

#[derive(Deserialize)]
struct NumberPage {
    #[serde(default)]
    data: Vec<NumberInfo>,
    #[serde(default)]
    paging: Option<super::templates::Paging>,
}

impl CloudApiClient {
    /// `GET /{phone-number-id}`: the number as the token sees it. Meta answers code 100 when
    /// the token cannot see the number, 190 when the token itself is not valid.
    pub async fn phone_number(
        &self,
        phone_number_id: &str,
        token: &Secret,
    ) -> Result<NumberInfo, SendError> {
        let url = super::templates::with_query(
            &self.graph_url(phone_number_id),
            &[("fields", NUMBER_FIELDS)],
        )?;
        let body = self.call(self.http().get(url), token).await?;
        super::templates::read(&body)
    }

    /// `GET /{waba-id}/phone_numbers`: every number of the account, page by page.
    pub async fn account_numbers(
        &self,
        waba_id: &str,
        token: &Secret,
    ) -> Result<Vec<NumberInfo>, SendError> {
        let edge = self.graph_url(&format!("{waba_id}/phone_numbers"));
        let mut numbers = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("fields", NUMBER_FIELDS), ("limit", "100")];
            if let Some(after) = after.as_deref() {
                query.push(("after", after));
            }
            let url = super::templates::with_query(&edge, &query)?;
            let body = self.call(self.http().get(url), token).await?;
            let page: NumberPage = super::templates::read(&body)?;
            numbers.extend(page.data);
            match page.paging.and_then(|p| p.next_cursor()) {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(numbers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_display_number_is_kept_as_digits_and_the_throughput_level_is_read() {
        let info: NumberInfo = serde_json::from_str(
            r#"{"id":"106540352242922","display_phone_number":"+1 555-078-3881",
                "verified_name":"Demo","quality_rating":"GREEN","throughput":{"level":"HIGH"}}"#,
        )
        .unwrap();
        assert_eq!(info.display_digits().as_deref(), Some("15550783881"));
        assert!(info.high_throughput());
        let bare: NumberInfo = serde_json::from_str(r#"{"id":"1"}"#).unwrap();
        assert_eq!(bare.display_digits(), None);
        assert!(!bare.high_throughput());
    }
}
