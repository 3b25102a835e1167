"""Tests of the GPU-run tools that need neither a GPU nor torch: python3 -m unittest discover tools/gpu-run"""
import io
import json
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import table  # noqa: E402
import torch_conv  # noqa: E402


def jmh_entry(bench, params, iterations_ms, unit="ms/op"):
    return {"jmhVersion": "1.37", "benchmark": "dev.opnorm.benchmarks." + bench, "mode": "avgt", "forks": 1,
            "jdkVersion": "25.0.3", "vmName": "OpenJDK 64-Bit Server VM", "warmupIterations": 2,
            "warmupTime": "400 ms", "measurementIterations": len(iterations_ms), "measurementTime": "400 ms",
            "params": params, "primaryMetric": {"score": sum(iterations_ms) / len(iterations_ms),
                                                "scoreUnit": unit, "rawData": [iterations_ms]}}


class ShapesTest(unittest.TestCase):
    def test_dims_width1_matchOpenClGpuShapesTest(self):
        # (C, H, K, pad) of OpenClGpuShapesTest.layers(), the CNN's full-size conv layers
        want = [(3, 32, 128, 1), (128, 32, 128, 1), (128, 16, 256, 1), (256, 16, 256, 1), (256, 8, 512, 1),
                (512, 8, 512, 1), (512, 4, 1024, 0)]
        got = [(d["c"], d["h"], d["k"], d["pad"]) for d in (torch_conv.dims(l, 128, 1.0) for l in torch_conv.LAYERS)]
        self.assertEqual(want, got)
        self.assertEqual(2, torch_conv.dims("c512-1024s4", 128, 1.0)["p"])

    def test_dims_roundsHalfUp_likeJavaMathRound(self):
        # 5 * 0.5 = 2.5: Java's Math.round (OpenClConvBench.dims) gives 3, Python's round() would give 2
        self.assertEqual(3, torch_conv.dims("c5-5s8", 1, 0.5)["c"])
        self.assertEqual(2 * 1 * 3 * 3 * 9 * 8 * 8, table.conv_flops("c5-5s8", 1, 0.5))
        self.assertEqual(3, torch_conv.java_round(2.5))
        self.assertEqual(-2, torch_conv.java_round(-2.5))

    def test_flops_sameInBothTools(self):
        for layer in torch_conv.LAYERS:
            for width in (1.0, 0.25, 0.0625):
                self.assertEqual(torch_conv.flops(torch_conv.dims(layer, 32, width)),
                                 table.conv_flops(layer, 32, width), layer)
        self.assertEqual(2 * 128 * 128 * 128 * 9 * 32 * 32, table.conv_flops("c128-128s32", 128, 1.0))

    def test_dims_noChannelsLeft_throws(self):
        with self.assertRaises(ValueError):
            torch_conv.dims("c128-128s32", 2, 0.001)

    def test_checkOnly_writesJsonWithoutTorch(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "t.json")
            with redirect_stdout(io.StringIO()):
                self.assertEqual(0, torch_conv.main(["--check-only", "--out", out, "--batch", "2"]))
            with open(out) as f:
                doc = json.load(f)
            self.assertEqual([], doc["results"])
            self.assertIn("not run", doc["status"])

    def test_args_unknownLayer_rejected(self):
        with redirect_stdout(io.StringIO()), self.assertRaises(SystemExit):
            torch_conv.parse_args(["--out", "x", "--layers", "c3-64s32"])


