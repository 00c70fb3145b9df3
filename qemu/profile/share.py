#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qemu/profile/share.py LINES RESULTS [--md FILE] [--min R] [--min-transfers T]

Names the kernel cache lines that two vCPUs both wrote in each section of
`pk-bench --share` (recorded by the TCG plugin qemu/profile/pk-share.c in
LINES; RESULTS holds the section labels and /proc/kallsyms), and judges
issue 13's third target per path (open + close, send, exec): no global lock
or globally written line on the node's paths.

A line counts as written by both *per operation* when each vCPU stored to
it at least R times per iteration (default 0.5) and it passed from one
vCPU's store to the other's at least T times per iteration (default 0.9).
The threads run in lock-step (pk-bench --share), so a line both write in
every operation passes at least once per iteration whatever the host's
load; memory one CPU frees and the other reuses (slab objects, pages)
passes rarely. Lines both wrote less often (the timer, the barriers around
the run, such reuse) are listed as occasional and not judged. A writer is named by the function of the store
and the function its frame returns to ("_raw_spin_lock <- alloc_fd"), from
the frame-pointer chain (three frames are kept); the verdict compares
writers, not addresses, because the addresses of per-target objects differ
between sections.

Verdict per kind (open + close with the node's dentry cached; a node
looked up each time, as a first open on a process; send; exec): PASS if no
per-operation line of a node section is written by the module (the
store's function or the one it returns to in [prockill], or its ftrace
trampoline, on both vCPUs: a module store on one vCPU only is that CPU's
per-CPU data, e.g. a percpu_ref counter that the percpu allocator packed
beside another object's, which fork initialises on every CPU; such lines
are listed with the verdict, since the plugin keeps only a few writers per
line and vCPU and a module store on the other side may go unrecorded) and each
shares a writer, the pair or a function of its frames
other than a lock primitive, with a line both CPUs wrote in some anchor
section of the same kind (pidfd_open, open of /proc/<pid>/status, a stat
of a missing /proc/<pid> entry, a /proc/<tid>/fd/N entry procfs builds
anew, pidfd_send_signal, an exec without the module); MISS otherwise,
naming the lines. The fixmap (the local APIC's
per-CPU registers at one address) is left out.

--md FILE writes the table docs/benchmarks.md includes (qemu/bench.sh) and
FILE.targets one verdict line per kind.
"""
import argparse
import bisect
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from symbolize import demangle  # noqa: E402

PRIMITIVE = re.compile(r"^(_raw_|__raw_|queued_|do_raw_|native_queued|__pv_queued|preempt_|__preempt)")


def load_results(path):
    sections, text, data = {}, [], []
    for line in open(path, errors="replace"):
        line = line.rstrip("\r\n")
        if line.startswith("SHARE "):
            _, i, iters, kind, role, label = line.split(" ", 5)
            sections[int(i)] = (int(iters), kind, role, label)
        elif line.startswith("KSYM "):
            f = line[5:].split()
            if len(f) < 3:
                continue
            name = demangle(f[2]) + (" " + f[3] if len(f) > 3 else "")
            entry = (int(f[0], 16), name)
            (text if f[1] in "tTwW" else data).append(entry)
            if f[1] not in "tTwW" and f[1] not in "aAuUvV":
                pass
    text.sort()
    data.sort()
    return sections, text, data


def load_lines(path):
    """{section: (lines written, lost, [(addr, transfers, [stores], [(v, pc, r0, r1, n)])])}"""
    out, cur = {}, None
    for line in open(path):
        f = line.split()
        if not f:
            continue
        if f[0] == "section":
            cur = []
            out[int(f[1])] = (int(f[3]), int(f[5]), cur)
        elif f[0] == "line":
            cur.append((int(f[1], 16), int(f[2]), [int(x) for x in f[3:]], []))
        elif f[0] == "w":
            pc = None if f[2] == "other" else int(f[2], 16)
            cur[-1][3].append((int(f[1]), pc, int(f[3], 16), int(f[4], 16), int(f[5])))
    return out


class Syms:
    def __init__(self, text, data):
        self.text, self.taddr = text, [a for a, _ in text]
        allsyms = sorted(text + data)
        self.all, self.aaddr = allsyms, [a for a, _ in allsyms]
        self.stext = min((a for a, n in text if n == "_stext"), default=0)
        self.end = max((a for a, n in data if n in ("_end", "__bss_stop")), default=0)

    def func(self, pc):
        if not pc:
            return "?"
        if pc < 0xffff800000000000:
            return "[user]"
        i = bisect.bisect_right(self.taddr, pc) - 1
        return self.text[i][1] if i >= 0 else "[kernel ?]"

    def where(self, addr):
        """A line's address: kernel image or module data by symbol, else the region."""
        in_image = self.stext <= addr < self.end
        in_modules = 0xffffffffa0000000 <= addr < 0xffffffffff000000
        if in_image or in_modules:
            i = bisect.bisect_right(self.aaddr, addr) - 1
            if i >= 0:
                a, n = self.all[i]
                return f"{n}+{addr - a:#x}"
        if 0xffff888000000000 <= addr < 0xffffc88000000000:
            return "heap (direct map)"
        if 0xffffc90000000000 <= addr < 0xffffe90000000000:
            return "vmalloc/stack"
        if 0xffffe80000000000 <= addr < 0xffffe90000000000:
            return "per-cpu/vmalloc"
        return "kernel"


