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

#[cfg(feature = "tokio")]
#[path = "../examples/async_wait.rs"]
mod async_wait;

#[cfg(feature = "tokio")]
#[test]
fn async_wait_example() {
    async_wait::main().unwrap();
}

/// Outside a runtime: an error, not tokio's panic.
#[cfg(feature = "tokio")]
#[test]
fn wait_exit_async_outside_a_runtime_is_an_error() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let me = prockill::Process::open(std::process::id() as i32).unwrap();
    let mut fut = std::pin::pin!(me.wait_exit_async());
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), &prockill::ErrorKind::Io),
        other => panic!("{other:?}"),
    }
}
