// SPDX-License-Identifier: GPL-2.0

//! `pk-setuid-helper MESSAGE`: installed set-uid root in the guest image.
//!
//! Writes MESSAGE (its bytes as given) to fd 2 in one write(2), then prints
//! `euid=<euid> ruid=<ruid> write=<ok|ERRNO_NAME|short:N>` on stdout and
//! exits 0. Tests point its fd 2 at a kill node to replay the NetBSD
//! stderr attack (a set-uid program writing attacker-chosen text to a
//! descriptor it inherited).

use std::os::unix::ffi::OsStrExt;

fn main() {
    let msg = std::env::args_os().nth(1).unwrap_or_default();
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
    println!("euid={euid} ruid={ruid} write={write}");
}
