#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qemu/profile/symbolize.py COUNTS RESULTS [--top N] [--diff] [--md FILE]

Turns the pk-count plugin's block counts (COUNTS) into per-operation costs
and per-function profiles, with the section labels and /proc/kallsyms that
`pk-bench --count` wrote (RESULTS). Costs are guest instructions and guest
blocks (each block ends in a jump, call or return: TCG's unit of dispatch)
per iteration of the operation. A row measured in rounds (labels ending in
" #<round>") is its median round, and its ratios the median of the per-round
ratios. --diff adds, for every operation measured both "[not loaded]" and
"[loaded]", the functions whose counts differ (median rounds).
--md FILE writes the tables docs/benchmarks.md includes (qemu/bench.sh).
"""
import argparse
import bisect
import re


def demangle(name):
    """Rust v0 symbols (_RNv...) as path::to::item, enough to read a profile."""
    m = re.match(r"_R(\S+)(.*)", name)
    if not m:
        return name
    body = re.sub(r"(Cs|Ms|B)[0-9A-Za-z]*_", "", m.group(1))
    idents, i = [], 0
    while i < len(body):
        if body[i].isdigit():
            j = i
            while j < len(body) and body[j].isdigit():
                j += 1
            n = int(body[i:j])
            idents.append(body[j:j + n])
            i = j + n
        else:
            i += 1
    return "::".join(idents[1:] or idents) + m.group(2)


def ksym(text):
    """(address, name) of a /proc/kallsyms line of code, else None."""
    f = text.split()
    if len(f) >= 3 and f[1] in "tTwW":
        return int(f[0], 16), demangle(f[2]) + (" " + f[3] if len(f) > 3 else "")
    return None


def load_results(path):
    """The sections' (iterations, label), and for each section the symbol
    table that names its blocks: KSYM (the kernel) plus the MODKSYM lines
    (module code, which moves from load to load) written before it."""
    labels, base, loads, load_of = {}, [], [[]], {}
    in_load = False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("SECTION "):
            _, i, iters, label = line.split(" ", 3)
            labels[int(i)] = (int(iters), label)
            load_of[int(i)] = len(loads) - 1
            in_load = False
        elif line.startswith("MODKSYM "):
            if not in_load:
                loads.append([])
                in_load = True
            if (k := ksym(line[8:])) is not None:
                loads[-1].append(k)
        elif line.startswith("KSYM "):
            if (k := ksym(line[5:])) is not None:
                base.append(k)
    tables = [sorted(base + mod) for mod in loads]
    return labels, {i: tables[e] for i, e in load_of.items()}, tables[-1]


def load_counts(path):
    sections, cur = {}, None
    for line in open(path):
        if line.startswith("section "):
            cur = sections.setdefault(int(line.split()[1]), [])
        elif cur is not None:
            a, n, c = line.split()
            cur.append((int(a, 16), int(n), int(c)))
    return sections


def name_of(addr, syms, addrs):
    if addr < 0xffff800000000000:
        return "[user]"
    i = bisect.bisect_right(addrs, addr) - 1
    return syms[i][1] if i >= 0 else "[kernel ?]"


def profile(blocks, syms, addrs):
    per = {}
    for a, n, c in blocks:
        k = name_of(a, syms, addrs)
        ins, bl = per.get(k, (0, 0))
        per[k] = (ins + n * c, bl + c)
    return per


def parse_args():
    """The command line of the docstring's first line. Arguments it does not
    know are ignored, as before (qemu/profile.sh passes on the rest of its
    own)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument("counts", metavar="COUNTS")
    p.add_argument("results", metavar="RESULTS")
    p.add_argument("--top", metavar="N", type=int, default=25)
    p.add_argument("--diff", action="store_true")
    p.add_argument("--md", metavar="FILE")
    return p.parse_known_args()[0]


def main():
    args = parse_args()
    top, diff, md = args.top, args.diff, args.md
    counts, results = args.counts, args.results
    labels, tables, last = load_results(results)
    sections = load_counts(counts)
    # Every section measured, then one row per label: a label measured in
    # rounds ("<label> #<round>") is the round of median instructions
    # (for an even number of rounds, the lower of the middle two).
    measured = {}
    for i in sorted(sections):
        iters, label = labels.get(i, (1, f"section {i}"))
        syms = tables.get(i, last)
        per = profile(sections[i], syms, [a for a, _ in syms])
        ins = sum(v[0] for v in per.values()) / iters
        m = re.fullmatch(r"(.*) #(\d+)", label)
        row, rnd = (m.group(1), int(m.group(2))) if m else (label, 0)
        measured.setdefault(row, []).append((ins, i, iters, per, rnd))
    summary = []
    profiles = {}
    # Instructions and blocks of each round of a row measured in rounds.
    rounds = {}
    for row, runs in measured.items():
        if len(runs) > 1:
            rounds[row] = {r[4]: (r[0], sum(v[1] for v in r[3].values()) / r[2]) for r in runs}
        ins, _, iters, per, _ = sorted(runs, key=lambda r: (r[0], r[1]))[(len(runs) - 1) // 2]
        bl = sum(v[1] for v in per.values()) / iters
        kins = sum(v[0] for k, v in per.items() if k != "[user]") / iters
        kbl = sum(v[1] for k, v in per.items() if k != "[user]") / iters
        summary.append((row, ins, bl, kins, kbl))
        profiles[row] = (iters, per)
        note = ""
        if len(runs) > 1:
            each = ", ".join(f"{r[0]:,.0f}" for r in sorted(runs, key=lambda r: r[1]))
            note = f"; median of {len(runs)} rounds: {each}"
        print(f"== {row}: {ins:,.0f} instructions, {bl:,.0f} blocks per iteration "
              f"(kernel {kins:,.0f} / {kbl:,.0f}){note}")
        for k, (n, c) in sorted(per.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"   {n / iters:10,.1f} insn {c / iters:8,.1f} blk  {k}")
        print()
    if diff:
        for label, (iters, per) in profiles.items():
            if not label.endswith("[not loaded]"):
                continue
            other = label[: -len("[not loaded]")] + "[loaded]"
            if other not in profiles:
                continue
            iters2, per2 = profiles[other]
            d = {}
            for k in sorted(set(per) | set(per2)):
                a = per.get(k, (0, 0))
                b = per2.get(k, (0, 0))
                d[k] = (b[0] / iters2 - a[0] / iters, b[1] / iters2 - a[1] / iters)
            tot = (sum(v[0] for v in d.values()), sum(v[1] for v in d.values()))
            print(f"== {other} minus [not loaded]: {tot[0]:+,.1f} instructions, {tot[1]:+,.1f} blocks per iteration")
            # Ties in name order: the output does not depend on the hash seed.
            for k, (n, c) in sorted(d.items(), key=lambda kv: (-abs(kv[1][0]), kv[0]))[:top]:
                if abs(n) >= 0.5:
                    print(f"   {n:+10,.1f} insn {c:+8,.1f} blk  {k}")
            print()
    if md:
        write_md(md, summary, profiles, rounds)
    print("== summary (per iteration)")
    print(f"   {'instructions':>13} {'blocks':>9}  operation")
    for label, ins, bl, _, _ in summary:
        print(f"   {ins:13,.0f} {bl:9,.0f}  {label}")


def is_module(name):
    return name.endswith("[prockill]") or name.startswith("ftrace_trampoline")


def median(xs):
    xs = sorted(xs)
    return xs[(len(xs) - 1) // 2]


def write_md(path, summary, profiles, rounds):
    cost = {label: (ins, bl) for label, ins, bl, _, _ in summary}

    def ratio(a, b):
        """a over b in instructions and in blocks: the median of the
        per-round ratios when both rows were measured in the same rounds
        (the module unloaded, then loaded, in each), with those ratios;
        else the ratio of the two rows."""
        ra, rb = rounds.get(a, {}), rounds.get(b, {})
        common = sorted(set(ra) & set(rb))
        if len(common) > 1:
            ri = [ra[r][0] / rb[r][0] for r in common]
            rbl = [ra[r][1] / rb[r][1] for r in common]
            return median(ri), median(rbl), ri
        return cost[a][0] / cost[b][0], cost[a][1] / cost[b][1], None
    out = []
    w = out.append

    def table(title, rows, base):
        b = cost.get(base)
        if not b:
            return
        w(f"| {title} | instructions | blocks | ratio to {base.split(' [')[0]} (instructions; blocks) |")
        w("|---|---:|---:|---:|")
        for label in rows:
            if label not in cost:
                continue
            ins, bl = cost[label]
            r = "1 (baseline)" if label == base else f"**{ins / b[0]:.3f}x**; {bl / b[1]:.3f}x"
            w(f"| {label} | {ins:,.0f} | {bl:,.0f} | {r} |")
        w("")

    sends = [l for l in cost if l.startswith(("pidfd_send", "kill(2)", "write(2)", "ioctl("))]
    w("### Sending a signal")
    w("")
    table("operation", sends, "pidfd_send_signal(pidfd)")
    node = "write(2) to /proc/<pid>/kill"
    if node in profiles:
        iters, per = profiles[node]
        mod = sorted(((k, v) for k, v in per.items() if is_module(k)), key=lambda kv: -kv[1][0])
        tot = sum(v[0] for _, v in mod) / iters
        w(f"Of the node write's {cost[node][0]:,.0f} instructions, {tot:,.0f} are the module's own code:")
        w("")
        w("| function (module) | instructions | blocks |")
        w("|---|---:|---:|")
        for k, (n, c) in mod:
            w(f"| `{k.replace(' [prockill]', '')}` | {n / iters:,.0f} | {c / iters:,.0f} |")
        w("")
    w("### Getting a handle")
    w("")
    opens = [l for l in cost if "+ close" in l and not l.startswith("openat")]
    table("operation", opens, "open(/proc/<pid>/status) + close")
    w("From a held `/proc/<pid>` directory fd:")
    w("")
    table("operation", [l for l in cost if l.startswith("openat")], "openat(dirfd, status) + close")
    w("### What the module costs everyone else")
    w("")
    w("| operation | not loaded: instructions | loaded: instructions | ratio (instructions; blocks) | per round (instructions) | the module's own code per iteration (ftrace trampoline + handlers) |")
    w("|---|---:|---:|---:|---:|---:|")
    for label in cost:
        if not label.endswith("[not loaded]"):
            continue
        other = label[: -len("[not loaded]")] + "[loaded]"
        if other not in cost:
            continue
        a, b = cost[label], cost[other]
        iters, per = profiles[other]
        own = sum(v[0] for k, v in per.items() if is_module(k)) / iters
        ri, rbl, each = ratio(other, label)
        each = ", ".join(f"{x:.4f}" for x in each) if each else "—"
        w(f"| {label[: -len(' [not loaded]')]} | {a[0]:,.0f} | {b[0]:,.0f} | **{ri:.4f}x**; {rbl:.4f}x | {each} | {own:,.0f} |")
    w("")
    if rounds:
        n = max(len(v) for v in rounds.values())
        w(f"Each row of this table was measured in {n} rounds, the module unloaded and then loaded in each; "
          "the instructions are the median round's, the ratio the median of the per-round ratios.")
        w("")
    w("### Revocation: an exec with handles on other processes")
    w("")
    ex = [l for l in cost if "revoke=exec" in l]
    base = next((l for l in ex if l.endswith("no handles")), None)
    if base:
        table("operation", ex, base)
    open(path, "w").write("\n".join(out) + "\n")
    # Issue 13's targets, in instructions: one "what: ratio; target: PASS|MISS"
    # line each, in PATH.targets (make bench lists them with its own).
    targets = [
        ("write(2) to /proc/<pid>/kill", "pidfd_send_signal(pidfd)", 1.20),
        ("ioctl(PROCKILL_IOC_SEND)", "pidfd_send_signal(pidfd)", 1.05),
        ("open(/proc/<pid>/kill) + close", "open(/proc/<pid>/status) + close", 1.30),
        ("openat(dirfd, kill) + close", "openat(dirfd, status) + close", 1.30),
        ("ls /proc/<pid> [loaded]", "ls /proc/<pid> [not loaded]", 1.03),
        ("ls /proc/<pid>/task/<tid> [loaded]", "ls /proc/<pid>/task/<tid> [not loaded]", 1.03),
        ("stat /proc/<pid>/kilo x", "stat /proc/<pid>/kilo x", 1.01),
        ("fork + exec /bin/true + wait [loaded]", "fork + exec /bin/true + wait [not loaded]", 1.01),
    ]
    lines = []
    for a, b, limit in targets:
        if a.startswith("stat "):
            la = next((l for l in cost if l.startswith(a) and l.endswith("[loaded]")), None)
            lb = next((l for l in cost if l.startswith(b) and l.endswith("[not loaded]")), None)
        else:
            la, lb = (a if a in cost else None), (b if b in cost else None)
        if not la or not lb:
            continue
        r, _, each = ratio(la, lb)
        floor = 0
        how = (f"median of {len(each)} rounds ({', '.join(f'{x:.3f}' for x in each)}); "
               f"median rounds {cost[la][0]:,.0f} / {cost[lb][0]:,.0f}") if each else \
            f"{cost[la][0]:,.0f} / {cost[lb][0]:,.0f}"
        if la.endswith("[loaded]"):
            # The floor: what the module's own code (ftrace trampolines and
            # handlers) adds to the unloaded row, with nothing else changed.
            iters, per = profiles[la]
            own = sum(v[0] for k, v in per.items() if is_module(k)) / iters
            floor = (cost[lb][0] + own) / cost[lb][0]
            how += f"; the module's own code {own:,.0f} instructions, a floor of {floor:.4f}x"
        # The module's own code is a lower bound on what it costs: a ratio
        # below it is the rest of the kernel's noise, not a saving.
        verdict = "PASS" if max(r, floor) <= limit else "MISS"
        if r <= limit < floor:
            verdict += " (the ratio is below the module's own code, whose floor is above the target)"
        lines.append(f"{la} / {lb}: {r:.3f}x in instructions ({how}); target <= {limit:.2f}x: {verdict}")
    open(path + ".targets", "w").write("".join(l + "\n" for l in lines))


if __name__ == "__main__":
    main()
