//! The local stack's helper: creates the resources of `template.yaml` on the emulators,
//! seeds the demo tenant, and feeds SQS batches to worker functions the way Lambda's event
//! source mapping does.
//!
//! Usage:
//!   wagate-local up --template template.yaml --prefix NAME --out-dir DIR --sim-url URL
//!                   --webhook-url URL [--param KEY=VALUE]...
//!   wagate-local esm --function NAME --queue-url URL --invoke-url URL [--pollers N]
//!   wagate-local send --tenant ID --phone-number-id ID --to PHONE --text TEXT --queue-url URL
//!   wagate-local supervise --pid-file FILE -- PROGRAM [ARGS]...
//!
//! Resource names, endpoints and the like are printed as `KEY=value` lines for stack.env.

mod args;
mod esm;
mod provision;
mod seed;
mod send;
mod supervise;
mod template;

use args::Args;

#[tokio::main]
async fn main() {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().unwrap_or_default();
    if command == "supervise" {
        let rest: Vec<String> = argv.collect();
        let split = rest.iter().position(|a| a == "--").unwrap_or(rest.len());
        let result = match Args::parse(rest[..split].iter().cloned()) {
            Ok(args) => match args.required("pid-file") {
                Ok(pid_file) => {
                    supervise::run(pid_file, rest.get(split + 1..).unwrap_or_default()).await
                }
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e.into()),
        };
        if let Err(e) = result {
            fail(&e.to_string());
        }
        return;
    }
    let args = match Args::parse(argv) {
        Ok(a) => a,
        Err(e) => fail(&e),
    };
    let sdk = wagate_messaging::aws::load_config().await;
    let result = match command.as_str() {
        "up" => provision::run(&sdk, &args).await,
        "esm" => esm::run(&sdk, &args).await,
        "send" => send::run(&sdk, &args).await,
        _ => Err("usage: wagate-local up|esm|send [options] (see infra/local/src/main.rs)".into()),
    };
    if let Err(e) = result {
        fail(&e.to_string());
    }
}

fn fail(message: &str) -> ! {
    eprintln!("wagate-local: {message}");
    std::process::exit(2)
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
