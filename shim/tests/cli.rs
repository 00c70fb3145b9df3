//! The `prockill` binary end to end: signals, checks, backends, info, the
//! list forms, and exit codes (0 all signalled, 1 some not, 2 usage).

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

use common::{is_root, module_loaded, sleep_exe, Kid};

fn prockill(args: &[&str]) -> Output {
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
        "--exe",
        "--uid",
        "--backend",
        "info PID",
        "Exit status",
    ] {
        assert!(help.contains(word), "help lacks {word}");
    }
    let out = prockill(&["-V"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).starts_with("prockill "));
}

#[test]
fn list_forms() {
    let out = prockill(&["-l"]);
    assert_exit(&out, 0);
    let names: Vec<String> = text(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(names.len(), 62, "1-31 and 34-64");
    assert_eq!(names[0], "HUP");
    assert_eq!(names[14], "TERM");
    assert_eq!(names.last().unwrap(), "RTMAX");

    for (arg, want) in [
        ("15", "TERM"),
        ("143", "TERM"),
        ("9", "KILL"),
        ("TERM", "15"),
        ("SIGRTMIN+2", "36"),
        ("RTMAX-1", "63"),
    ] {
        let out = prockill(&["-l", arg]);
        assert_exit(&out, 0);
        assert_eq!(text(&out.stdout).trim(), want, "-l {arg}");
    }
    for bad in ["0", "32", "99", "term"] {
        assert_exit(&prockill(&["-l", bad]), 2);
    }
    let out = prockill(&["-L"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("15 TERM"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["-s"],
        &["-s", "FOO", "1"],
        &["-FOO", "1"],
        &["--bogus", "1"],
        &["-n", "65", "1"],
        &["abc"],
        &["0"],
        &["--", "-1"],
        &["-9", "-15", "1"],
        &["--backend", "magic", "1"],
        &["--uid", "no-such-user-here", "1"],
        &["info"],
        &["info", "-9", "1"],
    ] {
        let out = prockill(args);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).starts_with("prockill: "), "{args:?}");
    }
}

#[test]
fn signal_spellings() {
    for (args, sig) in [
        (&["-9"][..], libc::SIGKILL),
        (&["-KILL"], libc::SIGKILL),
        (&["-SIGUSR1"], libc::SIGUSR1),
        (&["-s", "USR2"], libc::SIGUSR2),
        (&["--signal=HUP"], libc::SIGHUP),
        (&["--signal", "INT"], libc::SIGINT),
        (&["-n", "3"], libc::SIGQUIT),
        (&[], libc::SIGTERM),
        (&["-RTMIN+1"], 35),
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
fn every_backend_signals_and_verbose_says_how() {
    let expected_auto = if module_loaded() { "node" } else { "pidfd" };
    for (backend, shown, guarantee) in [
        ("auto", expected_auto, "pid-reuse"),
        ("pidfd", "pidfd", "pid-reuse"),
        ("kill", "kill", "none"),
    ] {
        let mut kid = Kid::sleep();
        let pid = kid.pid().to_string();
        let out = prockill(&["-v", "--backend", backend, "-s", "TERM", &pid]);
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
        format!("prockill: {pid}: not signalled: no kill node: /proc/{pid}/kill is absent (is the prockill module loaded?)")
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
            "prockill: {pid}: not signalled: check failed: exe is {exe}, expected /usr/sbin/sshd"
        )
    );
    assert!(kid.still_running());
    let out = prockill(&["-v", "--exe", &exe, "-9", &pid]);
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
        // names resolve through the user database
        assert_exit(&prockill(&["--uid", "root", "-0", &pid]), 0);
    }
    assert_exit(
        &prockill(&["--uid", &uid.to_string(), "--euid", &uid.to_string(), &pid]),
        0,
    );
    assert_eq!(kid.killed_by(), Some(libc::SIGTERM));
}

#[test]
fn several_pids_one_message_per_failure() {
    let mut alive = Kid::sleep();
    let mut gone = Kid::sleep();
    let gone_pid = gone.pid().to_string();
    gone.reap();
    let alive_pid = alive.pid().to_string();
    let out = prockill(&["-s", "KILL", &gone_pid, &alive_pid]);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        stderr.trim(),
        format!("prockill: {gone_pid}: not signalled: process exited")
    );
    assert_eq!(
        alive.killed_by(),
        Some(9),
        "the live PID is still signalled"
    );
    // -q: exit status only
    let out = prockill(&["-q", &gone_pid]);
    assert_exit(&out, 1);
    assert!(out.stderr.is_empty());
}

#[test]
fn permission_denied_is_reported() {
    let mut bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_prockill"));
    let tmp = std::env::temp_dir().join(format!("prockill-cli-{}", std::process::id()));
    if is_root() {
        // nobody may not be able to reach the target directory (a checkout
        // under /root): run a copy from a world-readable place.
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
        // Run as nobody; PID 1 belongs to root.
        cmd.uid(65534).gid(65534); // std drops supplementary groups too
    }
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).starts_with("prockill: 1: not signalled: permission denied"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn info_reports_backends_and_guarantee() {
    let kid = Kid::sleep();
    let pid = kid.pid().to_string();
    let out = prockill(&["info", &pid]);
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
    if module_loaded() {
        assert_eq!(field("backend"), "node");
        assert_eq!(field("node.state"), "alive");
    } else {
        assert!(field("backend.node").starts_with("unavailable: no kill node"));
        assert_eq!(field("backend"), "pidfd");
        assert!(field("guarantee").starts_with("pid-reuse ("));
        assert!(field("node").starts_with("none"));
    }
    let out = prockill(&["info", "--backend", "kill", &pid]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("\nguarantee: none ("));

    let mut gone = Kid::sleep();
    let gone_pid = gone.pid().to_string();
    gone.reap();
    let out = prockill(&["info", &gone_pid, &pid]);
    assert_exit(&out, 1);
    assert_eq!(
        text(&out.stderr).trim(),
        format!("prockill: {gone_pid}: process exited")
    );
    assert!(text(&out.stdout).contains(&format!("pid: {pid}")));
}
