#!/usr/bin/env python3
"""PyTorch reference for the OpenCL conv benchmark: the 7-layer CNN's conv layers, timed in fp32
with TF32 OFF (torch.backends.cuda.matmul.allow_tf32 = False,
torch.backends.cudnn.allow_tf32 = False), for exactly the ops and shapes of dev.opnorm.benchmarks.OpenClConvBench:

  forward    y  = conv2d(x, w, b)                    (at::conv2d, with bias, as ours)
  vjpInput   gx = conv^T(gy, w)                      (aten.convolution_backward, output_mask input only)
  vjpWeight  gw = gy (x) x                           (aten.convolution_backward, output_mask weight only)

GFLOP/s = 2*N*K*C*R*S*P*Q / t for all three (the count OpenClConvBench and BenchTable use). Timing: CUDA
events around GROUPS groups of CALLS calls each, after WARMUP calls; a group's mean per call is one sample,
like one JMH iteration; min and median of the samples are reported. Both cuDNN algorithm choices are
measured (torch.backends.cudnn.benchmark False = heuristics, True = autotuned); the table uses the faster.
Each op is also checked against float64 on the same inputs (||out - ref|| / ||ref||): fp32 lands near
1e-6, TF32 near 3e-4, so the check also proves TF32 was off.

--cpu (or no CUDA device): the same on the CPU with perf_counter timing, for a smoke test of this script.
--check-only: no torch needed; prints the shapes and FLOP counts and writes a JSON that says torch was
not run (what tools/gpu-run/run does with GPURUN_CPU_ONLY=1 on a machine without torch).

Usage: torch_conv.py --out torch.json [--batch 128] [--width 1.0] [--layers c3-128s32,...]
                     [--groups 5] [--calls 20] [--warmup 10] [--cpu] [--check-only]
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

# OpenClConvBench's @Param layer list: cIN-OUTsSIZE, channels before the width factor.
LAYERS = ["c3-128s32", "c128-128s32", "c128-256s16", "c256-256s16", "c256-512s8", "c512-512s8", "c512-1024s4"]
OPS = ["forward", "vjpInput", "vjpWeight"]


def java_round(v):
    """Java's Math.round (half up), which OpenClConvBench.dims uses; Python's round() is half to even."""
    return int(math.floor(v + 0.5))


def dims(layer, batch, width):
    """The conv's dims exactly as OpenClConvBench.dims computes them: 3x3, stride 1, pad 1 (0 at 4x4)."""
    io, size = layer[1:].split("s")
    cin, cout = (int(t) for t in io.split("-"))
    size = int(size)
    c = 3 if cin == 3 else java_round(cin * width)
    k = java_round(cout * width)
    if c < 1 or k < 1:
        raise ValueError(f"width {width} leaves layer {layer} without channels")
    pad = 0 if size == 4 else 1
    p = size + 2 * pad - 3 + 1
    return {"n": batch, "c": c, "h": size, "w": size, "k": k, "r": 3, "s": 3, "stride": 1, "pad": pad, "p": p, "q": p}


def flops(d):
    return 2 * d["n"] * d["k"] * d["c"] * d["r"] * d["s"] * d["p"] * d["q"]


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--layers", default=",".join(LAYERS), help="comma-separated, names as in OpenClConvBench")
    ap.add_argument("--groups", type=int, default=5, help="timed groups (samples) per op")
    ap.add_argument("--calls", type=int, default=20, help="calls per timed group")
    ap.add_argument("--warmup", type=int, default=10, help="untimed calls first")
    ap.add_argument("--cpu", action="store_true", help="run on the CPU (smoke test)")
    ap.add_argument("--check-only", action="store_true", help="no torch: shapes and FLOP counts only")
    a = ap.parse_args(argv)
    layers = [s for s in a.layers.split(",") if s]
    for layer in layers:
        if layer not in LAYERS:
            ap.error(f"unknown layer '{layer}': one of {', '.join(LAYERS)}")
    if a.batch < 1 or a.groups < 1 or a.calls < 1 or a.warmup < 0 or not a.width > 0:
        ap.error("--batch, --groups, --calls must be >= 1, --warmup >= 0, --width > 0")
    a.layers = layers
    return a


