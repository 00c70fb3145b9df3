#!/usr/bin/env python3
"""qemu/doctest.py: run the labs of docs/ in the VM and compare their output.

    qemu/doctest.sh [--no-build] [--counts FILE] [--only REGEX] [--list] [--keep DIR]

A lab is a fenced code block whose info string starts with `lab`:

    ```lab release            (the kernel flavour: release, debug or kcsan)
    # sleep 1000 & P=$!       a line starting with "# " is a command typed at
    # cat /proc/$P/kill       the root prompt of `make shell`
    pid: <PID>                any other line is expected output
    ...
    ```

Optional words after the flavour: `timeout=SECONDS` (default 60).

The notation of expected output (docs/README.md, "How the labs work"):

    # CMD      a command, run in the guest as root (busybox sh)
    > MORE     the next line of the command above (the shell's PS2 prompt)
    $ CMD      a command typed on the host (e.g. `make shell`): shown, not run
    <PID> <N>  one unsigned decimal number (a PID, a count, an inode...)
    <T>        a decimal number with an optional fraction (a time)
    <*>        any text on one line, possibly none
    ...        a line of its own: any number of lines, possibly none

A run of blanks (spaces or tabs) matches any run of blanks; trailing blanks
are ignored. Everything else must match exactly.

All labs of one flavour run in one boot (qemu/run --dir with the labs and
qemu/doctest-guest.sh). Each lab is fed on standard input to a fresh `sh`
(busybox, as root, cwd /root, module loaded with default parameters), which
is how a shell reads what a student types: the shell prints its errors as
`sh: ...` with no line numbers, and it is the 4th exec since boot, as the
shell of `make shell` is. Before each command the transcript gets the
command itself as `# CMD`, so the transcript has the shape of the lab. What
the lab leaves running is killed and the module's `revoke` parameter is
reset (the module reloaded if the lab unloaded it) before the next lab.

Prints one PASS/FAIL line per lab (with a diff on failure), then
`N passed, N failed`. A kernel splat, a timeout or a failed boot fails every
lab of that boot that did not report.
"""
import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FLAVOURS = ("release", "debug", "kcsan")
FENCE = re.compile(r"^(\s*)(```+)\s*lab\b(.*)$")


class Lab:
    def __init__(self, path, line, flavour, timeout, body):
        self.path, self.line, self.flavour, self.timeout, self.body = path, line, flavour, timeout, body
        self.name = f"{os.path.relpath(path, REPO)}:{line}"

    def commands(self):
        """[(text shown, text run)], each command with its continuation lines."""
        cmds = []
        for raw in self.body:
            if raw.startswith("# ") or raw == "#":
                cmds.append([raw[2:]])
            elif (raw.startswith("> ") or raw == ">") and cmds:
                cmds[-1].append(raw[2:])
        return cmds

    def expected(self):
        """The body as the transcript should show it: without host lines."""
        return [l.rstrip() for l in self.body if not (l.startswith("$ ") or l == "$")]


def find_labs():
    files = [os.path.join(REPO, "README.md")]
    docs = os.path.join(REPO, "docs")
    files += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    labs, errors = [], []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            indent, fence, rest = m.group(1), m.group(2), m.group(3).split()
            start = i + 1
            flavour, timeout = (rest[0] if rest else ""), 60
            for w in rest[1:]:
                if w.startswith("timeout="):
                    timeout = int(w.split("=", 1)[1])
            if flavour not in FLAVOURS:
                errors.append(f"{os.path.relpath(path, REPO)}:{start}: lab block without a flavour (release|debug|kcsan)")
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip())
                i += 1
            if i >= len(lines):
                errors.append(f"{os.path.relpath(path, REPO)}:{start}: unterminated lab block")
            labs.append(Lab(path, start, flavour, timeout, body))
            i += 1
    return labs, errors


