//! The `prockill` binary end to end, against util-linux `kill(1)`'s
//! behaviour (misc-utils/kill.c, 2.41): options, output formats, exit
//! statuses (0 all, 1 none or usage error, 64 some), and prockill's own
//! options (--exe, --uid, --euid, --backend, --guarantee, --silent, --info).

mod common;

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{is_root, module_loaded, sleep_exe, Kid};

fn prockill<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_prockill"))
        .args(args)
        .output()
        .expect("run prockill")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn help_and_version() {
    let out = prockill(&["--help"]);
    assert_exit(&out, 0);
    let help = text(&out.stdout);
    for word in [
        "Usage:",
        "--queue",
        "--timeout",
        "--exe",
        "--uid",
        "--backend",
        "--info",
        "Exit status",
    ] {
        assert!(help.contains(word), "help lacks {word}");
    }
    // util-linux: -v is the version, not verbose.
    for v in ["-V", "-v", "--version"] {
        let out = prockill(&[v, "1"]);
        assert_exit(&out, 0);
        assert!(text(&out.stdout).starts_with("prockill "), "{v}");
    }
}

#[test]
fn list_forms() {
    // Not a terminal: one name per line, util-linux's table then the RT forms.
    let out = prockill(&["-l"]);
    assert_exit(&out, 0);
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 34 + 3, "{lines:?}");
    assert_eq!(lines[0], "HUP");
    assert_eq!(lines[6], "IOT");
    assert_eq!(&lines[34..], ["RT<N>", "RTMIN+<N>", "RTMAX-<N>"]);

    for (args, want) in [
        (&["-l", "15"][..], "TERM"),
        (&["-l", "143"], "TERM"),
        (&["-l", "9"], "KILL"),
        (&["-l", "6"], "ABRT"),
        (&["-l", "0"], "0"),
        (&["-l", "32"], "32"),
        (&["-l", "34"], "RT0"),
        (&["-l", "35"], "RT1"),
        (&["-l", "64"], "RT30"),
        (&["-l", "sigkill"], "KILL"),
        (&["-l", "TERM"], "TERM"),
        (&["--list=9"], "KILL"),
        (&["--list=KILL"], "KILL"),
        (&["-l=9"], "KILL"),
        (&["--list", "rtmin+2"], "RT2"),
        (&["-l", "0x4001"], "HUP\nTERM"),
        (&["-l", "0x0000000000384000"], "TERM\nTSTP\nTTIN\nTTOU"),
        (&["-l", "0x8000000000000000"], "RT30"),
    ] {
        let out = prockill(args);
        assert_exit(&out, 0);
        assert_eq!(text(&out.stdout).trim_end(), want, "{args:?}");
    }
    for bad in [
        &["-l", "65"][..],
        &["-l", "0xzz"],
        &["-l", "nosuch"],
        &["-l", "9", "x"],
    ] {
        let out = prockill(bad);
        assert_exit(&out, 1);
        assert!(out.stdout.is_empty(), "{bad:?}");
    }

    let out = prockill(&["-L"]);
    assert_exit(&out, 0);
    let table = text(&out.stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 36);
    assert_eq!(rows[0], " 1 HUP     ");
    assert!(rows.contains(&"15 TERM    "));
    assert_eq!(rows[34], "34 RTMIN   ");
    assert_eq!(rows[35], "64 RTMAX   ");
    assert_exit(&prockill(&["-L", "extra"]), 1);
    assert_exit(&prockill(&["--table"]), 0);
}

