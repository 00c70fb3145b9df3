// SPDX-License-Identifier: GPL-2.0

//! `pk-vmtest [--list] [NAME-PREFIX...]`: run the VM tests (inside the guest,
//! as root). One line per test (`PASS name` / `FAIL name: reason`), then
//! `N passed, N failed`; exit status 1 if any failed.

fn main() {
    // Hidden mode: the test binary as an exec target (tests/pk.rs).
    if let Some(code) = prockill_vmtests::tests::pk::exec_target_main() {
        std::process::exit(code);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tests = prockill_vmtests::tests::all();
    std::process::exit(prockill_vmtests::harness::main_with(&tests, &args));
}
