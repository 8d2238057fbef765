//! `/admin/v1/tenants/{tenant_id}/numbers`: a tenant's WhatsApp phone numbers. Connecting
//! one first asks Meta, with the token given, whether the token reaches the number and its
//! WhatsApp Business Account and whether the account lists the number; then the number is
//! stored with what Meta answered, its token KMS-encrypted under the tenant + number
//! context, and its routes written so no other tenant can hold it. Reads show only the
//! token's fingerprint and when it was set. Disconnecting deletes the token and holds every
//! sender off the number until their cached copy of it has expired, so sending stops at
//! once; its webhooks stop being routed within the route cache's minute.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wagate_messaging::domain::tenant::PhoneNumber;
use wagate_messaging::numbers::ConnectNumber as Connect;
use wagate_messaging::secret::Secret;

use crate::state::{AdminState, AdministeredTenant};
use http_api::error::{ApiError, ErrorBody, JsonBodyErrors, KeyedRouteErrors};
use http_api::extract::JsonBody;
use http_api::unix_now;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectNumber {
    /// The WhatsApp Business Account the number belongs to (digits). Meta must list the
    /// number among the account's numbers.
    #[schema(pattern = "^[0-9]{5,20}$")]
    pub waba_id: String,
    /// Optional: the number as people dial it, digits with an optional leading `+`. When
    /// given, it must be the display number Meta shows; the stored one is always Meta's.
    #[serde(default)]
    #[schema(pattern = "^[+]?[0-9]{6,15}$")]
    pub display_phone_number: Option<String>,
    /// A system user access token with whatsapp_business_messaging permission, which must
    /// reach both the number and the account. Stored encrypted; never returned.
    #[schema(min_length = 20, max_length = 1024)]
    pub access_token: String,
    /// Shared with the WhatsApp Business app (coexistence): Meta allows 20 messages/s.
    #[serde(default)]
    pub coexistence: bool,
}

/// Carries a token: never printed.
impl std::fmt::Debug for ConnectNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectNumber")
            .field("waba_id", &self.waba_id)
            .field("coexistence", &self.coexistence)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateToken {
    #[schema(min_length = 20, max_length = 1024)]
    pub access_token: String,
}

/// Carries a token: never printed.
impl std::fmt::Debug for RotateToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RotateToken { .. }")
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumberView {
    pub phone_number_id: String,
    pub waba_id: String,
    /// As Meta showed it when the number was connected.
    pub display_phone_number: String,
    /// The business name Meta verified for the number.
    pub verified_name: Option<String>,
    /// Meta's quality rating when the number was connected (`GREEN`, `YELLOW`, `RED`…).
    pub quality_rating: Option<String>,
    /// Messages per second Meta allows the number, as last reported.
    pub throughput_per_second: u32,
    /// What the sender uses: the throughput, or 20 for a coexistence number.
    pub send_rate: u32,
    pub coexistence: bool,
    /// `active`, or `paused` after Meta limited the number (see `paused_until`).
    pub status: NumberStatus,
    pub paused_until: Option<i64>,
    pub pause_reason: Option<String>,
    pub token: TokenView,
    /// Meta's latest quality update for the number, when there was one.
    pub quality: Option<QualityView>,
}

/// A number's quality as Meta's `phone_number_quality_update` last reported it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QualityView {
    /// `FLAGGED` (quality dropped: the messaging limit may be lowered), `UNFLAGGED`,
    /// `UPGRADE`, `DOWNGRADE`, `THROUGHPUT_UPGRADE`…
    pub event: String,
    /// `TIER_250`, `TIER_1K`, … `TIER_UNLIMITED`: unique users per 24 hours.
    pub messaging_limit: Option<String>,
    /// When Meta sent it, epoch seconds.
    pub at: i64,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberStatus {
    Active,
    Paused,
}

/// What is shown of an access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// The first 12 hex digits of the token's SHA-256.
    pub fingerprint: Option<String>,
    /// When the token was set (epoch seconds).
    pub set_at: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NumberList {
    pub numbers: Vec<NumberView>,
}

fn view(number: &PhoneNumber, now: i64) -> NumberView {
    let paused = number.paused_until.filter(|until| *until > now);
    NumberView {
        phone_number_id: number.phone_number_id.clone(),
        waba_id: number.waba_id.clone(),
        display_phone_number: number.display_phone_number.clone(),
        verified_name: number.verified_name.clone(),
        quality_rating: number.quality_rating.clone(),
        throughput_per_second: number.throughput_per_second,
        send_rate: number.send_rate(),
        coexistence: number.coexistence,
        status: if paused.is_some() {
            NumberStatus::Paused
        } else {
            NumberStatus::Active
        },
        paused_until: paused,
        pause_reason: paused.and(number.pause_reason.clone()),
        token: TokenView {
            fingerprint: number.token_fingerprint.clone(),
            set_at: number.token_set_at,
        },
        quality: number.quality.as_ref().map(|q| QualityView {
            event: q.event.clone(),
            messaging_limit: q.messaging_limit.clone(),
            at: q.at,
        }),
    }
}