#[test]
fn usage_errors_exit_1() {
    for args in [
        &[][..],
        &["-s"],
        &["-s", "FOO", "1"],
        &["-FOO", "1"],
        &["--bogus", "1"],
        &["-n", "65", "1"],
        &["--verbose=no", "1"],
        &["--all=yes", "1"],
        &["-p", "-s", "9", "1"],
        &["-s", "9", "-p", "1"],
        &["-q", "5", "-p", "1"],
        &["-q", "x", "1"],
        &["-q", "2147483648", "1"],
        &["-q"],
        &["--timeout", "10"],
        &["--timeout", "x", "KILL", "1"],
        &["--timeout", "10", "NOSIG", "1"],
        &["--backend", "magic", "1"],
        &["--uid", "no-such-user-here", "1"],
        &["--info"],
        &["--info", "-9", "1"],
        &["--info", "sleep"],
        &["--exe", "/x", "--", "-5"],
        &["-d"],
        &["-d", "x"],
        &["-d", "1", "2"],
    ] {
        let out = prockill(args);
        assert_exit(&out, 1);
        let err = text(&out.stderr);
        assert!(err.starts_with("prockill: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // An unknown -s signal lists the valid ones, as util-linux does.
    let err = text(&prockill(&["-s", "FOO", "1"]).stderr);
    assert!(err.starts_with("prockill: unknown signal FOO; valid signals:\n 1 HUP"));
}

#[test]
fn non_utf8_arguments_are_errors_not_panics() {
    let bad = OsStr::from_bytes(b"/tmp/\xff").to_owned();
    let cases: Vec<Vec<OsString>> = vec![
        vec!["-s".into(), bad.clone(), "1".into()],
        vec!["--uid".into(), bad.clone(), "1".into()],
        vec!["-q".into(), bad.clone(), "1".into()],
        vec!["--backend".into(), bad.clone(), "1".into()],
        vec!["-l".into(), bad.clone()],
        vec![OsStr::from_bytes(b"-\xff").to_owned(), "1".into()],
        vec![OsStr::from_bytes(b"--\xff=\xfe").to_owned(), "1".into()],
        // A name that matches nothing: "cannot find process".
        vec!["-0".into(), OsStr::from_bytes(b"no\xffsuch").to_owned()],
        // A path that does not exist: the check fails for a real PID.
        vec!["--exe".into(), bad.clone(), "999999999".into()],
    ];
    for args in cases {
        let out = prockill(&args);
        assert_exit(&out, 1);
        assert!(!text(&out.stderr).contains("panicked"), "{args:?}");
        assert!(text(&out.stderr).starts_with("prockill: "), "{args:?}");
    }
}

#[test]
fn signal_spellings() {
    for (args, sig) in [
        (&["-9"][..], libc::SIGKILL),
        (&["-KILL"], libc::SIGKILL),
        (&["-kill"], libc::SIGKILL),
        (&["-SIGUSR1"], libc::SIGUSR1),
        (&["-sigusr1"], libc::SIGUSR1),
        (&["-s", "USR2"], libc::SIGUSR2),
        (&["-s", "term"], libc::SIGTERM),
        (&["--signal=HUP"], libc::SIGHUP),
        (&["--signal", "int"], libc::SIGINT),
        (&["-n", "3"], libc::SIGQUIT),
        (&[], libc::SIGTERM),
        (&["-RTMIN+1"], 35),
        (&["-rt2"], 36),
        (&["-s", "rtmax-1"], 63),
        (&["--"], libc::SIGTERM),
    ] {
        let mut kid = Kid::sleep();
        let pid = kid.pid().to_string();
        let mut all = args.to_vec();
        all.push(&pid);
        let out = prockill(&all);
        assert_exit(&out, 0);
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        assert_eq!(kid.killed_by(), Some(sig), "{args:?}");
    }
}

#[test]
fn queue_is_not_quiet() {
    // prockill's old -q was "quiet": `-q 5 -s 0 PID` then probed PID 5 too.
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let out = prockill(&["--verbose", "-q", "5", "-s", "0", &pid]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!("sending signal 0 to pid {pid}\n")
    );
    assert!(kid.still_running());
}

/// A child that catches USR1 with SA_SIGINFO and prints what it received.
/// It is this test binary, run with PROCKILL_TEST_RECEIVER set.
struct Receiver {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
}

impl Receiver {
    fn spawn() -> Receiver {
        common::default_dispositions();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "receiver",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("PROCKILL_TEST_RECEIVER", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        // The harness prints "test receiver ... " before it, on the same line.
        while !line.contains("ready") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "receiver died");
        }
        Receiver { child, out }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// The `value=V code=C` line, once the signal arrived.
    fn received(&mut self) -> String {
        let mut line = String::new();
        while !line.contains("value=") {
            line.clear();
            assert!(self.out.read_line(&mut line).unwrap() > 0, "receiver died");
        }
        line[line.find("value=").unwrap()..].trim().to_owned()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static VALUE: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(i64::MIN);
static CODE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_usr1(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let (code, value) = unsafe { ((*info).si_code, (*info).si_value().sival_ptr as usize) };
    CODE.store(code, std::sync::atomic::Ordering::SeqCst);
    VALUE.store(
        value as u32 as i32 as i64,
        std::sync::atomic::Ordering::SeqCst,
    );
}

#[test]
#[ignore = "run as a child by the tests that need a signal receiver"]
fn receiver() {
    if std::env::var_os("PROCKILL_TEST_RECEIVER").is_none() {
        return;
    }
    // SAFETY: installing a handler that only stores to atomics.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_usr1 as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
    }
    println!("ready");
    loop {
        let v = VALUE.load(std::sync::atomic::Ordering::SeqCst);
        if v != i64::MIN {
            let code = CODE.load(std::sync::atomic::Ordering::SeqCst);
            println!("value={v} code={code}");
            VALUE.store(i64::MIN, std::sync::atomic::Ordering::SeqCst);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn queue_value_reaches_si_value() {
    for backend in ["auto", "pidfd", "kill"] {
        let mut r = Receiver::spawn();
        let out = prockill(&["--backend", backend, "-q", "-42", "-s", "USR1", &r.pid()]);
        assert_exit(&out, 0);
        assert_eq!(
            r.received(),
            format!("value=-42 code={}", libc::SI_QUEUE),
            "{backend}"
        );
    }
}

#[test]
fn require_handler_and_process_state() {
    let mut r = Receiver::spawn();
    let out = prockill(&["-d", &r.pid()]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout)
            .lines()
            .any(|l| l.starts_with("Caught: ") && l.contains(" USR1 ") || l == "Caught: USR1 "),
        "{}",
        text(&out.stdout)
    );
    let out = prockill(&["-r", "-q", "7", "-USR1", &r.pid()]);
    assert_exit(&out, 0);
    assert_eq!(r.received(), format!("value=7 code={}", libc::SI_QUEUE));

    // sleep has no USR2 handler: not signalled, and (every target skipped)
    // exit 1 as util-linux.
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let out = prockill(&["--verbose", "-r", "-USR2", &pid]);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stdout),
        format!("not signalling pid {pid}, it has no userspace handler for signal 12\n")
    );
    assert!(kid.still_running());
    let out = prockill(&["-d", "999999999"]);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stderr),
        "prockill: cannot open /proc/999999999/status: No such process\n"
    );
}

#[test]
fn guarantee_says_how() {
    let expected_auto = if module_loaded() { "node" } else { "pidfd" };
    for (backend, shown, guarantee) in [
        ("auto", expected_auto, "pid-reuse"),
        ("pidfd", "pidfd", "pid-reuse"),
        ("kill", "kill", "none"),
    ] {
        let mut kid = Kid::sleep();
        let pid = kid.pid().to_string();
        let out = prockill(&["--guarantee", "--backend", backend, "-s", "TERM", &pid]);
        assert_exit(&out, 0);
        assert_eq!(
            text(&out.stdout).trim(),
            format!("{pid}: sent SIGTERM via {shown} (guarantee: {guarantee})")
        );
        assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
    }
}

#[test]
fn node_backend_without_module_fails_with_a_reason() {
    if module_loaded() {
        eprintln!("skipped: module loaded");
        return;
    }
    let kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let out = prockill(&["--backend", "node", &pid]);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stderr).trim(),
        format!("prockill: sending signal to {pid} failed: no kill node: /proc/{pid}/kill is absent (is the prockill module loaded?)")
    );
}

