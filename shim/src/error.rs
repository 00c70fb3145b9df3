//! [`Error`] and [`ErrorKind`]: what went wrong, for which PID.

use std::fmt;
use std::io;

use crate::Backend;

/// What kind of failure an [`Error`] is; match on it.
///
/// ```
/// use prockill::{ErrorKind, Process, Signal};
///
/// let mut child = std::process::Command::new("true").spawn().unwrap();
/// let pid = child.id() as i32;
/// let process = Process::open(pid).unwrap();
/// child.wait().unwrap(); // exits and is reaped; the PID may be reused now
/// let err = process.send_signal(Signal::TERM).unwrap_err();
/// assert_eq!(err.kind(), &ErrorKind::Exited);
/// assert_eq!(err.pid(), pid);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The process exited (it may be a zombie or reaped, and its PID may
    /// belong to another process by now). Nothing was signalled. `ESRCH`.
    Exited,
    /// An exec revoked the handle's kill node (the exec policy of the
    /// handle or of the module): the process runs another program now.
    /// Nothing was signalled. `EIO` from the node.
    Revoked,
    /// The caller (for the node: the node's opener) may not signal the
    /// process, or may not read the attribute asked for. `EPERM`/`EACCES`.
    PermissionDenied,
    /// The signal was refused as malformed (`EINVAL`), or a string did not
    /// parse as a signal.
    InvalidSignal,
    /// The backend asked for does not work here: the kill node is absent
    /// (the module is not loaded: `ENOENT`), or `pidfd_send_signal()` is
    /// missing (`ENOSYS`).
    BackendUnavailable(Backend),
    /// A check of [`Process::kill_if`](crate::Process::kill_if) failed;
    /// nothing was signalled.
    CheckFailed {
        /// The attribute checked, e.g. `exe` or `uid`.
        what: String,
        /// The value the check wanted.
        expected: String,
        /// The value the process had.
        observed: String,
    },
    /// Any other I/O error; [`Error::io_error`] has it.
    Io,
}

/// An error about one process: its [`ErrorKind`], the PID, and the
/// underlying `errno` when there is one.
///
/// Converts into [`std::io::Error`] for `?` in functions returning
/// `io::Result`.
#[derive(Debug)]
pub struct Error {
    pid: i32,
    kind: ErrorKind,
    source: Option<io::Error>,
}

impl Error {
    /// An error of `kind` about `pid`, with no `errno`.
    ///
    /// ```
    /// use prockill::{Error, ErrorKind};
    /// let err = Error::new(42, ErrorKind::Exited);
    /// assert_eq!(err.to_string(), "42: process exited");
    /// ```
    pub fn new(pid: i32, kind: ErrorKind) -> Error {
        Error {
            pid,
            kind,
            source: None,
        }
    }

    /// A [`ErrorKind::CheckFailed`] error, for checks written by the caller
    /// of [`kill_if`](crate::kill_if).
    ///
    /// ```
    /// use prockill::{Error, ErrorKind};
    /// let err = Error::check_failed(42, "name", "sleep", "bash");
    /// assert!(matches!(err.kind(), ErrorKind::CheckFailed { what, .. } if what == "name"));
    /// assert_eq!(err.to_string(), "42: check failed: name is bash, expected sleep");
    /// ```
    pub fn check_failed(
        pid: i32,
        what: impl Into<String>,
        expected: impl Into<String>,
        observed: impl Into<String>,
    ) -> Error {
        Error::new(
            pid,
            ErrorKind::CheckFailed {
                what: what.into(),
                expected: expected.into(),
                observed: observed.into(),
            },
        )
    }

