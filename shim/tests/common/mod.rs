//! Helpers shared by the host tests.
#![allow(dead_code)]

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (SIGKILL) and reaped on drop, so a failing test
/// leaves nothing behind.
pub struct Kid(pub Option<Child>);

/// Gives this test process the default disposition of every signal it
/// started with ignored (SIGPIPE aside, which the Rust runtime ignores and
/// `Command` resets in children). An ignored disposition survives fork and
/// exec, and a test run from a background job of a non-interactive shell
/// (SIGINT, SIGQUIT) or under nohup (SIGHUP) would hand it to the children
/// the tests signal: they would not die, and kill(1)'s tests would fail for
/// the caller's environment (five did once). Once per process.
pub fn default_dispositions() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for sig in 1..=libc::SIGRTMAX() {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP || sig == libc::SIGPIPE {
                continue;
            }
            // SAFETY: a query into a zeroed sigaction, then signal() with
            // SIG_DFL; neither touches memory of ours beyond `old`.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                    && old.sa_sigaction == libc::SIG_IGN
                {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
        }
    });
}

impl Kid {
    /// `sleep 600`, returned once its exec is complete (spawn() returns
    /// when the exec has switched the mm, a moment before the kernel sets
    /// the new command name).
    pub fn sleep() -> Kid {
        default_dispositions();
        let kid = Kid(Some(
            Command::new("sleep")
                .arg("600")
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep"),
        ));
        let comm = format!("/proc/{}/comm", kid.pid());
        let start = Instant::now();
        while std::fs::read_to_string(&comm).map_or(true, |c| c.trim() != "sleep") {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "sleep did not start"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        kid
    }

    pub fn spawn(cmd: &mut Command) -> Kid {
        default_dispositions();
        Kid(Some(cmd.spawn().expect("spawn")))
    }

    pub fn pid(&self) -> i32 {
        self.0.as_ref().unwrap().id() as i32
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    /// Waits for the exit, at most `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child().try_wait().unwrap() {
                return Some(st);
            }
            if start.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits (30 s at most: CI shares 2 cores with TCG guests) and returns the
    /// terminating signal.
    pub fn killed_by(&mut self) -> Option<i32> {
        self.wait_timeout(Duration::from_secs(30))
            .expect("child did not exit within 30 s")
            .signal()
    }

    /// The child still runs after a short grace period.
    pub fn still_running(&mut self) -> bool {
        std::thread::sleep(Duration::from_millis(100));
        self.child().try_wait().unwrap().is_none()
    }

    /// Kills and reaps now; the PID is free afterwards.
    pub fn reap(&mut self) {
        let mut c = self.0.take().unwrap();
        let _ = c.kill();
        c.wait().unwrap();
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Whether the prockill module is loaded here (it never is on a plain host).
pub fn module_loaded() -> bool {
    std::path::Path::new("/proc/self/kill").exists()
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The real path of the `sleep` binary that `Command::new("sleep")` runs.
pub fn sleep_exe() -> std::path::PathBuf {
    let mut kid = Kid::sleep();
    let exe = std::fs::read_link(format!("/proc/{}/exe", kid.pid())).unwrap();
    kid.reap();
    exe
}

/// Waits (at most 5 s, panicking after) until `p`'s executable is `exe`:
/// the exec a test just triggered has happened.
pub fn wait_for_exe(p: &prockill::Process, exe: &std::path::Path) -> Result<(), prockill::Error> {
    let start = Instant::now();
    while p.exe()? != exe {
        assert!(start.elapsed() < Duration::from_secs(5), "no exec");
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}