#[test]
fn exe_check_mismatch_names_the_observed_exe() {
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let out = prockill(&["--exe", "/usr/sbin/sshd", "-9", &pid]);
    assert_exit(&out, 1);
    let exe = sleep_exe().display().to_string();
    assert_eq!(
        text(&out.stderr).trim(),
        format!(
            "prockill: sending signal to {pid} failed: check failed: exe is {exe}, expected /usr/sbin/sshd"
        )
    );
    assert!(kid.still_running());
    let out = prockill(&["--guarantee", "--exe", &exe, "-9", &pid]);
    assert_exit(&out, 0);
    let want = if module_loaded() {
        "pid-reuse+exec"
    } else {
        "pid-reuse"
    };
    assert!(text(&out.stdout).contains(&format!("(guarantee: {want})")));
    assert_eq!(kid.killed_by(), Some(9));
}

#[test]
fn exe_check_resolves_symlinks_in_the_expected_path() {
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let dir = std::env::temp_dir().join(format!("prockill-exe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("my-sleep");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(sleep_exe(), &link).unwrap();
    let out = prockill(&["--exe", link.to_str().unwrap(), "-s", "USR1", &pid]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_exit(&out, 0);
    assert_eq!(kid.killed_by(), Some(libc::SIGUSR1));
}

#[test]
fn uid_checks() {
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    // SAFETY: no preconditions.
    let uid = unsafe { libc::getuid() };
    let other = (uid + 1).to_string();
    let out = prockill(&["--uid", &other, &pid]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains(&format!("check failed: uid is {uid}, expected {other}")));
    let out = prockill(&["--euid", &other, &pid]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains(&format!("check failed: euid is {uid}")));
    assert!(kid.still_running());
    if is_root() {
        assert_exit(&prockill(&["--uid", "root", "-0", &pid]), 0);
    }
    assert_exit(
        &prockill(&[
            "--uid",
            &uid.to_string(),
            &("--euid=".to_owned() + &uid.to_string()),
            &pid,
        ]),
        0,
    );
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}

#[test]
fn exit_status_all_none_some_and_one_message_each() {
    let mut alive = Kid::sleep();
    let mut gone = Kid::sleep();
    let gone_pid = gone.pid().to_string();
    gone.reap();
    let alive_pid = alive.pid().to_string();
    // Never existed (or gone before the handle): kill(1)'s words.
    let out = prockill(&["-s", "KILL", &gone_pid, "999999999"]);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stderr),
        format!(
            "prockill: sending signal to {gone_pid} failed: No such process\n\
             prockill: sending signal to 999999999 failed: No such process\n"
        )
    );
    // Some: 64 (util-linux's KILL_EXIT_SOMEOK).
    let out = prockill(&["-s", "KILL", &gone_pid, &alive_pid]);
    assert_exit(&out, 64);
    assert_eq!(text(&out.stderr).lines().count(), 1);
    assert_eq!(
        alive.killed_by(),
        Some(9),
        "the live PID is still signalled"
    );
    // --silent: exit status only.
    let out = prockill(&["--silent", &gone_pid]);
    assert_exit(&out, 1);
    assert!(out.stderr.is_empty());
}

#[test]
fn permission_denied_is_said_once() {
    let mut bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_prockill"));
    let tmp = std::env::temp_dir().join(format!("prockill-cli-{}", std::process::id()));
    if is_root() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = tmp.join("prockill");
        std::fs::copy(&bin, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin = copy;
    }
    let mut cmd = Command::new(&bin);
    cmd.args(["-0", "1"]);
    if is_root() {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stderr),
        "prockill: sending signal to 1 failed: Operation not permitted\n"
    );
}