def pattern(line):
    """One expected line -> a compiled regex (None for `...`)."""
    if line.strip() == "...":
        return None
    out, pos = [], 0

    def lit(text):
        # A run of blanks (spaces, tabs) matches any run of blanks.
        return r"[ \t]+".join(re.escape(p) for p in re.split(r"[ \t]+", text))

    for m in re.finditer(r"<PID>|<N>|<T>|<\*>", line):
        out.append(lit(line[pos:m.start()]))
        tok = m.group(0)
        out.append({"<PID>": r"[0-9]+", "<N>": r"[0-9]+", "<T>": r"[0-9]+(?:\.[0-9]+)?", "<*>": r".*"}[tok])
        pos = m.end()
    out.append(lit(line[pos:]))
    return re.compile("".join(out) + r"\Z")


def matches(expected, actual):
    pats = [pattern(l) for l in expected]
    memo = {}

    def m(i, j):
        key = (i, j)
        if key in memo:
            return memo[key]
        if i == len(pats):
            r = j == len(actual)
        elif pats[i] is None:
            r = any(m(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            r = j < len(actual) and pats[i].match(actual[j]) is not None and m(i + 1, j + 1)
        memo[key] = r
        return r

    sys.setrecursionlimit(10000)
    return m(0, 0)


def aligned(expected, actual):
    """The expected lines as they would read had they matched: each line
    that matches (a pattern, or actual lines taken by `...`) is replaced by
    the actual text, so a diff against `actual` shows only real differences."""
    pats = [pattern(l) for l in expected]
    n, m = len(pats), len(actual)
    INF = float("inf")
    cost = [[INF] * (m + 1) for _ in range(n + 1)]
    cost[n][m] = 0
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n and j == m:
                continue
            best = INF
            if i < n and pats[i] is None:
                best = min(best, cost[i + 1][j])
                if j < m:
                    best = min(best, cost[i][j + 1])
            if i < n and j < m and pats[i] is not None and pats[i].match(actual[j]):
                best = min(best, cost[i + 1][j + 1])
            if i < n and pats[i] is not None:
                best = min(best, 1 + cost[i + 1][j])
            if j < m:
                best = min(best, 1 + cost[i][j + 1])
            cost[i][j] = best
    out, i, j = [], 0, 0
    while i < n or j < m:
        c = cost[i][j]
        if i < n and pats[i] is None and cost[i + 1][j] == c:
            i += 1
        elif i < n and pats[i] is None and j < m and cost[i][j + 1] == c:
            out.append(actual[j])
            j += 1
        elif i < n and j < m and pats[i] is not None and pats[i].match(actual[j]) and cost[i + 1][j + 1] == c:
            out.append(actual[j])
            i, j = i + 1, j + 1
        elif i < n and pats[i] is not None and 1 + cost[i + 1][j] == c:
            out.append(expected[i])
            i += 1
        else:
            j += 1
    return out


def shq(s):
    return "'" + s.replace("'", "'\\''") + "'"


def write_lab_script(lab, path):
    with open(path, "w", encoding="utf-8") as fh:
        for cmd in lab.commands():
            shown = ["# " + cmd[0]] + ["> " + c for c in cmd[1:]]
            fh.write("printf '%s\\n' " + " ".join(shq(s) for s in shown) + "\n")
            fh.write("\n".join(cmd) + "\n")


def run_flavour(flavour, labs, args):
    """Run labs in one boot; returns {lab index: transcript lines} and a note."""
    tmp = tempfile.mkdtemp(prefix="prockill-doctest.")
    try:
        d = os.path.join(tmp, "host")
        os.makedirs(os.path.join(d, "labs"))
        shutil.copy(os.path.join(HERE, "doctest-guest.sh"), os.path.join(d, "doctest-guest.sh"))
        for n, lab in enumerate(labs):
            write_lab_script(lab, os.path.join(d, "labs", f"{n:03d}.sh"))
            with open(os.path.join(d, "labs", f"{n:03d}.timeout"), "w") as fh:
                fh.write(f"{lab.timeout}\n")
        if args.keep:
            dst = os.path.join(args.keep, flavour)
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(d, dst)
        results = os.path.join(tmp, "results")
        log = os.path.join(tmp, "console")
        total = sum(l.timeout for l in labs) + 120
        if not args.no_build:
            # The kernel, module, guest binaries and image, cached after the
            # first run; its progress (and any wait for another checkout's
            # kernel build) shows on stderr.
            tb = time.time()
            if subprocess.call([os.path.join(HERE, "pk"), "image", flavour], stdout=sys.stderr) != 0:
                return {}, f"building the {flavour} image failed", time.time() - tb
            print(f"== doctest {flavour}: image ready in {time.time() - tb:.1f}s", file=sys.stderr, flush=True)
        cmd = [os.path.join(HERE, "run"), "--no-build", "--flavour", flavour, "--dir", d, "--results", results,
               "--log", log, "--timeout", str(total), "--", "sh /host/doctest-guest.sh"]
        t0 = time.time()
        with open(os.path.join(tmp, "stdout"), "w") as so:
            rc = subprocess.call(cmd, stdout=so, stderr=subprocess.STDOUT)
        took = time.time() - t0
        out = {}
        try:
            with open(results, encoding="utf-8", errors="replace") as fh:
                text = fh.read().replace("\r", "")
        except OSError:
            text = ""
        cur, buf = None, []
        for line in text.split("\n"):
            m = re.match(r"^=== LAB ([0-9]+) rc=([0-9]+)$", line)
            if m:
                cur, buf = int(m.group(1)), []
                continue
            if cur is not None and line == f"=== END {cur:03d}":
                out[cur] = buf
                cur = None
                continue
            if cur is not None:
                buf.append(line.rstrip())
        note = None
        if rc != 0:
            with open(os.path.join(tmp, "stdout"), encoding="utf-8", errors="replace") as fh:
                tail = [l.rstrip() for l in fh if l.startswith("qemu/run:")]
            note = f"qemu/run status {rc}" + (": " + tail[-1] if tail else "")
            if args.keep:
                shutil.copy(log, os.path.join(args.keep, f"{flavour}-console.log"))
        return out, note, took
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Run the labs of docs/ in the VM.")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--counts", metavar="FILE", help='write "PASSED FAILED" to FILE')
    ap.add_argument("--only", metavar="REGEX", help="labs whose name (file:line) matches")
    ap.add_argument("--list", action="store_true", help="list the labs and exit")
    ap.add_argument("--keep", metavar="DIR", help="keep the generated scripts (and failing consoles) in DIR")
    args = ap.parse_args()

    labs, errors = find_labs()
    if args.only:
        labs = [l for l in labs if re.search(args.only, l.name)]
    if args.list:
        for l in labs:
            print(f"{l.name} ({l.flavour}, {len(l.commands())} commands)")
        return 0
    t0 = time.time()
    passed = failed = 0
    for e in errors:
        print(f"FAIL {e}")
        failed += 1
    for flavour in FLAVOURS:
        group = [l for l in labs if l.flavour == flavour]
        if not group:
            continue
        print(f"== doctest: {len(group)} labs on the {flavour} kernel, one boot", file=sys.stderr, flush=True)
        out, note, took = run_flavour(flavour, group, args)
        print(f"== doctest {flavour}: boot and labs {took:.1f}s", file=sys.stderr, flush=True)
        for n, lab in enumerate(group):
            if n not in out:
                print(f"FAIL lab {lab.name} ({flavour}): no transcript" + (f" ({note})" if note else ""))
                failed += 1
                continue
            exp = lab.expected()
            act = out[n]
            while act and act[-1] == "":
                act.pop()
            if matches(exp, act):
                print(f"PASS lab {lab.name} ({flavour})")
                passed += 1
            else:
                print(f"FAIL lab {lab.name} ({flavour}): output differs (- expected, + got)")
                for d in difflib.unified_diff(aligned(exp, act), act, "expected", "got", lineterm="", n=2):
                    print("    " + d)
                failed += 1
        if note:
            print(f"FAIL doctest-boot ({flavour}): {note}")
            failed += 1
    print(f"doctest: {len(labs)} labs in {time.time() - t0:.0f}s", file=sys.stderr)
    print(f"{passed} passed, {failed} failed")
    if args.counts:
        with open(args.counts, "w") as fh:
            fh.write(f"{passed} {failed}\n")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
