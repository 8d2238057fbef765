//! Meta's template management for a WhatsApp Business Account: create (checked first as
//! Meta checks it), list page by page, delete by name. Meta allows these calls a few hundred
//! times an hour per WABA, so the gateway keeps its own copy and lists from it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{CloudApiClient, SendError};
use wagate_platform::secret::Secret;

pub const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];
const COMPONENT_TYPES: [&str; 4] = ["HEADER", "BODY", "FOOTER", "BUTTONS"];
const MAX_NAME_CHARS: usize = 512;
const MAX_BODY_CHARS: usize = 1024;

/// A template as it is submitted to Meta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDefinition {
    pub name: String,
    /// `en_US`, `de`, …
    pub language: String,
    pub category: String,
    /// Meta's component objects (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`), as Meta takes them.
    pub components: Vec<Value>,
    /// `POSITIONAL` (`{{1}}`) or `NAMED` (`{{order_id}}`); Meta's default is positional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
}

/// Which field of a definition is wrong, and how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct DefinitionError {
    pub field: String,
    pub problem: String,
}

fn refuse(field: &str, problem: impl Into<String>) -> DefinitionError {
    DefinitionError {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

impl TemplateDefinition {
    /// What Meta would refuse at once; its review of the content comes later.
    pub fn validate(&self) -> Result<(), DefinitionError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= MAX_NAME_CHARS
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(refuse(
                "name",
                "must be 1 to 512 lowercase letters, digits and underscores",
            ));
        }
        if !is_language(&self.language) {
            return Err(refuse("language", "must be a code such as en_US or de"));
        }
        if !CATEGORIES.contains(&self.category.as_str()) {
            return Err(refuse(
                "category",
                "must be MARKETING, UTILITY or AUTHENTICATION",
            ));
        }
        if let Some(format) = &self.parameter_format
            && format != "POSITIONAL"
            && format != "NAMED"
        {
            return Err(refuse("parameter_format", "must be POSITIONAL or NAMED"));
        }
        if self.components.is_empty() || self.components.len() > 10 {
            return Err(refuse("components", "must hold 1 to 10 components"));
        }
        let mut bodies = 0;
        for (i, component) in self.components.iter().enumerate() {
            let field = format!("components[{i}]");
            let kind = component
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_ascii_uppercase)
                .ok_or_else(|| refuse(&field, "needs a type"))?;
            if !COMPONENT_TYPES.contains(&kind.as_str()) {
                return Err(refuse(
                    &format!("{field}.type"),
                    "must be HEADER, BODY, FOOTER or BUTTONS",
                ));
            }
            if kind == "BODY" {
                bodies += 1;
                let text = component.get("text").and_then(Value::as_str).unwrap_or("");
                if text.trim().is_empty() || text.chars().count() > MAX_BODY_CHARS {
                    return Err(refuse(
                        &format!("{field}.text"),
                        "must be 1 to 1024 characters",
                    ));
                }
            }
        }
        if bodies != 1 {
            return Err(refuse("components", "must hold exactly one BODY"));
        }
        Ok(())
    }
}

fn is_language(code: &str) -> bool {
    let (lang, region) = match code.split_once('_') {
        Some((l, r)) => (l, Some(r)),
        None => (code, None),
    };
    (2..=3).contains(&lang.len())
        && lang.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Meta's answer to a created template.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedTemplate {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// A template as Meta lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ListedTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    #[serde(default)]
    pub components: Vec<Value>,
}

#[derive(Deserialize)]
struct TemplatePage {
    data: Vec<ListedTemplate>,
    #[serde(default)]
    paging: Option<Paging>,
}