/// A `sleep 600` whose command name is unique to this test.
fn named_sleep(tag: &str) -> (Kid, String) {
    let name = format!("pk{tag}{}", std::process::id() % 100_000);
    let dir = std::env::temp_dir().join(format!("prockill-names-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(&name);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(sleep_exe(), &link).unwrap();
    let kid = Kid::spawn(Command::new(&link).arg("600"));
    let comm = format!("/proc/{}/comm", kid.pid());
    let start = Instant::now();
    while std::fs::read_to_string(&comm).map_or(true, |c| c.trim() != name) {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = std::fs::remove_dir_all(&dir);
    (kid, name)
}

#[test]
fn process_names_and_print_pids() {
    let (mut kid, name) = named_sleep("n");
    let pid = kid.pid().to_string();
    let out = prockill(&["-p", &name]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{pid}\n"));
    let out = prockill(&["--pid", "-a", &name, &pid]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{pid}\n{pid}\n"));
    // -p prints only the processes that pass the checks.
    let out = prockill(&["-p", "--exe", "/usr/sbin/sshd", &name]);
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    let exe = sleep_exe();
    let out = prockill(&[
        OsStr::new("-p"),
        OsStr::new("--exe"),
        exe.as_os_str(),
        OsStr::new(&name),
    ]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("{pid}\n"));
    let out = prockill(&["-p", "pk-nothing-here"]);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stderr),
        "prockill: cannot find process \"pk-nothing-here\"\n"
    );
    let out = prockill(&["--verbose", "-s", "HUP", &name]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!("sending signal 1 to pid {pid}\n")
    );
    assert_eq!(kid.killed_by(), Some(libc::SIGHUP));
}

#[test]
fn pid_inode_addressing() {
    let mut kid = Kid::sleep();
    let pid = kid.pid();
    let fd = prockill::pidfd_open(pid).unwrap();
    // SAFETY: a zeroed stat is valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a live fd.
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
    let ino = st.st_ino;
    let out = prockill(&["-s", "USR1", &format!("{pid}:{}", ino + 1)]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains(&format!("pidfd inode {} not found for pid {pid}", ino + 1)));
    assert!(kid.still_running());
    let out = prockill(&["-s", "USR1", &format!("{pid}:{ino}")]);
    assert_exit(&out, 0);
    assert_eq!(kid.killed_by(), Some(libc::SIGUSR1));
}

#[test]
fn process_groups() {
    for args in [&["--"][..], &["-9"]] {
        let mut kid = Kid::spawn(Command::new("sleep").arg("600").process_group(0));
        let pgid = kid.pid();
        let mut all = args.to_vec();
        let target = format!("-{pgid}");
        all.push(&target);
        let out = prockill(&all);
        assert_exit(&out, 0);
        assert!(kid.killed_by().is_some(), "{args:?}");
    }
    // A group that does not exist.
    let out = prockill(&["--", "-999999999"]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("No such process"));
}

#[test]
fn timeout_follows_up_through_the_same_handle() {
    // TERM ignored (inherited across exec): only the follow-up KILL works.
    let mut cmd = Command::new("sleep");
    cmd.arg("600");
    // SAFETY: signal() is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGTERM, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut kid = Kid::spawn(&mut cmd);
    std::thread::sleep(Duration::from_millis(50));
    let pid = kid.pid().to_string();
    let out = prockill(&["--verbose", "--timeout", "100", "KILL", &pid]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!("sending signal 15 to pid {pid}\ntimeout, sending signal 9 to pid {pid}\n")
    );
    assert_eq!(kid.killed_by(), Some(libc::SIGKILL));

    // Dies at TERM: no follow-up, and no waiting out the timeout.
    let mut kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let start = Instant::now();
    let out = prockill(&[
        "--timeout",
        "20000",
        "KILL",
        "--timeout=20000",
        "KILL",
        &pid,
    ]);
    assert_exit(&out, 0);
    assert!(start.elapsed() < Duration::from_secs(15));
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}

#[test]
fn info_reports_backends_and_guarantee() {
    let kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let out = prockill(&["--info", &pid]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let field = |k: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .unwrap_or_else(|| panic!("no {k} in\n{stdout}"))
            .to_owned()
    };
    assert_eq!(field("pid"), pid);
    assert_eq!(field("name"), "sleep");
    assert_eq!(field("exe"), sleep_exe().display().to_string());
    assert_eq!(field("backend.pidfd"), "available");
    assert_eq!(field("backend.kill"), "available");
    assert!(field("pidfs_ino").parse::<u64>().is_ok());
    if module_loaded() {
        assert_eq!(field("backend"), "node");
        assert_eq!(field("node.state"), "alive");
    } else {
        assert!(field("backend.node").starts_with("unavailable: no kill node"));
        assert_eq!(field("backend"), "pidfd");
        assert!(field("guarantee").starts_with("pid-reuse ("));
        assert!(field("node").starts_with("none"));
    }
    let out = prockill(&["--info", "--backend", "kill", &pid]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("\nguarantee: none ("));

    let mut gone = Kid::sleep();
    let gone_pid = gone.pid().to_string();
    gone.reap();
    let out = prockill(&["--info", &gone_pid, &pid]);
    assert_exit(&out, 64);
    assert_eq!(
        text(&out.stderr).trim(),
        format!("prockill: {gone_pid}: No such process")
    );
    assert!(text(&out.stdout).contains(&format!("pid: {pid}")));
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prockill"))
        .arg("-L")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!text(&out.stderr).contains("panicked"));
    assert_ne!(out.status.code(), Some(101));
}
