//! Reads `template.yaml` and resolves the intrinsic functions the local stack needs
//! (`!Ref`, `!GetAtt`, `!Sub`) against parameters and created resources.

use std::collections::HashMap;

use yaml_serde::Value;

use crate::BoxError;

pub struct Template {
    pub resources: yaml_serde::Mapping,
    pub outputs: yaml_serde::Mapping,
    params: HashMap<String, String>,
    /// Logical id -> what `!Ref` gives (table name, queue URL, key id).
    pub refs: HashMap<String, String>,
    /// `Logical.Attribute` -> what `!GetAtt` gives.
    pub attrs: HashMap<String, String>,
    pub stack_name: String,
}

impl Template {
    pub fn load(
        path: &str,
        stack_name: &str,
        overrides: &[(String, String)],
    ) -> Result<Self, BoxError> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let doc: Value = yaml_serde::from_str(&text)?;
        let mapping = |name: &str| {
            doc.get(name)
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default()
        };
        let mut params = HashMap::new();
        for (name, spec) in mapping("Parameters") {
            let name = name.as_str().unwrap_or_default().to_owned();
            if let Some(default) = spec.get("Default") {
                params.insert(name, scalar(default));
            }
        }
        for (k, v) in overrides {
            params.insert(k.clone(), v.clone());
        }
        Ok(Self {
            resources: mapping("Resources"),
            outputs: mapping("Outputs"),
            params,
            refs: HashMap::new(),
            attrs: HashMap::new(),
            stack_name: stack_name.to_owned(),
        })
    }

    pub fn set_param(&mut self, name: &str, value: String) {
        self.params.insert(name.to_owned(), value);
    }

    /// The resources of one type, in template order.
    pub fn resources_of(&self, kind: &str) -> Vec<(String, Value)> {
        self.resources
            .iter()
            .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(kind))
            .map(|(id, r)| {
                (
                    id.as_str().unwrap_or_default().to_owned(),
                    r.get("Properties").cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    /// Resolves a value to a string.
    pub fn resolve(&self, value: &Value) -> Result<String, BoxError> {
        match value {
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                let arg = &tagged.value;
                match tag.trim_start_matches('!') {
                    "Ref" => self.reference(&scalar(arg)),
                    "GetAtt" => {
                        let key = scalar(arg);
                        self.attrs
                            .get(&key)
                            .cloned()
                            .ok_or_else(|| format!("unknown attribute {key}").into())
                    }
                    "Sub" => self.substitute(&scalar(arg)),
                    other => Err(format!("intrinsic !{other} is not supported locally").into()),
                }
            }
            other => Ok(scalar(other)),
        }
    }

    fn reference(&self, name: &str) -> Result<String, BoxError> {
        if let Some(p) = self.params.get(name) {
            return Ok(p.clone());
        }
        self.refs
            .get(name)
            .cloned()
            .ok_or_else(|| format!("unresolved !Ref {name}").into())
    }

    fn substitute(&self, text: &str) -> Result<String, BoxError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').ok_or("unclosed ${ in !Sub")? + start;
            let name = &rest[start + 2..end];
            let value = match name {
                "AWS::StackName" => self.stack_name.clone(),
                "AWS::Partition" => "aws".into(),
                "AWS::AccountId" => "123456789012".into(),
                "AWS::Region" => std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
                n if n.contains('.') => self
                    .attrs
                    .get(n)
                    .cloned()
                    .ok_or_else(|| format!("unknown attribute {n}"))?,
                n => self.reference(n)?,
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => yaml_serde::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}