def is_module(name):
    return name.endswith("[prockill]") or name.startswith("ftrace_trampoline")


def short(name):
    return name.replace(" [prockill]", " [pk]")


def writer_key(syms, w):
    """(function of the store, function its frame returns to)."""
    _, pc, r0, _, _ = w
    return (syms.func(pc), syms.func(r0))


def analyse(sections, lines, syms, minrate, mintransfers):
    res = []
    for i in sorted(sections):
        iters, kind, role, label = sections[i]
        written, lost, shared = lines.get(i, (0, 0, []))
        per_op, occasional = [], []
        for addr, transfers, stores, writers in shared:
            if addr >= 0xffffffffff000000:
                # The fixmap: the local APIC's registers, one per CPU at
                # the same address (its EOI write on every interrupt).
                continue
            both = sorted(stores, reverse=True)[:2]
            rate = min(both) / iters
            keys, funcs = set(), set()
            module_vcpus = set()
            agg = {}
            for w in writers:
                if w[1] is None:
                    continue
                k = writer_key(syms, w)
                keys.add(k)
                chain = [syms.func(w[1]), syms.func(w[2]), syms.func(w[3])]
                # The store's function or the one it returns to.
                if any(is_module(c) for c in chain[:2]):
                    module_vcpus.add(w[0])
                funcs |= {c for c in chain if c not in ("?", "[user]") and not PRIMITIVE.match(c)}
                agg[tuple(chain)] = agg.get(tuple(chain), 0) + w[4]
            # The module shares the line only if both CPUs' module code
            # wrote it. A line only one CPU's module code writes, and the
            # other CPU's kernel code, is that CPU's own data of the module
            # beside the kernel's (per-CPU counters: the percpu allocator
            # packs small objects, and fork initialises every CPU's copy of
            # a new mm's per-CPU data); its kernel writers are judged as any.
            module = len(module_vcpus) >= 2
            rec = dict(addr=addr, where=syms.where(addr), transfers=transfers, stores=stores,
                       rate=rate, keys=keys, funcs=funcs, module=module,
                       onesided=len(module_vcpus) == 1, chains=agg)
            hot = rate >= minrate and transfers / iters >= mintransfers
            (per_op if hot else occasional).append(rec)
        res.append(dict(i=i, iters=iters, kind=kind, role=role, label=label, written=written,
                        lost=lost, per_op=per_op, occasional=occasional))
    return res


def chain_s(chain):
    parts = [short(c) for c in chain if c != "?"]
    return " <- ".join(parts)


