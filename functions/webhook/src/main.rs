use std::sync::Arc;

use lambda_http::{Error, run, service_fn};
use wagate_messaging::aws::load_config;
use wagate_messaging::config::FunctionConfig;
use webhook::{AppState, WebhookConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    wagate_messaging::telemetry::init();
    let config = WebhookConfig::from_env()?;
    let sdk = load_config().await;
    let state = Arc::new(AppState::new(config, &sdk));
    run(service_fn(move |request| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(webhook::handle(&state, request).await) }
    }))
    .await
}