fn digits(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    if (min..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("{field} must be {min} to {max} digits"),
        ))
    }
}

fn checked_token(token: &str) -> Result<(), ApiError> {
    let printable = token.bytes().all(|b| b.is_ascii_graphic());
    if (20..=1024).contains(&token.len()) && printable {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "access_token",
            "access_token must be 20 to 1024 printable characters without spaces",
        ))
    }
}

/// Connects a phone number to the tenant, or replaces its connection, once Meta confirmed
/// that the token reaches the number and its account and that the account lists it.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}", tag = "numbers",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("phone_number_id" = String, Path, description = "Meta's id of the phone number"),
    ),
    request_body = ConnectNumber,
    responses(
        (status = 200, description = "Connected", body = NumberView),
        JsonBodyErrors,
        (status = 409, description = "The number (`number_taken`) or its WhatsApp Business Account (`waba_taken`) is held by another tenant", body = ErrorBody),
        (status = 422, description = "Meta does not confirm it: `not_owned` (the field that did not match) or `token_invalid` (Meta's code in the message)", body = ErrorBody),
        (status = 502, description = "Meta could not be asked; nothing was stored", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn connect_number(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    Path((_, phone_number_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<ConnectNumber>,
) -> Result<Json<NumberView>, ApiError> {
    digits("phone_number_id", &phone_number_id, 5, 20)?;
    digits("waba_id", &body.waba_id, 5, 20)?;
    let expected = body
        .display_phone_number
        .as_deref()
        .map(|d| d.strip_prefix('+').unwrap_or(d));
    if let Some(display) = expected {
        digits("display_phone_number", display, 6, 15)?;
    }
    checked_token(&body.access_token)?;
    let token = Secret::new(body.access_token);
    let now = unix_now();
    let number = state
        .setup
        .connect_number(Connect {
            tenant: &tenant,
            phone_number_id: &phone_number_id,
            waba_id: &body.waba_id,
            access_token: &token,
            coexistence: body.coexistence,
            expected_display_number: expected,
            now,
        })
        .await?;
    Ok(Json(view(&number, now)))
}

/// Lists the tenant's phone numbers with their throughput, status and token fingerprint.
#[utoipa::path(get, path = "/admin/v1/tenants/{tenant_id}/numbers", tag = "numbers",
    params(("tenant_id" = String, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The numbers", body = NumberList),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn list_numbers(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
) -> Result<Json<NumberList>, ApiError> {
    let now = unix_now();
    let numbers = state
        .admin
        .numbers(&tenant)
        .await?
        .iter()
        .map(|n| view(n, now))
        .collect();
    Ok(Json(NumberList { numbers }))
}

/// Replaces a number's access token; senders pick it up within a minute, or at once when
/// Meta refuses the old one.
#[utoipa::path(put, path = "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}/token", tag = "numbers",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("phone_number_id" = String, Path, description = "Meta's id of the phone number"),
    ),
    request_body = RotateToken,
    responses(
        (status = 200, description = "The number with its new token's fingerprint", body = NumberView),
        JsonBodyErrors,
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn rotate_token(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    Path((_, phone_number_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<RotateToken>,
) -> Result<Json<NumberView>, ApiError> {
    checked_token(&body.access_token)?;
    let now = unix_now();
    let number = state
        .admin
        .rotate_token(&tenant, &phone_number_id, &body.access_token, now)
        .await?
        .ok_or(ApiError::NotFound("phone number"))?;
    tracing::info!(tenant = %tenant, phone_number_id = %phone_number_id, "access token rotated");
    Ok(Json(view(&number, now)))
}

/// Disconnects a number: its token is deleted and no sender sends from it any more.
#[utoipa::path(delete, path = "/admin/v1/tenants/{tenant_id}/numbers/{phone_number_id}", tag = "numbers",
    params(
        ("tenant_id" = String, Path, description = "The tenant's id"),
        ("phone_number_id" = String, Path, description = "Meta's id of the phone number"),
    ),
    responses(
        (status = 204, description = "Disconnected"),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["tenant_admin"])))]
pub async fn disconnect_number(
    State(state): State<Arc<AdminState>>,
    AdministeredTenant { id: tenant, .. }: AdministeredTenant,
    Path((_, phone_number_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !state
        .admin
        .disconnect_number(&tenant, &phone_number_id, unix_now())
        .await?
    {
        return Err(ApiError::NotFound("phone number"));
    }
    tracing::info!(tenant = %tenant, phone_number_id = %phone_number_id, "phone number disconnected");
    Ok(StatusCode::NO_CONTENT)
}
