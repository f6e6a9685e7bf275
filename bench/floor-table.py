#!/usr/bin/env python3
"""The table of bench/floor.sh: each step's floor (bench/floor.c's medians)
beside peapod's time for it (from PEAPOD_TRACE: src/util/trace.h) and the
ratio, then the wholes against the sums of their floors.

usage: floor-table.py FLOOR TRACE WALLS TRACE_NET|- REC_DIRS REC_FILES RUNS FRUNS EXECS
"""
import statistics
import sys

floor_file, trace_file, walls_file, net_trace = sys.argv[1:5]
rec_dirs, rec_files, runs, fruns, execs = (int(a) for a in sys.argv[5:10])

F = {}
for line in open(floor_file):
    k, med, lo, hi = line.split()
    F[k] = float(med)
HIER = int(F.get("cgroup.hierarchies", 0))
CTRS = ("c1", "c2", "c3")


def runs_of(path):
    """The trace as runs (each from a "cli apply"): a list of
    [(ns, step)...], in time order."""
    ev = []
    for line in open(path):
        p = line.split(None, 2)
        if len(p) == 3:
            ev.append((int(p[0]), p[2].strip()))
    ev.sort()
    out = []
    for t, step in ev:
        if step == "cli apply":
            out.append([])
        if out:
            out[-1].append((t, step))
    return out


def intervals(run, a, b, after=None, each=None):
    """ms from each occurrence of step a to the first b after it (after:
    only from the first occurrence of that step on)."""
    res = []
    start = 0
    if after is not None:
        idx = [i for i, (_, s) in enumerate(run) if s == after]
        if not idx:
            return res
        start = idx[0]
    for i in range(start, len(run)):
        if run[i][1] != a:
            continue
        for j in range(i + 1, len(run)):
            if run[j][1] == b:
                res.append((run[j][0] - run[i][0]) / 1e6)
                break
        if each is None:
            break
    return res


def med(v):
    return statistics.median(v) if v else None


RUNS = runs_of(trace_file)
NET_RUNS = runs_of(net_trace) if net_trace != "-" else []


def step(a, b, ctr=False, each=False, trace=None):
    vals = []
    for run in trace if trace is not None else RUNS:
        if ctr:
            for c in CTRS:
                vals += intervals(run, a.replace("%", c), b.replace("%", c))
        else:
            vals += intervals(run, a, b, each=each or None)
    return med(vals)


def last_to(run, prefix_a, b):
    """ms from the last step starting with prefix_a to b."""
    ta = [t for t, s in run if s.startswith(prefix_a[0]) and s.endswith(prefix_a[1])]
    tb = [t for t, s in run if s == b]
    if not ta or not tb:
        return []
    return [(tb[0] - max(ta)) / 1e6]


walls = {}
for line in open(walls_file):
    k, v = line.split()
    walls.setdefault(k, []).append(float(v))

rows = []  # (label, floor label, floor ms or None, peapod ms or None)


def f(expr):
    """floor of a sum: [(coef, key)...]"""
    try:
        return sum(c * F[k] for c, k in expr)
    except KeyError:
        return None


def row(label, floor_what, floor_ms, pp_ms):
    rows.append((label, floor_what, floor_ms, pp_ms))


def fmt(x):
    return "-" if x is None else f"{x:.3f}"


def ratio(fl, pp):
    if fl is None or pp is None or fl <= 0:
        return ""
    r = pp / fl
    return f"**{r:.1f}x**" if r > 1.5 else f"{r:.1f}x"


# --- pod start ------------------------------------------------------------------
row("**pod start**", "", None, None)
row("apply: manifest read, supervisor forked (`cli apply` -> `sup start`)", "fork + exit + wait",
    f([(1, "ns.none")]), step("cli apply", "sup start"))
row("supervisor: state dirs, image pins (-> `pod cgroups begin`)", "", None,
    step("sup start", "pod cgroups begin"))