def write(path, doc, quiet=False):
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)
    if not quiet:
        print(f"torch_conv: wrote {path}")


def header(a):
    return {"tool": "tools/gpu-run/torch_conv.py", "batch": a.batch, "width": a.width,
            "groups": a.groups, "calls_per_group": a.calls, "warmup_calls": a.warmup,
            "python": platform.python_version(),
            "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}


def check_only(a):
    doc = header(a)
    doc["status"] = "not run: --check-only (no torch)"
    doc["results"] = []
    for layer in a.layers:
        d = dims(layer, a.batch, a.width)
        print(f"{layer:12s} N={d['n']} C={d['c']} K={d['k']} {d['h']}x{d['w']} pad {d['pad']}: "
              f"{flops(d) / 1e9:.3f} GFLOP per op")
    write(a.out, doc)
    return 0


def tf32_off(torch):
    """fp32 as fp32: no TF32 in cuBLAS matmuls or cuDNN convolutions. The legacy flags only: PyTorch >= 2.9
    raises when the legacy and the new (fp32_precision) APIs are mixed, and setting cudnn.allow_tf32 sets
    conv and RNN alike. The new API only where the legacy setters are gone. Returns the flags as read back
    (strings where a read fails); the float64 check of every op is the real proof."""
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    except (AttributeError, RuntimeError):
        torch.backends.cuda.matmul.fp32_precision = "ieee"
        torch.backends.cudnn.conv.fp32_precision = "ieee"
    flags = {}
    for name, get in [("matmul", lambda: torch.backends.cuda.matmul.allow_tf32),
                      ("cudnn", lambda: torch.backends.cudnn.allow_tf32),
                      ("matmul_fp32_precision", lambda: torch.backends.cuda.matmul.fp32_precision),
                      ("cudnn_conv_fp32_precision", lambda: torch.backends.cudnn.conv.fp32_precision)]:
        try:
            flags[name] = get()
        except (AttributeError, RuntimeError) as e:
            flags[name] = f"unreadable: {e}"[:120]
    return flags


def run(a):
    import torch

    cuda = torch.cuda.is_available() and not a.cpu
    dev = torch.device("cuda" if cuda else "cpu")
    tf32 = tf32_off(torch)
    aten = torch.ops.aten

    def op_fn(op, d, x, w, b, gy):
        stride, pad = [d["stride"]] * 2, [d["pad"]] * 2
        if op == "forward":
            return lambda: torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad)
        mask = [True, False, False] if op == "vjpInput" else [False, True, False]
        pick = 0 if op == "vjpInput" else 1
        return lambda: aten.convolution_backward(gy, x, w, None, stride, pad, [1, 1], False, [0, 0], 1, mask)[pick]

    def timed(fn):
        """Per-call ms of each group of calls (after the warm-up)."""
        for _ in range(a.warmup):
            fn()
        samples = []
        if cuda:
            torch.cuda.synchronize()
            for _ in range(a.groups):
                t0, t1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                t0.record()
                for _ in range(a.calls):
                    fn()
                t1.record()
                t1.synchronize()
                samples.append(t0.elapsed_time(t1) / a.calls)
        else:
            for _ in range(a.groups):
                t0 = time.perf_counter()
                for _ in range(a.calls):
                    fn()
                samples.append((time.perf_counter() - t0) * 1e3 / a.calls)
        return samples

    doc = header(a)
    doc.update({"status": "ok", "device": torch.cuda.get_device_name(dev) if cuda else "cpu: " + platform.processor(),
                "torch": torch.__version__, "cuda": torch.version.cuda if cuda else None,
                "cudnn": torch.backends.cudnn.version() if cuda else None,
                "allow_tf32": tf32,
                "cpu_threads": None if cuda else torch.get_num_threads(), "results": []})
    print(f"torch_conv: {doc['device']}, torch {doc['torch']}, CUDA {doc['cuda']}, cuDNN {doc['cudnn']}, "
          f"TF32 flags {tf32}")
    gen = torch.Generator(device="cpu").manual_seed(234)
    worst = 0.0
    for layer in a.layers:
        d = dims(layer, a.batch, a.width)
        shape_x, shape_w, shape_y = (d["n"], d["c"], d["h"], d["w"]), (d["k"], d["c"], 3, 3), (d["n"], d["k"], d["p"], d["q"])
        x64 = torch.randn(shape_x, generator=gen, dtype=torch.float64)
        w64 = torch.randn(shape_w, generator=gen, dtype=torch.float64)
        b64 = torch.randn(d["k"], generator=gen, dtype=torch.float64)
        gy64 = torch.randn(shape_y, generator=gen, dtype=torch.float64)
        f32 = [t.to(device=dev, dtype=torch.float32) for t in (x64, w64, b64, gy64)]
        # the float64 reference sees the fp32 inputs exactly (rounded once, then widened)
        r64 = [t.to(torch.float64) for t in f32]
        for op in OPS:
            try:
                got = op_fn(op, d, *f32)().to(torch.float64)
                ref = op_fn(op, d, *r64)()
                rel = (torch.linalg.vector_norm(got - ref) / torch.linalg.vector_norm(ref)).item()
                worst = max(worst, rel)
                del got, ref
            except RuntimeError as e:  # no float64 kernel for it: time it all the same, say so
                rel = None
                doc.setdefault("errors", []).append(f"{layer} {op} float64 check: {e}"[:300])
                print(f"  {layer} {op}: float64 check failed: {e}"[:300])
            for bench in (False, True):
                torch.backends.cudnn.benchmark = bench
                try:
                    ms = timed(op_fn(op, d, *f32))
                except RuntimeError as e:
                    doc.setdefault("errors", []).append(f"{layer} {op} benchmark={bench}: {e}"[:300])
                    print(f"  {layer} {op} cudnn.benchmark={bench}: FAILED {e}"[:300])
                    continue
                row = {"layer": layer, "op": op, "dims": d, "flops": flops(d), "cudnn_benchmark": bench,
                       "ms_per_call": ms, "ms_min": min(ms), "ms_median": statistics.median(ms),
                       "gflops_best": flops(d) / min(ms) / 1e6, "rel_err_vs_fp64": rel}
                doc["results"].append(row)
                print(f"  {layer:12s} {op:9s} cudnn.benchmark={str(bench):5s} {row['ms_min']:9.3f} ms (min) "
                      f"{row['ms_median']:9.3f} (median) {row['gflops_best']:9.1f} GFLOP/s  rel.err "
                      + (f"{rel:.1e}" if rel is not None else "n/a"))
        del f32, r64
        if cuda:
            torch.cuda.empty_cache()
        doc["worst_rel_err_vs_fp64"] = worst
        write(a.out, doc, quiet=True)  # after every layer: a stage cut short keeps what was measured
    doc["worst_rel_err_vs_fp64"] = worst
    if doc.get("errors"):
        doc["status"] = f"partly failed: {len(doc['errors'])} error(s), see errors"
    if worst > 1e-4:
        doc["status"] = f"ok, but the worst error vs float64 is {worst:.1e}: fp32 should be ~1e-6 (was TF32 on?)"
        print("torch_conv: WARNING " + doc["status"])
    write(a.out, doc)
    return 0


def main(argv):
    a = parse_args(argv)
    if a.check_only:
        return check_only(a)
    try:
        import torch  # noqa: F401
    except ImportError as e:
        doc = header(a)
        doc.update({"status": f"not run: {e}", "results": []})
        write(a.out, doc)
        print(f"torch_conv: no torch ({e})", file=sys.stderr)
        return 3
    return run(a)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
