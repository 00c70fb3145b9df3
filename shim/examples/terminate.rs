//! Terminate with grace: `TERM`, wait up to a grace period for the exit
//! (poll(2) on the handle's pidfd), then `KILL`, all through one handle, so
//! the `KILL` reaches the same process or nobody, never a process that
//! reused the PID meanwhile.
//!
//! `cargo run --example terminate` (spawns a child that ignores `TERM`).

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::time::{Duration, Instant};

use prockill::Process;

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A child that ignores TERM (the disposition survives the exec).
    let mut cmd = std::process::Command::new("sleep");
    cmd.arg("60");
    // SAFETY: signal() is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let process = Process::open(child.id() as i32)?;

    let start = Instant::now();
    let exit = process.terminate(Duration::from_millis(200))?;
    let status = exit.status().ok_or("no exit status")?;
    println!(
        "{} exited after {:?}: {status}",
        process.pid(),
        start.elapsed()
    );
    // TERM was ignored: the KILL after the grace period ended it.
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert_eq!(child.wait()?.signal(), Some(libc::SIGKILL));
    Ok(())
}
