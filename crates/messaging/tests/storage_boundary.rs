//! The storage boundary, checked on the source so that it stays: DynamoDB is called from
//! the table helper (`crates/platform/src/table`) only, and no key format or key attribute
//! of the table appears outside the item modules (`store/` of each context crate) and the helper (tests aside). Item modules own their keys; everything else asks
//! them. The domain crate does no I/O at all.

use std::fs;
use std::path::{Path, PathBuf};

/// Key prefixes and key attributes of the table, as string literals.
const KEY_LITERALS: [&str; 16] = [
    "\"pk\"",
    "\"sk\"",
    "\"T#",
    "\"MSG#",
    "\"PN#",
    "\"ROUTE#",
    "\"WAMID#",
    "\"TPL#",
    "\"KEY#",
    "\"CB#",
    "\"PACE#",
    "\"EV#",
    "\"IDEM\"",
    "\"PROFILE\"",
    "\"TENANT\"",
    "#C#",
];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// A file's code without its unit tests, which may build keys to check them.
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("a readable source file");
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The folders of item modules: each context crate's `src/store`.
fn item_module_folders() -> Vec<PathBuf> {
    let mut folders = Vec::new();
    for krate in fs::read_dir(root().join("crates")).expect("the crates folder") {
        let store = krate.expect("a crate folder").path().join("src/store");
        if store.is_dir() {
            folders.push(store);
        }
    }
    folders
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_domain_crate_does_no_io() {
    let mut files = Vec::new();
    rust_files(&root().join("crates/domain/src"), &mut files);
    let io = [
        "aws_sdk_",
        "aws_config",
        "tokio",
        "reqwest",
        "std::fs",
        "std::net",
    ];
    let mut offenders = Vec::new();
    for file in &files {
        let code = code_of(file);
        for name in io.iter().filter(|name| code.contains(*name)) {
            offenders.push(format!("{} uses {name}", file.display()));
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
    let manifest = fs::read_to_string(root().join("crates/domain/Cargo.toml")).expect("manifest");
    for name in ["aws-", "tokio", "reqwest"] {
        assert!(
            !manifest.contains(name),
            "the domain crate depends on {name}"
        );
    }
}

#[test]
fn only_the_table_module_calls_dynamodb() {
    // The item modules hold no client: the table helper (in the platform crate) makes
    // every call.
    let mut files = Vec::new();
    for folder in item_module_folders() {
        rust_files(&folder, &mut files);
    }
    assert!(files.len() > 40, "the item modules were not found");
    // The storage crate's `store/mod.rs` names the client once: `Store::new` hands it to
    // the table helper.
    let constructor = root().join("crates/storage/src/store/mod.rs");
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| **f != constructor)
        .filter(|f| {
            let code = code_of(f);
            code.contains(".client") || code.contains("aws_sdk_dynamodb::Client")
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "SDK calls outside store/table: {offenders:?}"
    );
}

#[test]
fn no_key_format_or_key_attribute_outside_the_store() {
    let mut files = Vec::new();
    for folder in ["crates", "functions"] {
        for krate in fs::read_dir(root().join(folder)).expect("a folder of crates") {
            let src = krate.expect("a crate folder").path().join("src");
            if src.is_dir() {
                rust_files(&src, &mut files);
            }
        }
    }
    assert!(
        files.contains(&root().join("crates/messaging/src/inbound/apply.rs"))
            && files.contains(&root().join("functions/api/src/main.rs")),
        "the sources were not found"
    );
    let owners = item_module_folders();
    let table = root().join("crates/platform/src/table");
    let mut offenders = Vec::new();
    for file in files
        .iter()
        .filter(|f| !owners.iter().any(|o| f.starts_with(o)) && !f.starts_with(&table))
    {
        let code = code_of(file);
        for literal in KEY_LITERALS {
            if code.contains(literal) {
                offenders.push(format!("{} holds {literal}", file.display()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
