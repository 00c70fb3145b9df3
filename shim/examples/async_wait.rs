//! Waiting for a process's exit on tokio (feature `tokio`): the handle's
//! pidfd registered with the runtime's reactor, no thread blocked.
//!
//! `cargo run --example async_wait --features tokio`

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use prockill::{Process, Signal};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let mut child = std::process::Command::new("sleep").arg("60").spawn()?;
    let process = Process::open(child.id() as i32)?;
    let exit = runtime.block_on(async {
        // Signal a little later, from another thread, while this task waits.
        let pid = process.pid();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            if let Ok(p) = Process::open(pid) {
                let _ = p.send_signal(Signal::USR1);
            }
        });
        process.wait_exit_async().await
    })?;
    let status = exit.status().ok_or("no exit status")?;
    println!("{} exited: {status}", process.pid());
    assert_eq!(status.signal(), Some(libc::SIGUSR1));
    assert_eq!(child.wait()?.signal(), Some(libc::SIGUSR1));
    Ok(())
}
