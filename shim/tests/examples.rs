//! Runs the examples of `examples/` (compiled here as modules, each `main`
//! called as a test), so that they stay true.

#[path = "../examples/check_then_kill.rs"]
mod check_then_kill;

#[path = "../examples/terminate.rs"]
mod terminate;

#[test]
fn check_then_kill_example() {
    check_then_kill::main().unwrap();
}

#[test]
fn terminate_example() {
    terminate::main().unwrap();
}
