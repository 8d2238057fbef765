//! `wagate-local supervise --pid-file FILE -- PROGRAM [ARGS]...`: keeps a function's process
//! running, as Lambda starts a new container when one dies: whenever the program ends (a
//! crash, a SIGKILL), it is started again after half a second. The running program's pid
//! is kept in FILE, so tests can kill it. SIGTERM or SIGINT stops the program and the
//! supervisor.

use std::time::Duration;

use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use crate::BoxError;

/// Waits before a restart, so a program that fails at start does not spin.
const RESTART_PAUSE: Duration = Duration::from_millis(500);

pub async fn run(pid_file: &str, program: &[String]) -> Result<(), BoxError> {
    let (name, args) = program
        .split_first()
        .ok_or("supervise needs a program after --")?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        let mut child = Command::new(name).args(args).kill_on_drop(true).spawn()?;
        let pid = child.id().unwrap_or_default();
        std::fs::write(pid_file, pid.to_string())?;
        tokio::select! {
            status = child.wait() => {
                eprintln!("supervise: {name} (pid {pid}) ended with {status:?}; starting it again");
            }
            _ = terminate.recv() => return stop(child).await,
            _ = interrupt.recv() => return stop(child).await,
        }
        tokio::select! {
            _ = tokio::time::sleep(RESTART_PAUSE) => {}
            _ = terminate.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
        }
    }
}

/// Asks the program to stop, then makes sure it has.
async fn stop(mut child: tokio::process::Child) -> Result<(), BoxError> {
    if let Some(pid) = child.id() {
        // SIGTERM by the system's `kill`, as the stack script stops everything else.
        let _ = Command::new("kill").arg(pid.to_string()).status().await;
    }
    if tokio::time::timeout(Duration::from_secs(2), child.wait())
        .await
        .is_err()
    {
        child.kill().await?;
    }
    Ok(())
}
