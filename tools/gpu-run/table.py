#!/usr/bin/env python3
"""Turns the JSON files of a GPU run (tools/gpu-run/run) into the Markdown for BENCHMARKS.md ("OpenCL"):

  conv    OpenClConvBench (JMH) vs torch_conv.py: ours GFLOP/s, PyTorch-CUDA GFLOP/s, ratio, and the GPU
          goal (ours >= 25% of PyTorch-CUDA fp32 with TF32 off, on every shape and op)
  net     OpenClNetworkBench: ms per step and images/s; the d.d. SNR training step against the CPU figure
          of BENCHMARKS.md's training-methods section (goal: >= 10x)
  attack  OpenClAttackBench: ms per attack (10 PGA iterations) and per iteration

Ours: the best (fastest) JMH measurement iteration (--stat min, BenchTable's default) or the median.
PyTorch: per (layer, op) the faster cuDNN choice (benchmark on / off), best or median group likewise.
Stdlib only, runs here and on the GPU machine:
  python3 tools/gpu-run/table.py conv.json net.json attack.json --torch torch.json [--log run.log]
"""
import argparse
import json
import math
import re
import statistics
import sys

GOAL_CONV = 0.25   # GPU goal: ours >= 25% of PyTorch-CUDA on the conv shapes
GOAL_DDSNR = 10.0  # GPU goal: the d.d. SNR training step >= 10x the CPU
# BENCHMARKS.md, "Training methods: cost per step": width 0.25, batch 128, 2 threads, JDK 25, vector
# kernels. The faster of the two d.d. SNR figures is the stricter reference, and it is also the
# sum-of-squares form that OpenClNetworkBench.ddSnrTrainingStep runs.
CPU_DDSNR = [
    (45.0, "sum-of-squares form, one 10-step epoch incl. warm-up and evaluation, quiet machine"),
    (24.0, "sigma^2 form, 20 warm steps, load average 4-6"),
]
LAYERS = ["c3-128s32", "c128-128s32", "c128-256s16", "c256-256s16", "c256-512s8", "c512-512s8", "c512-1024s4"]
OPS = ["forward", "vjpInput", "vjpWeight"]


def java_round(v):
    return int(math.floor(v + 0.5))


def conv_flops(layer, batch, width):
    """2*N*K*C*R*S*P*Q of OpenClConvBench.dims(layer, batch, width)."""
    io, size = layer[1:].split("s")
    cin, cout = (int(t) for t in io.split("-"))
    size = int(size)
    c = 3 if cin == 3 else java_round(cin * width)
    k = java_round(cout * width)
    pad = 0 if size == 4 else 1
    p = size + 2 * pad - 3 + 1
    return 2 * batch * k * c * 9 * p * p


def stat(values, how):
    return min(values) if how == "min" else statistics.median(values)


def jmh_ms(entry, how):
    """Best or median measurement iteration of one JMH trial, in ms per op."""
    unit = entry["primaryMetric"]["scoreUnit"]
    scale = {"ms/op": 1.0, "us/op": 1e-3, "s/op": 1e3, "ns/op": 1e-6}.get(unit)
    if scale is None:
        raise ValueError(f"{entry['benchmark']}: unit {unit} is not a time per op")
    raw = [v for fork in entry["primaryMetric"]["rawData"] for v in fork]
    return stat(raw, how) * scale


def load(paths):
    rows = []
    for p in paths:
        with open(p) as f:
            rows += json.load(f)
    return rows


def short(bench):
    cls, method = bench.rsplit(".", 2)[-2:]
    return cls, method


def fmt(v, digits=2):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}" if v >= 1 else f"{v:.3g}"


def torch_index(doc, how):
    """(layer, op, batch, width) -> (ms, cudnn.benchmark of the faster choice)."""
    best = {}
    if not doc:
        return best
    for r in doc.get("results", []):
        key = (r["layer"], r["op"], int(doc["batch"]), float(doc["width"]))
        ms = r["ms_min"] if how == "min" else r["ms_median"]
        if key not in best or ms < best[key][0]:
            best[key] = (ms, r["cudnn_benchmark"])
    return best