row(f"cgroups: pod + 3 containers in {HIER} hierarchies, resources, devices; the infra "
    "process cloned after the cgroup2 one (it makes its namespaces meanwhile)",
    f"4 x mkdir in {HIER} hierarchies", f([(4, "cgroup.mkdir")]),
    step("pod cgroups begin", "pod cgroups made"))
row("volumes, id range (-> `sandbox create`)", "", None, step("pod cgroups made", "sandbox create"))
row("sandbox: /dev/shm, the infra's new net+ipc+uts namespaces, loopback up (made and set "
    "up by it since the cgroups began) awaited",
    "clone(net,ipc,uts) + wait; new netns + lo up", f([(1, "ns.net,ipc,uts"), (1, "net.lo")]),
    step("sandbox create", "sandbox infra up"))
row("network, loopback only (`PEAPOD_NETWORK=none`)", "nothing to do", None,
    step("sandbox infra up", "sandbox network up"))
if NET_RUNS:
    row("network, default (fast path: veth into the pod's netns, address, routes, bridge)",
        "one RTM_NEWLINK veth into the netns + address + up", f([(1, "net.veth")]),
        step("sandbox infra up", "sandbox network up", trace=NET_RUNS))
row("/etc files, first container spawned (-> `ctr c1 spawn`)", "", None,
    step("sandbox network up", "ctr c1 spawn"))
ctr_steps = [
    ("container: clone of the child (`spawn` -> `child`)", "fork + exit + wait", [(1, "ns.none")],
     "ctr % spawn", "ctr % child"),
    ("container: cgroups joined (v1 `tasks` writes; cgroup2 by CLONE_INTO_CGROUP)",
     "self-move into the v1 hierarchies", [(1, "cgroup.join")], "ctr % child", "ctr % cgroups joined"),
    ("container: pod namespaces joined (+ oom_score_adj)", "setns(net,ipc,uts)", [(1, "setns.join")],
     "ctr % cgroups joined", "ctr % namespaces joined"),
    ("container: mount namespace of its own, made private", "unshare(NEWNS) + MS_REC|MS_PRIVATE",
     [(1, "mntns")], "ctr % namespaces joined", "ctr % mount ns"),
    ("container: overlay root", "overlay mount (busybox lower)", [(1, "overlay.mount")],
     "ctr % mount ns", "ctr % overlay mounted"),
    ("container: /proc, /dev, /sys, mqueue, masks", "", None, "ctr % overlay mounted",
     "ctr % rootfs mounted"),
    ("container: pivot_root", "pivot_root + detach the old root", [(1, "pivot")],
     "ctr % rootfs mounted", "ctr % pivoted"),
    ("container: user, capabilities, seccomp", "", None, "ctr % pivoted", "ctr % user and security"),
    ("container: exec, seen by the supervisor (-> `running`)", "posix_spawn of static busybox to its exec",
     [(1, "spawn.exec")], "ctr % user and security", "ctr % running"),
]
ctr_floor = 0.0
for label, what, expr, a, b in ctr_steps:
    fl = f(expr) if expr else None
    if fl is not None:
        ctr_floor += fl
    row(label, what, fl, step(a, b, ctr=True))
row("container, whole (`spawn` -> `running`; the three overlap)", "sum of the container's floors",
    ctr_floor, step("ctr % spawn", "ctr % running", ctr=True))
ready_after = []
for run in RUNS:
    ready_after += last_to(run, ("ctr ", " running"), "pod ready")
row("last container running -> pod Ready (status written)", "", None, med(ready_after))
start_floor = f([(2, "spawn.exit"), (1, "ns.none"), (4, "cgroup.mkdir"), (1, "ns.net,ipc,uts"),
                 (1, "net.lo")])
start_floor = None if start_floor is None else start_floor + 3 * ctr_floor
row("**apply -> Ready, whole** (wall time of `apply` + `wait`)",
    "2 process starts (static) + the sum of the floors above, the 3 containers one after the other",
    start_floor, med(walls.get("ready", [])))

