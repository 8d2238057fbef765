//! `GET /v1/usage`: each number's messages and conversations per UTC day, as the reporting
//! worker counted them (each event once; it may lag the traffic by seconds).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wagate_messaging::access::needs;
use wagate_reporting::usage::{DailyUsage, span};

use crate::state::{Allowed, BusinessState};
use http_api::error::{ApiError, ErrorBody, KeyedRouteErrors};
use http_api::extract::QueryParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// The first day, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// The last day, `YYYY-MM-DD` (UTC), at most 93 days after `from`.
    pub to: String,
    /// Only this phone number id's usage.
    #[serde(default)]
    pub number: Option<String>,
}

/// One number's usage on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyUsageView {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub phone_number_id: String,
    /// Messages people wrote to the number.
    pub received: u64,
    /// Messages Meta accepted from the number.
    pub sent: u64,
    /// Messages Meta refused, or that failed in every attempt.
    pub failed: u64,
    /// Messages refused before any call to Meta by the rules about the person (consent,
    /// the 24-hour window, a restriction).
    pub refused: u64,
    /// Conversations (or their next cycles) opened by a person's message.
    pub conversations_opened_by_person: u64,
    /// Conversations the business opened by writing first.
    pub conversations_opened_by_business: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    /// Oldest day first; days and numbers without any count are left out.
    pub days: Vec<DailyUsageView>,
}

#[utoipa::path(get, path = "/v1/usage", tag = "reports",
    params(UsageParams),
    responses(
        (status = 200, description = "Usage per day and number", body = UsageView),
        (status = 400, description = "Invalid parameter; `field` names which", body = ErrorBody),
        KeyedRouteErrors,
    ),
    security(("bearer" = ["reports"])))]
pub async fn daily_usage(
    State(state): State<Arc<BusinessState>>,
    key: Allowed<needs::Reports>,
    QueryParams(params): QueryParams<UsageParams>,
) -> Result<Json<UsageView>, ApiError> {
    let days = span(&params.from, &params.to)?;
    let usage = state
        .usage
        .daily_usage(&key.0.tenant_id, params.number.as_deref(), days)
        .await?;
    Ok(Json(UsageView {
        days: usage.into_iter().map(view).collect(),
    }))
}

fn view(u: DailyUsage) -> DailyUsageView {
    DailyUsageView {
        day: u.day,
        phone_number_id: u.phone_number_id,
        received: u.received,
        sent: u.sent,
        failed: u.failed,
        refused: u.refused,
        conversations_opened_by_person: u.opened_by_person,
        conversations_opened_by_business: u.opened_by_business,
    }
}
