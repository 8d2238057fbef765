//! Connecting a WhatsApp phone number to a tenant. Nothing is stored before Meta, asked with
//! the access token given, has shown that the token reaches the number and the WhatsApp
//! Business Account and that the number belongs to that account; what is stored is what
//! Meta answered (display number, verified name, quality, throughput), not what the caller
//! claimed. The number and its routes are then written in one transaction in which each
//! route has one owner, so a number or an account can never be held by two tenants.
//!
//! The admin API, the local stack's demo seed and the tests' tenants all connect numbers
//! through [`NumberConnector::connect`].

use crate::cloud_api::numbers::NumberInfo;
use crate::cloud_api::{CloudApiClient, SendError};
use crate::domain::tenant::{
    DEFAULT_THROUGHPUT, PhoneNumber, TenantId, UPGRADED_THROUGHPUT, token_fingerprint,
};
use crate::secret::Secret;
use crate::secret_store::{SecretContext, SecretError, SecretStore};
use crate::store::NumberStore;
use crate::store::number::route::Connected;
use crate::store::{Store, StoreError};

/// A request to connect a number.
#[derive(Debug, Clone, Copy)]
pub struct ConnectNumber<'a> {
    pub tenant: &'a TenantId,
    pub phone_number_id: &'a str,
    pub waba_id: &'a str,
    pub access_token: &'a Secret,
    /// Shared with the WhatsApp Business app: Meta allows it 20 messages a second.
    pub coexistence: bool,
    /// The display number the caller expects (digits); checked against Meta's when given.
    pub expected_display_number: Option<&'a str>,
    pub now: i64,
}

/// What Meta's answers did not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOwned {
    /// The token cannot see the phone number.
    PhoneNumber,
    /// The token cannot see the WhatsApp Business Account.
    Waba,
    /// The account does not list the number.
    NumberNotInWaba,
    /// Meta's display number is not the one the caller gave.
    DisplayNumber,
}

