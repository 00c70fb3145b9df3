// SPDX-License-Identifier: GPL-2.0

//! `pk-threads [N]`: a long-lived multi-threaded target process for the
//! guest scripts (qemu/trinity-guest.sh): ignores every signal that can be
//! ignored (a fuzzer writing to its kill node must not end it: SIGKILL
//! still does), starts N-1 threads besides the main one (N = 3 by default),
//! then all of them sleep until killed. It opens nothing and prints nothing;
//! its threads are /proc/<pid>/task/*.

use std::time::Duration;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3)
        .clamp(1, 64);
    for sig in 1..=64 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            // SAFETY: setting a disposition to SIG_IGN before any thread starts;
            // invalid numbers (32, 33 under glibc) just fail.
            unsafe { libc::signal(sig, libc::SIG_IGN) };
        }
    }
    for _ in 1..n {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_secs(3600));
        });
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
