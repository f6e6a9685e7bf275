#!/usr/bin/env python3
"""The soak's samples (bench/soak.sh's samples.csv) as one SVG of small
panels, one a measure against the minutes, and a summary in Markdown: each
measure after the warm-up and at the end, and whether it grew.

usage: soak-plot.py SAMPLES.CSV OUT.SVG OUT.MD TITLE LEAKS
"""
import csv
import sys
from html import escape

PANELS = [
    # title, [(column, label)], unit, whether growth after warm-up is a leak
    ("pods", [("pods", "pods"), ("ready", "ready"), ("supervisors", "supervisors")], "", False),
    ("supervisor RSS", [("sup_rss_kb_mean", "mean"), ("sup_rss_kb_max", "max")], "kB", True),
    ("supervisor PSS (mean)", [("sup_pss_kb_mean", "supervisor"), ("infra_pss_kb_mean", "infra")], "kB", True),
    ("supervisor fds", [("sup_fds_mean", "mean"), ("sup_fds_max", "max")], "", True),
    ("supervisors' CPU", [("sup_cpu_pct", "all supervisors")], "% of a core", False),
    ("store and logs", [("store_mb", "store"), ("logs_mb", "logs")], "MB", True),
    ("host mounts", [("mounts", "mounts")], "", True),
    ("cgroups", [("cgroups", "cgroups")], "", True),
    ("links and leases", [("links", "links"), ("leases", "leases")], "", True),
    ("peapod processes", [("processes", "processes")], "", True),
]
COLORS = ["#1f77b4", "#d62728", "#2ca02c"]
W, H, PAD_L, PAD_B, PAD_T = 360, 200, 55, 30, 28


def main():
    path, svg_path, md_path, title, leaks = sys.argv[1:6]
    rows = list(csv.DictReader(open(path)))
    if not rows:
        sys.exit("soak-plot: no samples in " + path)
    xs = [float(r["minute"]) for r in rows]
    cols = 2
    nrows = (len(PANELS) + cols - 1) // cols
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * W}" height="{nrows * H + 40}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="22" font-size="15" font-weight="bold">peapod soak: {escape(title)}</text>',
    ]
    for k, (name, series, unit, _) in enumerate(PANELS):
        ox, oy = (k % cols) * W, 40 + (k // cols) * H
        ys = [[float(r[c]) for r in rows] for c, _ in series]
        top = max(max(y) for y in ys) or 1.0
        top *= 1.1
        xmax = max(xs) or 1.0
        pw, ph = W - PAD_L - 15, H - PAD_B - PAD_T

        def px(x):
            return ox + PAD_L + pw * x / xmax

        def py(y):
            return oy + PAD_T + ph * (1 - y / top)

        out.append(f'<text x="{ox + PAD_L}" y="{oy + 16}" font-weight="bold">'
                   f'{escape(name)}{" (" + escape(unit) + ")" if unit else ""}</text>')
        out.append(f'<rect x="{ox + PAD_L}" y="{oy + PAD_T}" width="{pw}" height="{ph}" '
                   'fill="none" stroke="#999"/>')
        for t in (0, 0.5, 1):
            v = top * t
            out.append(f'<text x="{ox + PAD_L - 4}" y="{py(v) + 4:.1f}" text-anchor="end">'
                       f'{v:.4g}</text>')
        for t in (0, 0.5, 1):
            out.append(f'<text x="{px(xmax * t):.1f}" y="{oy + H - 12}" text-anchor="middle">'
                       f'{xmax * t:.0f} min</text>')
        for j, ((_, label), y) in enumerate(zip(series, ys)):
            pts = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, y))
            out.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[j]}" stroke-width="1.5"/>')
            out.append(f'<text x="{ox + W - 20}" y="{oy + 16 + 12 * j}" text-anchor="end" '
                       f'fill="{COLORS[j]}">{escape(label)}</text>')
    out.append("</svg>")
    open(svg_path, "w").write("\n".join(out) + "\n")

    # after the warm-up: the first sample at or past a fifth of the run
    warm = next((i for i, x in enumerate(xs) if x >= max(xs) / 5), 0)
    md = [f"# peapod soak: {title}", "",
          f"Samples: {len(rows)}; warm-up ends at minute {xs[warm]:g}; "
          f"left behind after the final delete and gc: **{leaks}**.", "",
          "| measure | after warm-up | end | max | grew |", "|---|---|---|---|---|"]
    for name, series, unit, leak in PANELS:
        for c, label in series:
            y = [float(r[c]) for r in rows]
            a, b = y[warm], y[-1]
            grew = "-"
            if leak:
                # 5% (and one unit) of slack: pods come and go all the time
                grew = "**yes**" if b > a * 1.05 + 1 else "no"
            md.append(f"| {name}: {label}{' (' + unit + ')' if unit else ''} | {a:g} | {b:g} | "
                      f"{max(y):g} | {grew} |")
    open(md_path, "w").write("\n".join(md) + "\n")


main()