def line_s(rec, iters):
    st = "/".join(f"{s / iters:.2f}" for s in rec["stores"])
    top = sorted(rec["chains"].items(), key=lambda kv: -kv[1])
    ws = "; ".join(chain_s(c) for c, _ in top[:4])
    return f"{rec['addr']:#x} {rec['where']}: {st} stores per iteration (vCPU0/vCPU1), {rec['transfers']} transfers; writers: {ws}"


def key_s(keys):
    return ", ".join(sorted(f"{short(a)} <- {short(b)}" if b != "?" else short(a) for a, b in keys))


def verdicts(res):
    out = []
    for kind in ("open", "lookup", "send", "exec"):
        nodes = [s for s in res if s["kind"] == kind and s["role"] == "node"]
        # A lookup also opens a file: the open anchors count for it too.
        akinds = (kind, "open") if kind == "lookup" else (kind,)
        anchors = [s for s in res if s["kind"] in akinds and s["role"] == "anchor"]
        # The exec with a kill handle on the child opens a node on a new
        # process: lines the lookup section has too are the lookup's.
        lookup = set()
        if kind == "exec":
            for s in res:
                if s["kind"] in ("lookup", "open") and s["role"] == "node":
                    for rec in s["per_op"]:
                        if s["kind"] == "lookup":
                            lookup |= rec["keys"]
            for s in res:
                if s["kind"] == "open" and s["role"] == "node":
                    for rec in s["per_op"]:
                        lookup -= rec["keys"]
        if not nodes or not anchors:
            continue
        akeys, afuncs = set(), set()
        for s in anchors:
            for rec in s["per_op"] + s["occasional"]:
                akeys |= rec["keys"]
                afuncs |= rec["funcs"]
        bad, looked, onesided = [], [], []
        for s in nodes:
            for rec in s["per_op"]:
                if rec["onesided"] and not rec["keys"] & lookup:
                    onesided.append(rec)
                if rec["keys"] & lookup:
                    looked.append(rec)
                elif rec["module"]:
                    bad.append((s, rec, "written by the module"))
                elif not (rec["keys"] & akeys) and not (rec["funcs"] & afuncs):
                    bad.append((s, rec, "no anchor shares a line with these writers"))
        anames = "; ".join(s["label"] for s in anchors)
        nper = ", ".join(f"{len(s['per_op'])}" for s in nodes)
        also = ""
        if onesided:
            # Not dropped silently: the plugin keeps a few writers per line
            # and vCPU, so a module store on the other vCPU may be unrecorded.
            also += (" (module stores recorded on one vCPU only, judged by their kernel writers; "
                     "check them: " + "; ".join(f"{rec['where']}: {key_s(rec['keys'])}"
                                                 for rec in onesided) + ")")
        if looked:
            also += (" (not counted here, being the first open's lookup, judged on the lookup path: "
                    + "; ".join(f"{rec['where']}: {key_s(rec['keys'])}" for rec in looked) + ")")
        if bad:
            what = "; ".join(f"[{s['label']}] {rec['where']} ({why}): {key_s(rec['keys'])}"
                             for s, rec, why in bad)
            out.append((kind, f"cache lines written by both CPUs, {kind} path: node sections {nper} per-operation lines; "
                              f"MISS: {what}{also}", "MISS"))
        else:
            out.append((kind, f"cache lines written by both CPUs, {kind} path: node sections {nper} per-operation lines, "
                              f"none written by the module, each shared by an anchor ({anames}){also}: PASS", "PASS"))
    return out