class TableTest(unittest.TestCase):
    def render(self, rows, torch_doc=None, *extra):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            if rows:
                paths.append(os.path.join(d, "jmh.json"))
                with open(paths[0], "w") as f:
                    json.dump(rows, f)
            args = paths + list(extra)
            if torch_doc is not None:
                tp = os.path.join(d, "torch.json")
                with open(tp, "w") as f:
                    json.dump(torch_doc, f)
                args += ["--torch", tp]
            buf = io.StringIO()
            with redirect_stdout(buf):
                self.assertEqual(0, table.main(args))
            return buf.getvalue()

    def torch_doc(self, rows):
        return {"batch": 128, "width": 1.0, "torch": "2.11.0", "device": "NVIDIA H100", "cuda": "13.0",
                "cudnn": 91000, "allow_tf32": {"matmul": False, "cudnn": False}, "worst_rel_err_vs_fp64": 1e-6,
                "groups": 5, "calls_per_group": 20, "warmup_calls": 10, "results": rows}

    def test_conv_ratioAndGoal_fromBestIterationAndFasterCudnnChoice(self):
        p = {"layer": "c128-128s32", "batch": "128", "width": "1.0"}
        rows = [jmh_entry("OpenClConvBench.forward", p, [12.0, 10.0, 11.0]),
                jmh_entry("OpenClConvBench.vjpInput", p, [50.0, 60.0])]
        fl = table.conv_flops("c128-128s32", 128, 1.0)
        t = self.torch_doc([
            {"layer": "c128-128s32", "op": "forward", "cudnn_benchmark": False, "ms_min": 3.0, "ms_median": 3.1},
            {"layer": "c128-128s32", "op": "forward", "cudnn_benchmark": True, "ms_min": 2.0, "ms_median": 2.2},
            {"layer": "c128-128s32", "op": "vjpInput", "cudnn_benchmark": True, "ms_min": 5.0, "ms_median": 5.0}])
        md = self.render(rows, t)
        # forward: ours 10 ms vs PyTorch 2 ms -> 0.20, under the goal; input VJP: 50 vs 5 -> 0.10
        self.assertIn(f"| c128-128s32 (w 1, n 128) | forward | 10.00 | {fl / 10 / 1e6:.0f} | 2.00 | "
                      f"{fl / 2 / 1e6:.0f} | 0.20 | **no** |", md)
        self.assertIn("| vjpInput | 50.00 |", md)
        self.assertIn("**missed** on 0 of 2; lowest ratio 0.10 (c128-128s32 vjpInput)", md)

    def test_conv_goalMet_whenEveryRatioAtLeastQuarter(self):
        p = {"layer": "c3-128s32", "batch": "128", "width": "1.0"}
        t = self.torch_doc([{"layer": "c3-128s32", "op": "forward", "cudnn_benchmark": False, "ms_min": 1.0,
                             "ms_median": 1.0}])
        md = self.render([jmh_entry("OpenClConvBench.forward", p, [4.0])], t)
        self.assertIn("| 0.25 | yes |", md)
        self.assertIn("**met** on 1 of 1", md)

    def test_conv_medianStat_usesMedianIteration(self):
        p = {"layer": "c3-128s32", "batch": "128", "width": "1.0"}
        md = self.render([jmh_entry("OpenClConvBench.forward", p, [1.0, 3.0, 9.0])], None, "--stat", "median")
        self.assertIn("| forward | 3.00 |", md)

    def test_units_convertedToMs(self):
        e = jmh_entry("OpenClConvBench.forward", {}, [1500.0], unit="us/op")
        self.assertAlmostEqual(1.5, table.jmh_ms(e, "min"))
        with self.assertRaises(ValueError):
            table.jmh_ms(jmh_entry("X.y", {}, [1.0], unit="ops/ms"), "min")

    def test_net_ddSnrStep_comparedWithCpuFigure(self):
        p = {"width": "0.25", "batch": "128"}
        cpu = table.CPU_DDSNR[0][0]
        ms_for_12x = 128 / (12 * cpu) * 1e3
        md = self.render([jmh_entry("OpenClNetworkBench.ddSnrTrainingStep", p, [ms_for_12x]),
                          jmh_entry("OpenClNetworkBench.trainingStep", p, [10.0])])
        self.assertIn("12.0x the CPU's", md)
        self.assertIn("goal >= 10x **met**", md)
        self.assertIn("| trainingStep | 0.25 | 128 | 10.00 | 12800 |", md)

    def test_attack_perIteration_isTenth(self):
        md = self.render([jmh_entry("OpenClAttackBench.pgaAttack", {"width": "1.0", "batch": "128", "p": "inf"},
                                    [200.0])])
        self.assertIn("| l_inf PGA | 1 | 128 | 200 | 20.00 | 640 |", md)

    def test_log_namesOpenClDevice(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "run.log")
            with open(log, "w") as f:
                f.write("Platform: NVIDIA CUDA\n  [0] NVIDIA H100 80GB HBM3   (used by --backend opencl)\n"
                        "      type GPU, vendor NVIDIA Corporation\n      compute units 132\n"
                        "      max work-group size 1024, fp64 yes\n      OpenCL 3.0 CUDA, OpenCL C 1.2, driver 580\n")
            self.assertEqual("NVIDIA H100 80GB HBM3 (GPU, OpenCL 3.0 CUDA, OpenCL C 1.2, driver 580)",
                             table.opencl_device(log))


if __name__ == "__main__":
    unittest.main()