/// The paging object of a Graph API list.
#[derive(Deserialize)]
pub(crate) struct Paging {
    #[serde(default)]
    cursors: Option<Cursors>,
    /// Present only when there is a next page.
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Cursors {
    #[serde(default)]
    after: Option<String>,
}

impl Paging {
    /// The cursor of the next page, when there is one.
    pub(crate) fn next_cursor(self) -> Option<String> {
        self.next.as_ref()?;
        self.cursors.and_then(|c| c.after)
    }
}

/// `url` with the pairs as its query string, each part encoded.
pub(crate) fn with_query(url: &str, pairs: &[(&str, &str)]) -> Result<reqwest::Url, SendError> {
    let mut url = reqwest::Url::parse(url).map_err(|e| SendError::BadUrl(e.to_string()))?;
    url.query_pairs_mut().extend_pairs(pairs);
    Ok(url)
}

pub(crate) fn read<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SendError> {
    serde_json::from_slice(body).map_err(|e| SendError::UnexpectedBody(e.to_string()))
}

impl CloudApiClient {
    /// Submits a template for review; Meta answers with its id and first status.
    pub async fn create_template(
        &self,
        waba_id: &str,
        token: &Secret,
        definition: &TemplateDefinition,
    ) -> Result<CreatedTemplate, SendError> {
        let url = self.graph_url(&format!("{waba_id}/message_templates"));
        let body = self
            .call(self.http().post(url).json(definition), token)
            .await?;
        read(&body)
    }

    /// One page of the WABA's templates, and the cursor of the next when there is one.
    pub async fn list_templates(
        &self,
        waba_id: &str,
        token: &Secret,
        after: Option<&str>,
    ) -> Result<(Vec<ListedTemplate>, Option<String>), SendError> {
        let url = self.graph_url(&format!("{waba_id}/message_templates"));
        let mut query = vec![
            ("fields", "id,name,language,status,category,components"),
            ("limit", "100"),
        ];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let body = self
            .call(self.http().get(with_query(&url, &query)?), token)
            .await?;
        let page: TemplatePage = read(&body)?;
        Ok((page.data, page.paging.and_then(Paging::next_cursor)))
    }

    /// Deletes the template `name` in the language of template `id` (without `id`, Meta
    /// deletes every language of the name).
    pub async fn delete_template(
        &self,
        waba_id: &str,
        token: &Secret,
        name: &str,
        id: Option<&str>,
    ) -> Result<(), SendError> {
        let url = self.graph_url(&format!("{waba_id}/message_templates"));
        let mut query = vec![("name", name)];
        if let Some(id) = id {
            query.push(("hsm_id", id));
        }
        self.call(self.http().delete(with_query(&url, &query)?), token)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn definition() -> TemplateDefinition {
        TemplateDefinition {
            name: "order_shipped".into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            components: vec![json!({"type": "BODY", "text": "Your order {{1}} shipped.",
                                    "example": {"body_text": [["B-1001"]]}})],
            parameter_format: None,
        }
    }

    #[test]
    fn a_definition_meta_would_refuse_names_its_field() {
        assert!(definition().validate().is_ok());
        type Change = Box<dyn Fn(&mut TemplateDefinition)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|d| d.name = "Order Shipped".into()), "name"),
            (Box::new(|d| d.language = "english".into()), "language"),
            (Box::new(|d| d.category = "PROMO".into()), "category"),
            (Box::new(|d| d.components.clear()), "components"),
            (
                Box::new(|d| d.components[0]["type"] = json!("TITLE")),
                "components[0].type",
            ),
            (
                Box::new(|d| d.components[0]["text"] = json!("")),
                "components[0].text",
            ),
            (
                Box::new(|d| d.components = vec![json!({"type": "FOOTER", "text": "x"})]),
                "components",
            ),
            (
                Box::new(|d| d.parameter_format = Some("BOTH".into())),
                "parameter_format",
            ),
        ];
        for (change, field) in cases {
            let mut d = definition();
            change(&mut d);
            assert_eq!(d.validate().unwrap_err().field, field);
        }
        for code in ["de", "pt_BR", "fil"] {
            assert!(is_language(code), "{code}");
        }
    }
}
