//! How a WhatsApp user is known: by phone number (`wa_id`) and/or business-scoped user id.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum IdentityError {
    #[error("a phone number must be 6 to 15 digits in international form, without spaces")]
    BadPhone,
    #[error("a business-scoped user id looks like CC.<id> (for example US.1349120865530274)")]
    BadBsuid,
    #[error("the user has neither a phone number nor a business-scoped user id")]
    NoIdentity,
}

/// A phone number as WhatsApp writes it: digits only, country code first (E.164 without +).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Accepts `+49 151 1234-5678` style input as well as Meta's bare digits.
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let digits: String = raw
            .trim()
            .trim_start_matches('+')
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        let valid = (6..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(digits))
        } else {
            Err(IdentityError::BadPhone)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A business-scoped user id, such as `US.13491208655302741918` or `US.ENT.118157992`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bsuid(String);

impl Bsuid {
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let raw = raw.trim();
        let (country, rest) = raw.split_once('.').ok_or(IdentityError::BadBsuid)?;
        let valid = country.len() == 2
            && country.bytes().all(|b| b.is_ascii_uppercase())
            && !rest.is_empty()
            && raw.len() <= 128
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdentityError::BadBsuid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Everything by which one user is known; at least one of the two is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserIdentity {
    pub phone: Option<Phone>,
    pub bsuid: Option<Bsuid>,
}

impl UserIdentity {
    /// Builds an identity from what a payload carried; invalid values are dropped, and
    /// an identity with nothing valid left is an error.
    pub fn from_parts(phone: Option<&str>, bsuid: Option<&str>) -> Result<Self, IdentityError> {
        let phone = phone
            .filter(|p| !p.is_empty())
            .map(Phone::parse)
            .transpose();
        let bsuid = bsuid
            .filter(|b| !b.is_empty())
            .map(Bsuid::parse)
            .transpose();
        let identity = Self {
            phone: phone.unwrap_or(None),
            bsuid: bsuid.unwrap_or(None),
        };
        if identity.phone.is_none() && identity.bsuid.is_none() {
            return Err(IdentityError::NoIdentity);
        }
        Ok(identity)
    }

    /// The lookup keys of this identity, phone first.
    pub fn keys(&self) -> Vec<IdentityKey> {
        let mut keys = Vec::with_capacity(2);
        if let Some(p) = &self.phone {
            keys.push(IdentityKey::Phone(p.clone()));
        }
        if let Some(b) = &self.bsuid {
            keys.push(IdentityKey::Bsuid(b.clone()));
        }
        keys
    }
}

/// One way to look a user up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentityKey {
    Phone(Phone),
    Bsuid(Bsuid),
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(p) => write!(f, "phone:{}", p.as_str()),
            Self::Bsuid(b) => write!(f, "bsuid:{}", b.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_bare_digits() {
        assert_eq!(
            Phone::parse("+49 151 1234-5678").unwrap().as_str(),
            "4915112345678"
        );
        assert_eq!(
            Phone::parse("972987654321").unwrap().as_str(),
            "972987654321"
        );
    }

    #[test]
    fn implausible_phone_numbers_are_refused() {
        for bad in [
            "",
            "12345",
            "1234567890123456",
            "0151234567",
            "49abc5678",
            "<PHONE>",
        ] {
            assert_eq!(Phone::parse(bad), Err(IdentityError::BadPhone), "{bad}");
        }
    }

    #[test]
    fn bsuids_keep_their_country_prefix_and_parent_form() {
        assert!(Bsuid::parse("US.13491208655302741918").is_ok());
        assert!(Bsuid::parse("US.ENT.11815799212886844830").is_ok());
        for bad in [
            "13491208655302741918",
            "usa.1",
            "US.",
            "US.12 34",
            "<PARENT_BSUID>",
        ] {
            assert_eq!(Bsuid::parse(bad), Err(IdentityError::BadBsuid), "{bad}");
        }
    }

    #[test]
    fn a_user_known_by_bsuid_alone_is_a_valid_identity() {
        let id = UserIdentity::from_parts(None, Some("US.42")).unwrap();
        assert_eq!(
            id.keys(),
            vec![IdentityKey::Bsuid(Bsuid::parse("US.42").unwrap())]
        );
        assert_eq!(
            UserIdentity::from_parts(Some("<X>"), None),
            Err(IdentityError::NoIdentity)
        );
    }
}
