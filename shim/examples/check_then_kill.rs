//! Check-then-kill: open a handle on a process, check through the handle
//! that it runs the program expected, and signal it through the same
//! handle. With the prockill module loaded, an exec between the check and
//! the signal revokes the handle (nothing is signalled); without it, the
//! pidfd still guarantees that a reused PID is never signalled.
//!
//! `cargo run --example check_then_kill` (spawns its own `sleep` to kill).

use std::os::unix::process::ExitStatusExt;

use prockill::{kill_if, Signal};

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut child = std::process::Command::new("sleep").arg("60").spawn()?;
    let pid = child.id() as i32;
    let sleep = std::fs::canonicalize(which("sleep").ok_or("no sleep in PATH")?)?;
    // Wait until the child's exec is complete (its exe is sleep's).
    while std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() != Some(&sleep) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }

    // The wrong program: refused, nothing sent.
    let err = kill_if(pid, |p| p.check_exe("/usr/sbin/sshd"), Signal::TERM).unwrap_err();
    println!("refused: {err}");

    // The right one: signalled, and the guarantee that held is reported.
    let guarantee = kill_if(pid, |p| p.check_exe(&sleep), Signal::TERM)?;
    println!("sent SIGTERM to {pid}: {}", guarantee.description());
    assert_eq!(child.wait()?.signal(), Some(libc::SIGTERM));
    Ok(())
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
}