    /// Classifies an `errno` from an operation on `pid` through `backend`:
    /// `ESRCH` is [`ErrorKind::Exited`], `EIO` from the node is
    /// [`ErrorKind::Revoked`], `EPERM`/`EACCES` are
    /// [`ErrorKind::PermissionDenied`], `EINVAL` is
    /// [`ErrorKind::InvalidSignal`], `ENOSYS` is
    /// [`ErrorKind::BackendUnavailable`], anything else [`ErrorKind::Io`].
    ///
    /// ```
    /// use prockill::{Backend, Error, ErrorKind};
    /// let eio = std::io::Error::from_raw_os_error(libc::EIO);
    /// assert_eq!(Error::from_send_errno(7, Backend::Node, eio).kind(), &ErrorKind::Revoked);
    /// ```
    pub fn from_send_errno(pid: i32, backend: Backend, err: io::Error) -> Error {
        let kind = match err.raw_os_error() {
            Some(libc::ESRCH) => ErrorKind::Exited,
            Some(libc::EIO) if backend == Backend::Node => ErrorKind::Revoked,
            Some(libc::EPERM | libc::EACCES) => ErrorKind::PermissionDenied,
            Some(libc::EINVAL) => ErrorKind::InvalidSignal,
            Some(libc::ENOSYS) => ErrorKind::BackendUnavailable(backend),
            _ => ErrorKind::Io,
        };
        Error::with_source(pid, kind, err)
    }

    pub(crate) fn with_source(pid: i32, kind: ErrorKind, source: io::Error) -> Error {
        Error {
            pid,
            kind,
            source: Some(source),
        }
    }

    pub(crate) fn io(pid: i32, source: io::Error) -> Error {
        Error::with_source(pid, ErrorKind::Io, source)
    }

    /// The PID the error is about.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The system error behind this one, if any.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }

    /// The `errno` behind this error, if any.
    ///
    /// ```
    /// use prockill::{Backend, Error};
    /// let e = Error::from_send_errno(7, Backend::Pidfd, std::io::Error::from_raw_os_error(libc::ESRCH));
    /// assert_eq!(e.raw_os_error(), Some(libc::ESRCH));
    /// ```
    pub fn raw_os_error(&self) -> Option<i32> {
        self.source.as_ref().and_then(io::Error::raw_os_error)
    }
}

impl Error {
    /// The reason alone, without the PID: `process exited`,
    /// `check failed: exe is /usr/bin/bash, expected /usr/bin/sleep`, ...
    ///
    /// ```
    /// let err = prockill::Error::new(42, prockill::ErrorKind::PermissionDenied);
    /// assert_eq!(err.reason(), "permission denied");
    /// ```
    pub fn reason(&self) -> String {
        Reason(self).to_string()
    }
}

struct Reason<'a>(&'a Error);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pid, Reason(self))
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let this = self.0;
        match &this.kind {
            ErrorKind::Exited => f.write_str("process exited"),
            ErrorKind::Revoked => {
                f.write_str("handle revoked: the process executed another program")
            }
            ErrorKind::PermissionDenied => f.write_str("permission denied"),
            ErrorKind::InvalidSignal => f.write_str("invalid signal"),
            ErrorKind::BackendUnavailable(backend) => write!(f, "backend {backend} unavailable"),
            ErrorKind::CheckFailed {
                what,
                expected,
                observed,
            } => write!(f, "check failed: {what} is {observed}, expected {expected}"),
            ErrorKind::Io => match &this.source {
                Some(e) => write!(f, "{e}"),
                None => f.write_str("I/O error"),
            },
        }
    }
}

/// The message says what happened once: the `errno` behind an error is its
/// [`source`](std::error::Error::source), not repeated in its message,
/// except for [`ErrorKind::Io`], whose message is the I/O error's (and which
/// has no source, for the same reason).
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        if self.kind == ErrorKind::Io {
            return None;
        }
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = match err.kind {
            ErrorKind::Exited => io::ErrorKind::NotFound,
            ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            ErrorKind::InvalidSignal => io::ErrorKind::InvalidInput,
            ErrorKind::BackendUnavailable(_) => io::ErrorKind::Unsupported,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}