# --- exec -------------------------------------------------------------------------
row("**exec**", "", None, None)
row("exec: CLI start to the pod's record read (`cli exec` -> `exec call`)", "", None,
    step("cli exec", "exec call", each=True))
row("exec: control socket round trip (reply: identity, fds)", "unix socket connect + request + reply",
    f([(1, "socket")]), step("exec call", "exec reply", each=True))
row("exec: setns + clone into the cgroup + exec (`exec start` -> `exec started`)",
    "setns(pid) + vfork + setns(mnt,net,ipc,uts) + exec", f([(1, "setns.exec")]),
    step("exec start", "exec started", each=True))
row("exec: the command's run, its wait (`exec started` -> `exec waited`)",
    "static busybox true from exec to reaped", f([(1, "setns.exit"), (-1, "setns.exec")]),
    step("exec started", "exec waited", each=True))
row("**exec, whole** (wall time of `peapod exec ... /bin/true`)",
    "a process start (static) + socket round trip + setns, fork, exec, wait",
    f([(1, "spawn.exit"), (1, "socket"), (1, "setns.exit")]), med(walls.get("exec", [])))

# --- delete -----------------------------------------------------------------------
row("**delete**", "", None, None)
row("delete: CLI start to the pod's record read (`cli delete` -> `delete call`)", "", None,
    step("cli delete", "delete call"))
row("delete: the stop request on the control socket (-> `sup stop`)", "unix socket round trip",
    f([(1, "socket")]), step("delete call", "sup stop"))
row("delete: each container's SIGTERM to its exit seen (a shell trapping TERM)",
    "pidfd_send_signal + poll + waitid", f([(1, "kill")]), step("sup stop", "ctr % exited", ctr=True))
fin = []
for run in RUNS:
    fin += last_to(run, ("ctr ", " exited"), "sup finish")
row("last container exited -> `sup finish`", "", None, med(fin))
row("infra process killed, sandbox gone (`pod containers gone` -> `pod sandbox gone`)",
    "pidfd_send_signal + poll + waitid", f([(1, "kill")]),
    step("pod containers gone", "pod sandbox gone"))
row(f"cgroups removed (4 in {HIER} hierarchies)", f"4 x rmdir in {HIER} hierarchies",
    f([(4, "cgroup.rmdir")]), step("pod sandbox gone", "pod cgroups gone"))
row(f"the record's files ({rec_dirs} dirs, {rec_files} files): renamed, unlinked by a child after",
    "rename of the tree", f([(1, "tree.rename")]), step("pod cgroups gone", "pod files gone"))
row("", f"(unlinking that tree in place: {fmt(F.get('tree.unlink'))} ms)", None, None)
row("supervisor gone -> `delete` exits (record removed)", "", None,
    step("delete supervisor gone", "cli delete exit"))
row("**delete, whole** (wall time of `peapod delete`)",
    "a process start + socket + kill (containers in parallel) + kill (infra) + rmdirs + rename",
    f([(1, "spawn.exit"), (1, "socket"), (2, "kill"), (4, "cgroup.rmdir"), (1, "tree.rename")]),
    med(walls.get("delete", [])))

print(f"### The kernel's floor per step ({runs} pods traced, {execs} execs each; floor: {fruns} runs a step)")
print()
print("Times in ms, medians. Floor: bench/floor.c doing the step's kernel work the cheapest way, "
      "in the same run; peapod: PEAPOD_TRACE's time between the two steps named. "
      "Ratio = peapod / floor, **bold** above 1.5x.")
print()
print("| step | floor: what | floor (ms) | peapod (ms) | ratio |")
print("|---|---|---|---|---|")
for label, what, fl, pp in rows:
    if label.startswith("**") and not what:
        print(f"| {label} | | | | |")
        continue
    print(f"| {label} | {what} | {fmt(fl)} | {fmt(pp)} | {ratio(fl, pp)} |")
print()
print("Floor alone (ms): " + ", ".join(f"{k} {v:.3f}" for k, v in F.items() if k != "cgroup.hierarchies"))