def conv_table(rows, torch_doc, how, out):
    conv = [r for r in rows if short(r["benchmark"])[0] == "OpenClConvBench"]
    if not conv and not torch_doc:
        return
    tix = torch_index(torch_doc, how)
    keys = {}
    for r in conv:
        p = r["params"]
        keys[(p["layer"], short(r["benchmark"])[1], int(p["batch"]), float(p["width"]))] = jmh_ms(r, how)
    for key in tix:
        keys.setdefault(key, None)
    order = sorted(keys, key=lambda k: (k[3], k[2], LAYERS.index(k[0]) if k[0] in LAYERS else 99,
                                        OPS.index(k[1]) if k[1] in OPS else 9))
    out.append("| layer | op | ours ms | ours GFLOP/s | PyTorch ms | PyTorch GFLOP/s | ours / PyTorch | >= 25% |")
    out.append("|---|---|---:|---:|---:|---:|---:|:---:|")
    met = total = 0
    worst = None
    for key in order:
        layer, op, batch, width = key
        fl = conv_flops(layer, batch, width)
        ours = keys[key]
        th = tix.get(key)
        og = fl / ours / 1e6 if ours else None
        tg = fl / th[0] / 1e6 if th else None
        ratio = og / tg if og and tg else None
        verdict = "-"
        if ratio is not None:
            total += 1
            ok = ratio >= GOAL_CONV
            met += ok
            verdict = "yes" if ok else "**no**"
            if worst is None or ratio < worst[0]:
                worst = (ratio, layer, op)
        label = f"{layer} (w {width:g}, n {batch})"
        out.append(f"| {label} | {op} | {fmt(ours)} | {fmt(og, 1)} | {fmt(th[0] if th else None)} | "
                   f"{fmt(tg, 1)} | {f'{ratio:.2f}' if ratio is not None else '-'} | {verdict} |")
    out.append("")
    if total:
        out.append(f"Goal (ours >= {GOAL_CONV:.0%} of PyTorch-CUDA fp32, TF32 off, every shape and op): "
                   f"**{'met' if met == total else 'missed'}** on {met} of {total}"
                   + (f"; lowest ratio {worst[0]:.2f} ({worst[1]} {worst[2]})." if worst else "."))
    else:
        out.append("No (ours, PyTorch) pair to compare: one side is missing.")
    out.append("")


def net_table(rows, how, out):
    net = [r for r in rows if short(r["benchmark"])[0] == "OpenClNetworkBench"]
    if not net:
        return
    out.append("| benchmark | width | batch | ms / step | images/s | note |")
    out.append("|---|---:|---:|---:|---:|---|")
    notes = []
    for r in sorted(net, key=lambda r: (short(r["benchmark"])[1], float(r["params"]["width"]))):
        method = short(r["benchmark"])[1]
        width, batch = float(r["params"]["width"]), int(r["params"]["batch"])
        ms = jmh_ms(r, how)
        ips = batch / ms * 1e3
        note = ""
        if method == "ddSnrTrainingStep" and width == 0.25 and batch == 128:
            cpu, what = CPU_DDSNR[0]
            speed = ips / cpu
            note = f"{speed:.1f}x the CPU's {cpu:g} images/s: goal >= {GOAL_DDSNR:g}x **{'met' if speed >= GOAL_DDSNR else 'missed'}**"
            notes.append(f"d.d. SNR step vs the CPU (BENCHMARKS.md, training methods, cnn7-w0.25, batch 128, 2 "
                         f"cores): {ips:.0f} images/s here; CPU {cpu:g} images/s ({what}) -> {speed:.1f}x; "
                         + "; ".join(f"CPU {c:g} images/s ({w}) -> {ips / c:.1f}x" for c, w in CPU_DDSNR[1:])
                         + ". The CPU runs used Fashion-MNIST (1x32x32 after padding), this bench 3x32x32 "
                           "inputs: only layer 1 differs.")
        out.append(f"| {method} | {width:g} | {batch} | {fmt(ms)} | {fmt(ips, 1)} | {note} |")
    out.append("")
    out += notes
    if notes:
        out.append("")