impl NotOwned {
    /// The request field that did not match.
    pub fn field(self) -> &'static str {
        match self {
            Self::PhoneNumber => "phone_number_id",
            Self::Waba | Self::NumberNotInWaba => "waba_id",
            Self::DisplayNumber => "display_phone_number",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Self::PhoneNumber => "Meta says the access token cannot reach this phone number",
            Self::Waba => "Meta says the access token cannot reach this WhatsApp Business Account",
            Self::NumberNotInWaba => {
                "Meta does not list the phone number among this WhatsApp Business Account's numbers"
            }
            Self::DisplayNumber => "Meta shows another display number for this phone number",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Meta refused the access token (code {code})")]
    TokenInvalid { code: i64 },
    #[error("{}", .0.explanation())]
    NotOwned(NotOwned),
    #[error("Meta could not be asked about the number")]
    MetaUnreachable(#[source] SendError),
    #[error("the phone number is connected to another tenant")]
    NumberTaken,
    #[error("the WhatsApp Business Account is held by another tenant")]
    WabaTaken,
    #[error("the tenant does not exist or is being deleted")]
    TenantGone,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the access token could not be encrypted")]
    Secret(#[from] SecretError),
}

pub struct NumberConnector {
    store: Store,
    secrets: SecretStore,
    api: CloudApiClient,
}

impl NumberConnector {
    pub fn new(store: Store, secrets: SecretStore, api: CloudApiClient) -> Self {
        Self {
            store,
            secrets,
            api,
        }
    }

    /// Verifies the number with Meta, then stores it with its routes; connecting the same
    /// number again (a new token, another account of the tenant) replaces it.
    pub async fn connect(&self, request: ConnectNumber<'_>) -> Result<PhoneNumber, ConnectError> {
        let info = self.verified(&request).await?;
        let tenant = request.tenant;
        let display = info.display_digits().ok_or_else(|| {
            ConnectError::MetaUnreachable(SendError::UnexpectedBody(
                "Meta's answer holds no display phone number".into(),
            ))
        })?;
        if let Some(expected) = request.expected_display_number
            && expected.trim_start_matches('+') != display
        {
            return Err(ConnectError::NotOwned(NotOwned::DisplayNumber));
        }
        // Numbers connected before route items existed hold their routes in the index.
        let (number_holder, waba_holder) = self
            .store
            .repo::<NumberStore>()
            .legacy_holders(request.phone_number_id, request.waba_id)
            .await?;
        if number_holder.is_some_and(|t| t != *tenant) {
            return Err(ConnectError::NumberTaken);
        }
        if waba_holder.is_some_and(|t| t != *tenant) {
            return Err(ConnectError::WabaTaken);
        }
        let before = self
            .store
            .repo::<NumberStore>()
            .get_phone_number(tenant, request.phone_number_id)
            .await?;
        let token = request.access_token.expose();
        let number = PhoneNumber {
            tenant_id: tenant.clone(),
            phone_number_id: request.phone_number_id.to_owned(),
            waba_id: request.waba_id.to_owned(),
            display_phone_number: display,
            access_token_ciphertext: self
                .secrets
                .encrypt(
                    token,
                    &SecretContext::phone_number(tenant.as_str(), request.phone_number_id),
                )
                .await?,
            throughput_per_second: if info.high_throughput() {
                UPGRADED_THROUGHPUT
            } else {
                DEFAULT_THROUGHPUT
            },
            coexistence: request.coexistence,
            paused_until: None,
            pause_reason: None,
            token_fingerprint: Some(token_fingerprint(token)),
            token_set_at: Some(request.now),
            verified_name: info.verified_name,
            quality_rating: info.quality_rating,
            quality: None,
        };
        match self
            .store
            .repo::<NumberStore>()
            .connect_phone_number(&number)
            .await?
        {
            Connected::Done => {}
            Connected::NumberTaken => return Err(ConnectError::NumberTaken),
            Connected::WabaTaken => return Err(ConnectError::WabaTaken),
            Connected::TenantGone => return Err(ConnectError::TenantGone),
        }
        if let Some(old) = before.filter(|old| old.waba_id != number.waba_id) {
            // Moved to another account of the tenant: the old account's route lets it go.
            self.store
                .repo::<NumberStore>()
                .release_from_waba(&old.waba_id, &number.phone_number_id)
                .await?;
            self.store
                .repo::<NumberStore>()
                .drop_legacy_waba_item(tenant, &old.waba_id)
                .await?;
        }
        self.store
            .repo::<NumberStore>()
            .reset_pace(tenant, &number.phone_number_id)
            .await?;
        tracing::info!(tenant = %tenant, phone_number_id = %number.phone_number_id, waba_id = %number.waba_id, "phone number connected after Meta confirmed it");
        Ok(number)
    }

    /// Meta's view of the number, once the token has shown it reaches both the number and
    /// the account, and the account lists the number.
    async fn verified(&self, request: &ConnectNumber<'_>) -> Result<NumberInfo, ConnectError> {
        let token = request.access_token;
        let info = self
            .api
            .phone_number(request.phone_number_id, token)
            .await
            .map_err(|e| refusal(e, NotOwned::PhoneNumber))?;
        if info.id != request.phone_number_id {
            return Err(ConnectError::NotOwned(NotOwned::PhoneNumber));
        }
        let listed = self
            .api
            .account_numbers(request.waba_id, token)
            .await
            .map_err(|e| refusal(e, NotOwned::Waba))?;
        let Some(entry) = listed.into_iter().find(|n| n.id == info.id) else {
            return Err(ConnectError::NotOwned(NotOwned::NumberNotInWaba));
        };
        Ok(NumberInfo {
            display_phone_number: info.display_phone_number.or(entry.display_phone_number),
            verified_name: info.verified_name.or(entry.verified_name),
            quality_rating: info.quality_rating.or(entry.quality_rating),
            throughput: info.throughput.or(entry.throughput),
            id: info.id,
        })
    }
}

/// What a refused lookup means: a token Meta does not accept, an object the token cannot
/// see, or Meta not answering as it should (a passing failure).
fn refusal(error: SendError, unseen: NotOwned) -> ConnectError {
    match &error {
        SendError::Refused { error: meta, .. } => match meta.code {
            0 | 3 | 190 => ConnectError::TokenInvalid { code: meta.code },
            10 | 100 | 200..=299 => ConnectError::NotOwned(unseen),
            _ => ConnectError::MetaUnreachable(error),
        },
        _ => ConnectError::MetaUnreachable(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud_api::MetaApiError;

    fn refused(code: i64) -> SendError {
        SendError::Refused {
            status: 400,
            error: Box::new(MetaApiError {
                code,
                message: None,
                error_type: None,
                error_subcode: None,
                error_data: None,
                is_transient: None,
                fbtrace_id: None,
            }),
        }
    }

    #[test]
    fn meta_refusals_tell_a_bad_token_from_an_unreachable_object_and_a_passing_failure() {
        assert!(matches!(
            refusal(refused(190), NotOwned::Waba),
            ConnectError::TokenInvalid { code: 190 }
        ));
        assert!(matches!(
            refusal(refused(100), NotOwned::Waba),
            ConnectError::NotOwned(NotOwned::Waba)
        ));
        assert!(matches!(
            refusal(refused(200), NotOwned::PhoneNumber),
            ConnectError::NotOwned(NotOwned::PhoneNumber)
        ));
        for passing in [refused(4), refused(131000), SendError::Http { status: 503 }] {
            assert!(matches!(
                refusal(passing, NotOwned::Waba),
                ConnectError::MetaUnreachable(_)
            ));
        }
    }
}
