//! A tenant's consent settings: the opt-out words it listens for beyond the baseline (which
//! no tenant can remove), its opt-in words, the buttons that opt out, what a keyword
//! covers, the acknowledgement, and what a marketing opt-out does to other messages.
//! Checked once, when an admin sets them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::Scope;
use super::keywords::{
    KeywordMatch, KeywordMatcher, LANGUAGES, MAX_KEYWORD_CHARS, MAX_KEYWORDS, is_common_reply,
    normalize,
};

pub const MAX_BUTTON_PAYLOADS: usize = 20;
pub const MAX_PAYLOAD_CHARS: usize = 256;
pub const MAX_ACKNOWLEDGEMENT_CHARS: usize = 1024;

/// After an opt-out of marketing alone: what happens to utility and authentication
/// templates and to replies inside the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NonMarketingPolicy {
    /// They are sent (the default): the person stopped marketing, not their orders.
    #[default]
    Allow,
    /// They are refused too.
    Refuse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsentSettings {
    /// Per language (`en`, `es`, `pt`, `fr`, `de`, `it`, `hi`, `ar`, `id`): opt-out words
    /// added to that language's default ones, which always apply (`STOP` cannot be turned
    /// off).
    #[serde(default)]
    pub opt_out_keywords: BTreeMap<String, Vec<String>>,
    /// Per language: the opt-in (resume) words that replace the defaults. None may be an
    /// ordinary reply (`ok`, `yes`, `hi`, a digit, and their like in each language): 422
    /// `common_word`.
    #[serde(default)]
    pub opt_in_keywords: BTreeMap<String, Vec<String>>,
    /// Quick-reply button payloads that opt the person out, compared exactly.
    #[serde(default)]
    pub opt_out_button_payloads: Vec<String>,
    /// What a keyword or button opt-out covers (`all` unless set).
    #[serde(default = "all_scope")]
    pub keyword_scope: Scope,
    /// Whether a keyword or button opt-out is confirmed with a short reply (once).
    #[serde(default = "yes")]
    pub acknowledge: bool,
    /// Per language: the confirmation text that replaces the default.
    #[serde(default)]
    pub acknowledgements: BTreeMap<String, String>,
    /// After an opt-out of marketing alone: whether other templates and replies go out.
    #[serde(default)]
    pub non_marketing: NonMarketingPolicy,
}

fn all_scope() -> Scope {
    Scope::All
}

fn yes() -> bool {
    true
}

impl Default for ConsentSettings {
    fn default() -> Self {
        Self {
            opt_out_keywords: BTreeMap::new(),
            opt_in_keywords: BTreeMap::new(),
            opt_out_button_payloads: Vec::new(),
            keyword_scope: Scope::All,
            acknowledge: true,
            acknowledgements: BTreeMap::new(),
            non_marketing: NonMarketingPolicy::Allow,
        }
    }
}

/// Which field is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct SettingsError {
    pub field: String,
    pub problem: String,
    /// An opt-in word that is an ordinary reply: well-formed, but not allowed.
    pub common_word: bool,
}

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        field: field.into(),
        problem: problem.into(),
        common_word: false,
    }
}

impl ConsentSettings {
    pub fn validate(&self) -> Result<(), SettingsError> {
        for (field, lists) in [
            ("opt_out_keywords", &self.opt_out_keywords),
            ("opt_in_keywords", &self.opt_in_keywords),
        ] {
            for (language, words) in lists {
                let at = format!("{field}.{language}");
                known_language(&at, language)?;
                if words.is_empty() || words.len() > MAX_KEYWORDS {
                    return Err(refuse(
                        at,
                        format!(
                            "must list 1 to {MAX_KEYWORDS} words (leave the language out to keep its defaults)"
                        ),
                    ));
                }
                for word in words {
                    let kept = normalize(word);
                    if kept.is_empty()
                        || word.chars().count() > MAX_KEYWORD_CHARS
                        || word.chars().any(char::is_control)
                    {
                        return Err(refuse(
                            &at,
                            format!(
                                "holds a word that is empty, control characters or over {MAX_KEYWORD_CHARS} characters"
                            ),
                        ));
                    }
                    if field == "opt_in_keywords" && is_common_reply(word) {
                        return Err(SettingsError {
                            common_word: true,
                            ..refuse(
                                &at,
                                format!(
                                    "holds {word:?}, an ordinary reply: people write it without asking to be messaged again, so it cannot opt them in"
                                ),
                            )
                        });
                    }
                }
            }
        }
        if self.opt_out_button_payloads.len() > MAX_BUTTON_PAYLOADS {
            return Err(refuse(
                "opt_out_button_payloads",
                format!("may list at most {MAX_BUTTON_PAYLOADS} payloads"),
            ));
        }
        if self
            .opt_out_button_payloads
            .iter()
            .any(|p| p.is_empty() || p.chars().count() > MAX_PAYLOAD_CHARS)
        {
            return Err(refuse(
                "opt_out_button_payloads",
                format!("holds a payload that is empty or over {MAX_PAYLOAD_CHARS} characters"),
            ));
        }
        for (language, text) in &self.acknowledgements {
            let at = format!("acknowledgements.{language}");
            known_language(&at, language)?;
            if text.trim().is_empty() || text.chars().count() > MAX_ACKNOWLEDGEMENT_CHARS {
                return Err(refuse(
                    at,
                    format!("must be 1 to {MAX_ACKNOWLEDGEMENT_CHARS} characters"),
                ));
            }
        }
        Ok(())
    }

    /// The tenant's keywords, ready to match.
    pub fn matcher(&self) -> KeywordMatcher {
        KeywordMatcher::new(&self.opt_out_keywords, &self.opt_in_keywords)
    }

    /// The keyword a message is, if it is one. Most messages are too long to be one and
    /// cost a length check; a tenant with the default words shares one matcher per
    /// container.
    pub fn find_keyword(&self, text: &str) -> Option<KeywordMatch> {
        static DEFAULTS: LazyLock<KeywordMatcher> =
            LazyLock::new(|| KeywordMatcher::new(&BTreeMap::new(), &BTreeMap::new()));
        if text.len() > MAX_KEYWORD_CHARS * 8 {
            return None;
        }
        if self.opt_out_keywords.is_empty() && self.opt_in_keywords.is_empty() {
            DEFAULTS.find(text)
        } else {
            self.matcher().find(text)
        }
    }

    /// Whether a quick-reply payload is one of the tenant's opt-out buttons.
    pub fn is_opt_out_button(&self, payload: &str) -> bool {
        self.opt_out_button_payloads.iter().any(|p| p == payload)
    }

    /// The confirmation of an opt-out in `language` (English if the language is unknown).
    pub fn acknowledgement(&self, language: &str) -> &str {
        self.acknowledgements
            .get(language)
            .map(String::as_str)
            .unwrap_or_else(|| super::keywords::default_acknowledgement(language))
    }
}

fn known_language(field: &str, language: &str) -> Result<(), SettingsError> {
    if LANGUAGES.contains(&language) {
        Ok(())
    } else {
        Err(refuse(
            field,
            format!(
                "is not a known language: use one of {}",
                LANGUAGES.join(", ")
            ),
        ))
    }
}
