// SPDX-License-Identifier: GPL-2.0

//! `pk-setuid-helper MESSAGE [wait]`: installed set-uid root in the guest
//! image (the set-gid and file-capability tests run copies of it).
//!
//! Writes MESSAGE (its bytes as given) to fd 2 in one write(2), then prints
//! `euid=<euid> ruid=<ruid> write=<ok|ERRNO_NAME|short:N>` on stdout and
//! exits 0. Tests point its fd 2 at a kill node to replay the NetBSD
//! stderr attack (a set-uid program writing attacker-chosen text to a
//! descriptor it inherited).
//!
//! With `wait` as the second argument, the line goes on with
//! ` egid=<egid> rgid=<rgid> secure=<getauxval(AT_SECURE)>`, and the helper
//! then stays alive until it reads a byte or end-of-file on fd 0, so a test
//! can look at the running process (and at handles opened on it).

use std::io::Write;
use std::os::unix::ffi::OsStrExt;

fn main() {
    let msg = std::env::args_os().nth(1).unwrap_or_default();
    let wait = std::env::args_os().nth(2).is_some_and(|a| a == "wait");
    let bytes = msg.as_bytes();
    // SAFETY: write(2) of a valid buffer.
    let r = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
    let write = if r < 0 {
        prockill_vmtests::util::errno_name(prockill_vmtests::util::errno())
    } else if r as usize != bytes.len() {
        format!("short:{r}")
    } else {
        "ok".to_string()
    };
    // SAFETY: plain getters.
    let (euid, ruid) = unsafe { (libc::geteuid(), libc::getuid()) };
    if !wait {
        println!("euid={euid} ruid={ruid} write={write}");
        return;
    }
    // SAFETY: plain getters; getauxval reads the auxiliary vector.
    let (egid, rgid, secure) = unsafe {
        (
            libc::getegid(),
            libc::getgid(),
            libc::getauxval(libc::AT_SECURE),
        )
    };
    println!("euid={euid} ruid={ruid} write={write} egid={egid} rgid={rgid} secure={secure}");
    let _ = std::io::stdout().flush();
    let mut b = 0u8;
    // SAFETY: read(2) of one byte into a valid buffer; EINTR retried.
    while unsafe { libc::read(0, (&raw mut b).cast(), 1) } < 0
        && prockill_vmtests::util::errno() == libc::EINTR
    {}
}
