//! Consent: a contact's opt-ins and opt-outs (the ledger), the state they add up to, and
//! the one rule every sender asks before a message goes out. Keywords and the tenant's
//! settings are in `keywords` and `settings`; storage is `store::contact::consent`.

pub mod keywords;
pub mod settings;

use serde::{Deserialize, Serialize};

pub use settings::{ConsentSettings, NonMarketingPolicy};

/// What an opt-in or opt-out covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Marketing templates.
    Marketing,
    /// Every message the business starts or sends.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    OptIn,
    OptOut,
}

/// Where a consent change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The person wrote an opt-out or opt-in keyword.
    Keyword,
    /// The person pressed a quick-reply button the tenant declared an opt-out.
    Button,
    /// The business's own systems, through the API.
    Api,
    /// A contact import.
    Import,
    /// Meta's `user_preferences` webhook (the person stopped or resumed marketing in
    /// WhatsApp).
    Meta,
    /// The business, lifting an opt-out the person gave themselves, with a reference to the
    /// new consent the person gave it (a signed form, a recorded call): the one way the
    /// business may opt them back in.
    Business,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "marketing",
            Self::All => "all",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "marketing" => Some(Self::Marketing),
            "all" => Some(Self::All),
            _ => None,
        }
    }
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptIn => "opt_in",
            Self::OptOut => "opt_out",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "opt_in" => Some(Self::OptIn),
            "opt_out" => Some(Self::OptOut),
            _ => None,
        }
    }
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Button => "button",
            Self::Api => "api",
            Self::Import => "import",
            Self::Meta => "meta",
            Self::Business => "business",
        }
    }

    /// Whether the person themselves made the choice (a keyword, a button, in WhatsApp),
    /// rather than the business reporting one.
    pub fn is_the_persons(self) -> bool {
        matches!(self, Self::Keyword | Self::Button | Self::Meta)
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Keyword,
            Self::Button,
            Self::Api,
            Self::Import,
            Self::Meta,
            Self::Business,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// One line of a contact's consent ledger. `evidence` is the public id of the person's
/// message, or the API key id that recorded it (with the business's reference of a new
/// consent, for `business`); never what the person wrote, nor a wamid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEntry {
    pub scope: Scope,
    pub action: Action,
    pub source: Source,
    pub evidence: Option<String>,
    /// When the choice was made, epoch seconds.
    pub at: i64,
    /// The event came through the tenant's own Meta app (its own webhook door), whose
    /// secret the tenant holds: evidence an auditor weighs differently from what came
    /// through the platform's app.
    pub via_tenant_app: bool,
}

/// Why the business may not record an opt-in: the person opted out themselves, and only
/// they, or the business with a reference to their new consent, may lift that.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the person opted out of {} themselves ({}): only they can opt back in, or the business with a reference to their new consent (source `business` and `consent_reference`)",
    scope.as_str(),
    how.map_or("kept from before", |s| s.as_str())
)]
pub struct PersonsOwnOptOut {
    pub scope: Scope,
    /// How they opted out; `None` for an opt-out kept from before their contact existed.
    pub how: Option<Source>,
}

impl ConsentEntry {
    /// The entry's id: the same choice recorded twice (a redelivery, a retried call) is
    /// one entry.
    pub fn id(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(
            format!(
                "{}\n{}\n{}\n{}\n{}",
                self.scope.as_str(),
                self.action.as_str(),
                self.source.as_str(),
                self.evidence.as_deref().unwrap_or(""),
                self.at
            )
            .as_bytes(),
        );
        hex::encode(&digest[..8])
    }
}

/// The latest choice in one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentMark {
    pub opted_out: bool,
    pub at: i64,
    pub source: Option<Source>,
    pub evidence: Option<String>,
}

impl ConsentMark {
    /// An opt-out the person gave themselves, or one kept from before their contact (whose
    /// source is not kept).
    pub fn is_persons_opt_out(&self) -> bool {
        self.opted_out && self.source.is_none_or(Source::is_the_persons)
    }
}

/// What a contact's ledger adds up to: the latest choice per scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentState {
    pub marketing: Option<ConsentMark>,
    pub all: Option<ConsentMark>,
}

/// What a sender is about to send, as consent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    /// A template whose category Meta gave (`MARKETING`, `UTILITY`, `AUTHENTICATION`);
    /// `None` when the gateway does not know the template, which counts as marketing.
    Template { category: Option<TemplateKind> },
    /// A free-form message inside the person's window.
    Reply,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    Marketing,
    Other,
}

impl TemplateKind {
    pub fn of_category(category: &str) -> Self {
        if category.eq_ignore_ascii_case("MARKETING") {
            Self::Marketing
        } else {
            Self::Other
        }
    }
}

/// Why a message may not go to a contact: the ledger entry that says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the recipient opted out of {} messages", scope.as_str())]
pub struct OptedOut {
    pub scope: Scope,
    pub at: i64,
    /// The entry's source (named so because `source` means a cause to error types).
    pub origin: Option<Source>,
}

impl OptedOut {
    /// The refusal as a message record keeps it: the scope, when and how.
    pub fn describe(&self) -> String {
        let how = self.origin.map_or("", |s| s.as_str());
        format!("{self} (at {}, {how})", self.at)
    }
}