def parse_args():
    """The command line of the docstring's first line. Other arguments are
    ignored, as by symbolize.py."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                allow_abbrev=False)
    p.add_argument("lines", metavar="LINES")
    p.add_argument("results", metavar="RESULTS")
    p.add_argument("--md", metavar="FILE")
    p.add_argument("--min", metavar="R", type=float, default=0.5)
    p.add_argument("--min-transfers", metavar="T", type=float, default=0.9)
    return p.parse_known_args()[0]


def main():
    args = parse_args()
    md, minrate, mintransfers = args.md, args.min, args.min_transfers
    lines_path, results = args.lines, args.results
    sections, text, data = load_results(results)
    syms = Syms(text, data)
    lines = load_lines(lines_path)
    res = analyse(sections, lines, syms, minrate, mintransfers)
    for s in res:
        print(f"== [{s['kind']}, {s['role']}] {s['label']}: {s['iters']} iterations per thread; "
              f"{s['written']:,} kernel lines written, {len(s['per_op'])} by both CPUs per operation "
              f"(>= {minrate} stores per iteration each, >= {mintransfers} transfers per iteration), "
              f"{len(s['occasional'])} occasionally"
              + (f"; {s['lost']} stores lost (table full)" if s["lost"] else ""))
        for rec in sorted(s["per_op"], key=lambda r: -r["rate"]):
            print("   " + line_s(rec, s["iters"]))
        if s["occasional"]:
            print(f"   occasional ({len(s['occasional'])}):")
            for rec in sorted(s["occasional"], key=lambda r: -r["rate"])[:12]:
                print("     " + line_s(rec, s["iters"]))
        print()
    vs = verdicts(res)
    print("== verdicts")
    for _, v, _ in vs:
        print("   " + v)
    if md:
        write_md(md, res, vs, minrate, mintransfers)


def write_md(path, res, vs, minrate, mintransfers):
    out = []
    w = out.append
    w("## Cache lines written by two CPUs (`make profile`)")
    w("")
    w("The time row above cannot show a global lock under TCG; which cache lines two CPUs both write does not depend on the host's load. "
      "`qemu/profile.sh` boots the release kernel on two vCPUs with a TCG plugin (`qemu/profile/pk-share.c`) that records, between two marker "
      "instructions, every kernel store by 64-byte line and vCPU, with the writer's PC and the return addresses of its frames. `pk-bench --share` "
      "runs each operation on two threads pinned to vCPU 0 and 1, each on its own target process, in lock-step (a spinning barrier in user memory "
      "before each iteration), so that a line both write in every operation passes between the CPUs at least once per iteration. "
      f"A line counts *per operation* when each CPU stored to it at least {minrate} times per iteration and it passed between them at least "
      f"{mintransfers} times per iteration; lines both wrote less often (the timer, reused memory) count as *occasionally* and are not judged. "
      "Both threads belong to one process: its fd table, its credentials and (for fork) its memory map are written by both on every path, the "
      "kernel's own ones (anchors) included. A path passes when no per-operation line of its node sections is written by the module and each "
      "shares its writers with a line of an anchor; `qemu/profile/share.py` has the rules, and `make profile` prints every line with its writers.")
    w("")
    w("| path | operation (2 threads, each on its own target) | lines both CPUs wrote: per operation; occasionally | writers of the per-operation lines (store's function <- its caller) |")
    w("|---|---|---:|---|")
    for s in res:
        writers = "; ".join(
            f"{rec['where'].split('+')[0]}: " + ", ".join(
                f"`{chain_s(c[:2])}`" for c, _ in sorted(rec["chains"].items(), key=lambda kv: -kv[1])[:3])
            for rec in sorted(s["per_op"], key=lambda r: -r["rate"])[:4])
        if len(s["per_op"]) > 4:
            writers += f"; … ({len(s['per_op']) - 4} more: `make profile` lists them)"
        role = "**node**" if s["role"] == "node" else "anchor"
        w(f"| {s['kind']} ({role}) | {s['label']} | {len(s['per_op'])}; {len(s['occasional'])} | {writers or '—'} |")
    w("")
    for _, v, verdict in vs:
        w(f"- {v.replace(': ' + verdict, ': **' + verdict + '**') if v.endswith(verdict) else v.replace('MISS:', '**MISS**:')}")
    w("")
    open(path, "w").write("\n".join(out) + "\n")
    open(path + ".targets", "w").write("".join(v + "\n" for _, v, _ in vs))


if __name__ == "__main__":
    main()
