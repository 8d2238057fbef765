//! The tenant's callbacks in memory, as the processor's callback subscriber emits them.

use std::sync::Mutex;

use crate::callbacks::emitter::EmitError;
use crate::callbacks::event::{CallbackEvent, EventType};
use crate::callbacks::subscriber::CallbackSink;
use crate::domain::tenant::TenantId;

/// Keeps what was emitted, in order.
#[derive(Default)]
pub struct FakeCallbacks {
    pub emitted: Mutex<Vec<(TenantId, EventType, serde_json::Value)>>,
    pub ids: Mutex<Vec<String>>,
}

impl FakeCallbacks {
    pub fn types(&self) -> Vec<EventType> {
        let emitted = self.emitted.lock().expect("never poisoned");
        emitted.iter().map(|(_, t, _)| *t).collect()
    }

    /// The data of the `index`th event emitted.
    pub fn data(&self, index: usize) -> serde_json::Value {
        let emitted = self.emitted.lock().expect("never poisoned");
        emitted[index].2.clone()
    }

    /// The ids of the events emitted, in order.
    pub fn ids(&self) -> Vec<String> {
        self.ids.lock().expect("never poisoned").clone()
    }

    pub fn last_data(&self) -> serde_json::Value {
        let emitted = self.emitted.lock().expect("never poisoned");
        emitted
            .last()
            .map(|(_, _, d)| d.clone())
            .unwrap_or_default()
    }
}

impl CallbackSink for FakeCallbacks {
    async fn emit(&self, tenant: &TenantId, event: &CallbackEvent) -> Result<(), EmitError> {
        self.emitted.lock().expect("never poisoned").push((
            tenant.clone(),
            event.event_type,
            event.data.clone(),
        ));
        self.ids
            .lock()
            .expect("never poisoned")
            .push(event.id.clone());
        Ok(())
    }
}

/// What stands for a wamid in the fake's ids, as the blind index does in the store's.
pub(crate) fn fake_blind(wamid: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(wamid.as_bytes())[..16])
}