impl ConsentState {
    /// Whether the business may record `entry` (from the API or an import): an opt-in over
    /// an opt-out the person gave themselves, or one kept from before their contact (whose
    /// source is not kept), needs the business's reference to their new consent, which
    /// only a `business` entry carries.
    pub fn business_may_record(&self, entry: &ConsentEntry) -> Result<(), PersonsOwnOptOut> {
        if entry.action != Action::OptIn || entry.source == Source::Business {
            return Ok(());
        }
        // Either scope: an opt-out of `all` covers marketing, and an opt-in of `all`
        // resumes marketing too.
        for scope in &[Scope::All, Scope::Marketing] {
            if let Some(mark) = self.mark(*scope).filter(|m| m.is_persons_opt_out()) {
                return Err(PersonsOwnOptOut {
                    scope: *scope,
                    how: mark.source,
                });
            }
        }
        Ok(())
    }

    pub fn mark(&self, scope: Scope) -> Option<&ConsentMark> {
        match scope {
            Scope::Marketing => self.marketing.as_ref(),
            Scope::All => self.all.as_ref(),
        }
    }

    fn opted_out(&self, scope: Scope) -> Option<OptedOut> {
        self.mark(scope).filter(|m| m.opted_out).map(|m| OptedOut {
            scope,
            at: m.at,
            origin: m.source,
        })
    }

    /// Whether the person stopped marketing (in either scope: `all` covers it).
    pub fn marketing_opt_out(&self) -> bool {
        self.opted_out(Scope::All).is_some() || self.opted_out(Scope::Marketing).is_some()
    }

    /// Whether a template's category decides: only with a marketing opt-out alone, when
    /// the policy still lets other templates through. Reading the category costs a
    /// lookup; every other case decides without it.
    pub fn needs_template_category(&self, policy: NonMarketingPolicy) -> bool {
        self.opted_out(Scope::All).is_none()
            && self.opted_out(Scope::Marketing).is_some()
            && policy == NonMarketingPolicy::Allow
    }

    /// The rule every sender asks: an opt-out of `all` refuses everything; one of
    /// `marketing` refuses marketing templates (and an unknown template), and other
    /// templates and replies as the tenant's policy says.
    pub fn check(&self, sending: Sending, policy: NonMarketingPolicy) -> Result<(), OptedOut> {
        if let Some(all) = self.opted_out(Scope::All) {
            return Err(all);
        }
        let Some(marketing) = self.opted_out(Scope::Marketing) else {
            return Ok(());
        };
        let refused = match sending {
            Sending::Template {
                category: Some(TemplateKind::Other),
            }
            | Sending::Reply => policy == NonMarketingPolicy::Refuse,
            Sending::Template { .. } => true,
        };
        if refused { Err(marketing) } else { Ok(()) }
    }

    /// Takes each scope's mark from `other` where it is later: what several identifiers'
    /// opt-outs add up to.
    pub fn take_later(&mut self, other: &ConsentState) {
        for (mine, theirs) in [
            (&mut self.marketing, &other.marketing),
            (&mut self.all, &other.all),
        ] {
            if let Some(theirs) = theirs
                && mine.as_ref().is_none_or(|m| m.at < theirs.at)
            {
                *mine = Some(theirs.clone());
            }
        }
    }

    /// The state after `entry`, as the store applies it: a newer choice wins; an opt-out
    /// of a scope already opted out of keeps the first (so it is acknowledged once), unless
    /// the first was the business's and this one the person's own (then the opt-out is
    /// theirs, and only they or a reference to their new consent lift it); an opt-in of
    /// `all` opts back into marketing too; an opt-in the business records without a
    /// reference never moves an opt-out the person gave.
    pub fn apply(&mut self, entry: &ConsentEntry) {
        for scope in entry.scopes_changed() {
            let slot = match scope {
                Scope::Marketing => &mut self.marketing,
                Scope::All => &mut self.all,
            };
            let newer = slot.as_ref().is_none_or(|m| m.at <= entry.at);
            let persons_opt_out = slot.as_ref().is_some_and(ConsentMark::is_persons_opt_out);
            let already_out = entry.action == Action::OptOut
                && slot.as_ref().is_some_and(|m| m.opted_out)
                && (persons_opt_out || !entry.source.is_the_persons());
            let unreferenced_lift = entry.action == Action::OptIn
                && !entry.source.is_the_persons()
                && entry.source != Source::Business
                && persons_opt_out;
            // Their own opt-out arriving late still replaces what the business's systems
            // recorded: in time order it came first, and such an entry could not move it.
            let over_business_systems = entry.action == Action::OptOut
                && entry.source.is_the_persons()
                && slot
                    .as_ref()
                    .is_some_and(|m| matches!(m.source, Some(Source::Api | Source::Import)));
            if (newer && !already_out && !unreferenced_lift) || over_business_systems {
                *slot = Some(entry.mark());
            }
        }
    }
}

impl ConsentEntry {
    /// The scopes whose state the entry sets: an opt-in of `all` resumes marketing too.
    pub fn scopes_changed(&self) -> &'static [Scope] {
        match (self.action, self.scope) {
            (Action::OptIn, Scope::All) => &[Scope::All, Scope::Marketing],
            (_, Scope::All) => &[Scope::All],
            (_, Scope::Marketing) => &[Scope::Marketing],
        }
    }

    pub fn mark(&self) -> ConsentMark {
        ConsentMark {
            opted_out: self.action == Action::OptOut,
            at: self.at,
            source: Some(self.source),
            evidence: self.evidence.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
