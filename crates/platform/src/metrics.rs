//! Counters of what the adapters spend (DynamoDB capacity, SQS requests, KMS calls), so
//! that benchmarks and tests can state the cost per message from real calls.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    /// DynamoDB write capacity units, in thousandths.
    write_milli_units: AtomicU64,
    /// DynamoDB read capacity units, in thousandths.
    read_milli_units: AtomicU64,
    sqs_requests: AtomicU64,
    kms_calls: AtomicU64,
    /// The same units by the operation that spent them, so a benchmark can say where a
    /// figure comes from.
    by_operation: Mutex<BTreeMap<String, OperationSpend>>,
}

/// What one kind of DynamoDB call spent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OperationSpend {
    pub calls: u64,
    pub write_units: f64,
    pub read_units: f64,
    /// The calls' time, summed (calls made side by side each count whole).
    pub time: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetricsSnapshot {
    pub write_units: f64,
    pub read_units: f64,
    pub sqs_requests: u64,
    pub kms_calls: u64,
}

impl Metrics {
    /// Write units `operation` spent.
    pub fn add_write_units(&self, operation: &str, units: f64) {
        self.write_milli_units
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        self.spend(operation, |s| s.write_units += units);
    }

    /// Read units `operation` spent.
    pub fn add_read_units(&self, operation: &str, units: f64) {
        self.read_milli_units
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
        self.spend(operation, |s| s.read_units += units);
    }

    /// Time `operation` took; its calls are counted with its units.
    pub fn add_time(&self, operation: &str, time: std::time::Duration) {
        if let Ok(mut spends) = self.by_operation.lock() {
            spends.entry(operation.to_owned()).or_default().time += time;
        }
    }

    fn spend(&self, operation: &str, add: impl FnOnce(&mut OperationSpend)) {
        // A poisoned lock only loses the breakdown, never the totals.
        if let Ok(mut spends) = self.by_operation.lock() {
            let spend = spends.entry(operation.to_owned()).or_default();
            spend.calls += 1;
            add(spend);
        }
    }

    /// The units spent so far, by operation name.
    pub fn by_operation(&self) -> BTreeMap<String, OperationSpend> {
        self.by_operation
            .lock()
            .map(|spends| spends.clone())
            .unwrap_or_default()
    }

    pub fn add_sqs_request(&self) {
        self.sqs_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add_kms_call(&self) {
        self.kms_calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            write_units: self.write_milli_units.load(Ordering::Relaxed) as f64 / 1000.0,
            read_units: self.read_milli_units.load(Ordering::Relaxed) as f64 / 1000.0,
            sqs_requests: self.sqs_requests.load(Ordering::Relaxed),
            kms_calls: self.kms_calls.load(Ordering::Relaxed),
        }
    }
}