def attack_table(rows, how, out):
    att = [r for r in rows if short(r["benchmark"])[0] == "OpenClAttackBench"]
    if not att:
        return
    out.append("| attack | width | batch | ms / attack (10 iterations) | ms / PGA iteration | images/s |")
    out.append("|---|---:|---:|---:|---:|---:|")
    for r in sorted(att, key=lambda r: (float(r["params"]["width"]), r["params"]["p"])):
        width, batch, p = float(r["params"]["width"]), int(r["params"]["batch"]), r["params"]["p"]
        ms = jmh_ms(r, how)
        out.append(f"| l_{p} PGA | {width:g} | {batch} | {fmt(ms)} | {fmt(ms / 10)} | {fmt(batch / ms * 1e3, 1)} |")
    out.append("")


def opencl_device(log):
    """The device `opnorm devices` marked as used, from run.log."""
    if not log:
        return None
    try:
        with open(log, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"\[\d+\] (.+?)\s+\(used by --backend opencl\)", text)
    if not m:
        return None
    dev = m.group(1).strip()
    m2 = re.search(re.escape(m.group(0)) + r"\n\s+type (\S+), vendor ([^\n]+)\n(?:.*\n){2}\s+([^\n]+)", text)
    return dev + (f" ({m2.group(1)}, {m2.group(3).strip()})" if m2 else "")


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("jmh", nargs="*", help="JMH JSON files (OpenClConvBench, OpenClNetworkBench, OpenClAttackBench)")
    ap.add_argument("--torch", help="torch_conv.py's JSON")
    ap.add_argument("--log", help="run.log, for the OpenCL device's name")
    ap.add_argument("--stat", choices=["min", "median"], default="min")
    a = ap.parse_args(argv)
    rows = load(a.jmh)
    torch_doc = None
    if a.torch:
        with open(a.torch) as f:
            torch_doc = json.load(f)
        if not torch_doc.get("results"):
            torch_doc = None
    out = []
    jvm = next((f"JDK {r['jdkVersion']} ({r['vmName']})" for r in rows), None)
    dev = opencl_device(a.log)
    out.append(f"- OpenCL device: {dev or 'see run.log'}" + (f"; {jvm}, JMH {rows[0]['jmhVersion']}" if jvm else ""))
    if a.torch:
        with open(a.torch) as f:
            t = json.load(f)
        if t.get("results"):
            out.append(f"- PyTorch: {t['torch']} on {t['device']}, CUDA {t.get('cuda')}, cuDNN {t.get('cudnn')}, "
                       f"TF32 off (allow_tf32 matmul {t['allow_tf32'].get('matmul')}, cudnn {t['allow_tf32'].get('cudnn')}), "
                       f"worst error vs float64 {t.get('worst_rel_err_vs_fp64', float('nan')):.1e}; "
                       f"{t['groups']} groups of {t['calls_per_group']} calls after {t['warmup_calls']}, CUDA events; "
                       f"the faster of cudnn.benchmark on / off")
        else:
            out.append(f"- PyTorch: {t.get('status', 'no results')}")
    if rows:
        r = rows[0]
        out.append(f"- JMH: {r['forks']} fork, {r['warmupIterations']} x {r['warmupTime']} warm-up, "
                   f"{r['measurementIterations']} x {r['measurementTime']} measured; "
                   f"{'best' if a.stat == 'min' else 'median'} iteration (and for PyTorch {'best' if a.stat == 'min' else 'median'} group)")
    out.append("")
    conv_table(rows, torch_doc, a.stat, out)
    net_table(rows, a.stat, out)
    attack_table(rows, a.stat, out)
    print("\n".join(out).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
