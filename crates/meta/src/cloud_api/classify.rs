//! What a Cloud API error means for the sender, by `error.code` (never by HTTP status or
//! title), per the table in shared/cloud-api.md.

/// The sender's next step after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Retry soon with backoff and jitter, and slow the phone number's pacing (130429).
    RetryThrottled,
    /// Retry this recipient only, after a growing pause; other recipients go on (131056).
    RetryRecipient,
    /// Retry after minutes, backing off the whole WABA (4, 80007).
    RetryWaba,
    /// A passing fault: retry a bounded number of times.
    RetryTransient,
    /// The number is in maintenance (131057): retry after about a minute.
    RetryAfterMaintenance,
    /// Do not retry; the cause goes to the tenant.
    Permanent(PermanentReason),
    /// Pause sends from the number and alert the tenant (spam or template limits).
    PauseNumber,
    /// Stop the tenant's sending: the token expired or lacks permission.
    StopTenantCredential,
    /// Stop the number or tenant: account restricted, payment, number not registered.
    StopAccount,
}

/// Why a permanent failure happened, where the sender acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermanentReason {
    /// 131047: the 24-hour window is closed; a template is required.
    WindowClosed,
    /// 131026: not on WhatsApp or an old client; mark the recipient undeliverable.
    Undeliverable,
    /// 131049: the per-user marketing limit; no retry for 24 hours.
    MarketingLimit,
    /// 131050: the user stopped marketing messages; suppress marketing to them.
    MarketingStopped,
    /// Bad parameters or a missing, paused or disabled template.
    BadRequest,
    /// Blocked, unsupported, an experiment, or sender and recipient the same.
    Refused,
}

/// Classifies an error by Meta's code. `None` is a failure without a Meta error body:
/// HTTP 429, 5xx, a timeout or a connection error, all retryable.
pub fn classify(code: Option<i64>) -> ErrorClass {
    use ErrorClass::*;
    use PermanentReason::*;
    let Some(code) = code else {
        return RetryTransient;
    };
    match code {
        130429 => RetryThrottled,
        131056 => RetryRecipient,
        4 | 80007 => RetryWaba,
        131000 | 131016 | 133004 | 1 | 2 => RetryTransient,
        131057 => RetryAfterMaintenance,
        131053 => RetryTransient,
        131048 | 131064 => PauseNumber,
        131047 => Permanent(WindowClosed),
        131026 => Permanent(Undeliverable),
        131049 => Permanent(MarketingLimit),
        131050 => Permanent(MarketingStopped),
        130472 | 130403 | 131051 | 131021 => Permanent(Refused),
        100 | 131008 | 131009 | 135000 | 132000..=132069 => Permanent(BadRequest),
        190 | 0 | 3 | 10 | 200..=299 => StopTenantCredential,
        368 | 131031 | 130497 | 131042 | 131045 | 133010 => StopAccount,
        // An unknown code: retrying a bounded number of times is safer than dropping.
        _ => RetryTransient,
    }
}

impl ErrorClass {
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RetryThrottled
                | Self::RetryRecipient
                | Self::RetryWaba
                | Self::RetryTransient
                | Self::RetryAfterMaintenance
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_and_pair_limits_are_retried_differently() {
        assert_eq!(classify(Some(130429)), ErrorClass::RetryThrottled);
        assert_eq!(classify(Some(131056)), ErrorClass::RetryRecipient);
        assert!(classify(Some(130429)).is_retryable());
    }

    #[test]
    fn a_closed_window_is_permanent_and_names_the_window() {
        assert_eq!(
            classify(Some(131047)),
            ErrorClass::Permanent(PermanentReason::WindowClosed)
        );
        assert!(!classify(Some(131047)).is_retryable());
    }

    #[test]
    fn token_and_permission_errors_stop_the_tenant() {
        for code in [190, 0, 3, 10, 200, 299] {
            assert_eq!(
                classify(Some(code)),
                ErrorClass::StopTenantCredential,
                "{code}"
            );
        }
    }

    #[test]
    fn template_errors_are_bad_requests_across_the_whole_range() {
        for code in [100, 131008, 131009, 135000, 132000, 132001, 132069] {
            assert_eq!(
                classify(Some(code)),
                ErrorClass::Permanent(PermanentReason::BadRequest),
                "{code}"
            );
        }
    }

    #[test]
    fn spam_limits_pause_the_number_and_restrictions_stop_the_account() {
        assert_eq!(classify(Some(131048)), ErrorClass::PauseNumber);
        assert_eq!(classify(Some(368)), ErrorClass::StopAccount);
        assert_eq!(classify(Some(131031)), ErrorClass::StopAccount);
    }

    #[test]
    fn failures_without_a_meta_code_and_unknown_codes_are_retried() {
        assert_eq!(classify(None), ErrorClass::RetryTransient);
        assert_eq!(classify(Some(999_999)), ErrorClass::RetryTransient);
    }
}
