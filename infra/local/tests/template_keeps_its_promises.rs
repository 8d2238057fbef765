//! What `template.yaml` promises about data that outlives its use: the data table's
//! backups keep 30 days (the deletion promise), the key table's a short, set window (after
//! which an erased person's key is in no backup), both tables survive a `sam delete` or a
//! replacing update, every function's logs expire, and an erasure's final pass waits past
//! every cached key. Read from the template itself, so a change to it cannot drift.

use yaml_serde::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    yaml_serde::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("YAML")
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    &t["Resources"][id]
}

/// The logical id an `!Ref` names, if `value` is one.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

fn default_of(t: &Value, parameter: &str) -> i64 {
    t["Parameters"][parameter]["Default"]
        .as_i64()
        .unwrap_or_else(|| panic!("{parameter} has a numeric default"))
}

fn is_kept_and_protected(table: &Value, id: &str) {
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"), "{id}");
    assert_eq!(
        table["UpdateReplacePolicy"].as_str(),
        Some("Retain"),
        "{id}"
    );
    assert_eq!(
        table["Properties"]["DeletionProtectionEnabled"].as_bool(),
        Some(true),
        "{id}"
    );
    assert_eq!(
        table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
            .as_bool(),
        Some(true),
        "{id}"
    );
}

#[test]
fn the_data_table_keeps_30_days_of_backups_and_survives_a_delete() {
    let t = template();
    let table = resource(&t, "Table");
    is_kept_and_protected(table, "Table");
    let pitr = &table["Properties"]["PointInTimeRecoverySpecification"];
    assert_eq!(pitr["RecoveryPeriodInDays"].as_i64(), Some(30));
}

#[test]
fn the_key_tables_backups_keep_a_short_window_the_receipts_name() {
    let t = template();
    let table = resource(&t, "KeyTable");
    is_kept_and_protected(table, "KeyTable");
    let pitr = &table["Properties"]["PointInTimeRecoverySpecification"];
    assert_eq!(
        reference(&pitr["RecoveryPeriodInDays"]),
        Some("KeyTableRecoveryDays")
    );
    let parameter = &t["Parameters"]["KeyTableRecoveryDays"];
    assert_eq!(parameter["Default"].as_i64(), Some(7));
    assert!(parameter["MaxValue"].as_i64() <= Some(35));
    // The erasure function signs receipts that say when that window ends.
    let env = &resource(&t, "ErasureFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(
        reference(&env["KEY_TABLE_RECOVERY_DAYS"]),
        Some("KeyTableRecoveryDays")
    );
}

#[test]
fn every_functions_logs_expire() {
    let t = template();
    assert_eq!(default_of(&t, "LogRetentionDays"), 30);
    let resources = t["Resources"].as_mapping().expect("resources");
    let functions: Vec<(&str, &Value)> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(id, r)| (id.as_str().unwrap_or_default(), r))
        .collect();
    assert!(functions.len() >= 7, "{} functions", functions.len());
    for (id, function) in functions {
        let group = reference(&function["Properties"]["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{id} logs to a group of its own"));
        let group = resource(&t, group);
        assert_eq!(group["Type"].as_str(), Some("AWS::Logs::LogGroup"), "{id}");
        assert_eq!(
            reference(&group["Properties"]["RetentionInDays"]),
            Some("LogRetentionDays"),
            "{id}"
        );
    }
}

#[test]
fn an_erasures_final_pass_waits_past_every_cached_key_and_running_worker() {
    let t = template();
    let delay = default_of(&t, "ErasureFinalPassDelaySeconds");
    let cache = default_of(&t, "PersonKeyCacheSeconds");
    let worker = default_of(&t, "WorkerTimeoutSeconds");
    assert!(delay >= cache + worker, "{delay} < {cache} + {worker}");
    assert!(delay <= 900, "SQS delays a message 15 minutes at most");
    let env = &resource(&t, "ErasureFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(
        reference(&env["ERASURE_FINAL_PASS_DELAY_SECONDS"]),
        Some("ErasureFinalPassDelaySeconds")
    );
}
