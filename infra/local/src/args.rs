//! `--key value` options; `--param` may repeat.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
    pub params: Vec<(String, String)>,
}

impl Args {
    pub fn parse(argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut args = Args::default();
        let mut argv = argv.peekable();
        while let Some(flag) = argv.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {flag}"))?;
            let value = argv
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            if name == "param" {
                let (k, v) = value.split_once('=').ok_or("--param takes KEY=VALUE")?;
                args.params.push((k.to_owned(), v.to_owned()));
            } else {
                args.values.insert(name.to_owned(), value);
            }
        }
        Ok(args)
    }

    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.values
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}
