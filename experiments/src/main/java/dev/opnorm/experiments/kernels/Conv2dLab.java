package dev.opnorm.experiments.kernels;

import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Kernel lab (the llm.c dev/cuda pattern), not a benchmark suite and not a test: times the conv
 * kernels at the 7-layer CNN's shapes and prints GFLOP/s (2*N*K*C*R*S*P*Q / best time; the same useful
 * FLOP count for forward, input VJP and weight VJP).
 *
 * <p>Variants:
 * <ol>
 *   <li>v1: {@link ScalarKernels}, the reference loop nest (only timed on one shape: ~1 GFLOP/s);</li>
 *   <li>v2: {@link VectorKernels} on 1 thread: packed blocked SGEMM on implicit im2col;</li>
 *   <li>v3: {@link VectorKernels} on 2 threads.</li>
 * </ol>
 * Before timing, each shape is validated against the reference on a batch of 2 (max error relative to
 * the magnitude of the summed terms). The machine is shared, so each op is repeated and the best time
 * kept.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp ... dev.opnorm.experiments.kernels.Conv2dLab
 * [width=1.0] [batch=32] [reps=5] [threads=1,2] [layers=1-7]}
 */
public final class Conv2dLab {
    private Conv2dLab() {
    }

    /** The CNN's conv layers at width multiplier {@code width}: (c_in, c_out, spatial, pad), 3x3, stride 1. */
    static List<Conv2dDims> cnnShapes(int batch, double width) {
        int[][] layers = {{3, 128, 32, 1}, {128, 128, 32, 1}, {128, 256, 16, 1}, {256, 256, 16, 1}, {256, 512, 8, 1},
            {512, 512, 8, 1}, {512, 1024, 4, 0}};
        List<Conv2dDims> out = new ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            int[] l = layers[i];
            int cin = i == 0 ? 3 : Math.max(1, (int) Math.round(l[0] * width));
            int cout = Math.max(1, (int) Math.round(l[1] * width));
            out.add(new Conv2dDims(batch, cin, l[2], l[2], cout, 3, 3, 1, l[3]));
        }
        return out;
    }

    public static void main(String[] args) {
        double width = 1.0;
        int batch = 32, reps = 5, layerFrom = 1, layerTo = 7;
        int[] threadCounts = {1, 2};
        for (String a : args) {
            String[] kv = a.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("arguments are key=value, got " + a);
            }
            switch (kv[0]) {
                case "width" -> width = Double.parseDouble(kv[1]);
                case "batch" -> batch = Integer.parseInt(kv[1]);
                case "reps" -> reps = Integer.parseInt(kv[1]);
                case "threads" -> threadCounts = java.util.Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "layers" -> {
                    String[] r = kv[1].split("-");
                    layerFrom = Integer.parseInt(r[0]);
                    layerTo = Integer.parseInt(r[r.length - 1]);
                }
                default -> throw new IllegalArgumentException("unknown argument " + kv[0]);
            }
        }
        System.out.printf(Locale.ROOT, "# Conv2dLab: JDK %s, %d cores, vectors %s, width %.2f, batch %d, best of %d%n",
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                VectorKernels.vectorsEnabled(), width, batch, reps);
        List<Conv2dDims> shapes = cnnShapes(batch, width);
        System.out.printf(Locale.ROOT, "%-6s %-34s %7s | %-26s | %-26s%n", "layer", "dims", "threads",
                "wall GFLOP/s fwd/vjpIn/vjpW", "cpu-time GFLOP/s fwd/in/W");
        for (int li = layerFrom; li <= layerTo; li++) {
            Conv2dDims d = shapes.get(li - 1);
            validate(d);
            for (int t : threadCounts) {
                VectorKernels k = new VectorKernels(t);
                double[] g = time(k, d, reps);
                System.out.printf(Locale.ROOT, "%-6d %-34s %7d | %8.1f %8.1f %8.1f | %8.1f %8.1f %8.1f%n", li, shortDims(d),
                        t, g[0], g[1], g[2], g[3], g[4], g[5]);
            }
        }
        for (int t : threadCounts) {
            double[] g = timeGemm(new VectorKernels(t), 2048, 512, 4608, reps);
            System.out.printf(Locale.ROOT, "gemm 2048x512x4608 (NN) %d thread(s): wall %.1f, cpu-time %.1f GFLOP/s%n", t, g[0], g[1]);
        }
        Conv2dDims small = new Conv2dDims(2, 64, 16, 16, 64, 3, 3, 1, 1);
        double[] g = time(new ScalarKernels(), small, 1);
        System.out.printf(Locale.ROOT, "v1 scalar reference at %s: %.2f / %.2f / %.2f GFLOP/s%n", shortDims(small), g[0], g[1], g[2]);
    }

    private static String shortDims(Conv2dDims d) {
        return d.n() + "x" + d.c() + "x" + d.h() + "x" + d.w() + " -> " + d.k() + " k" + d.r() + " p" + d.pad();
    }

    /**
     * Best-of-reps GFLOP/s of forward, input VJP, weight VJP: entries 0..2 from wall time, 3..5 from CPU
     * time of all JVM threads divided by the thread count (what an unloaded machine would give if the
     * threads are balanced; the shared machine's wall times are inflated by other processes).
     */
    static double[] time(Kernels k, Conv2dDims d, int reps) {
        int threads = k instanceof VectorKernels v ? v.threads() : 1;
        Random rnd = new Random(1);
        float[] x = uniform(rnd, d.inputSize()), w = uniform(rnd, d.weightSize()), b = uniform(rnd, d.k());
        float[] y = new float[d.outputSize()], gy = uniform(rnd, d.outputSize()), gx = new float[d.inputSize()];
        float[] gw = new float[d.weightSize()];
        long[] best = new long[6];
        java.util.Arrays.fill(best, Long.MAX_VALUE);
        Runnable[] ops = {() -> k.conv2dForward(y, x, w, b, d), () -> k.conv2dVjpInput(gx, gy, w, d),
            () -> k.conv2dVjpWeight(gw, gy, x, d)};
        for (int rep = 0; rep < reps + 2; rep++) { // two warm-up rounds for the JIT
            for (int op = 0; op < 3; op++) {
                long c0 = cpuNanos(), t0 = System.nanoTime();
                ops[op].run();
                long t1 = System.nanoTime(), c1 = cpuNanos();
                if (rep >= 2 || reps == 1) {
                    best[op] = Math.min(best[op], t1 - t0);
                    best[op + 3] = Math.min(best[op + 3], (c1 - c0) / threads);
                }
            }
        }
        double[] g = new double[6];
        for (int i = 0; i < 6; i++) {
            g[i] = d.flops() / best[i];
        }
        return g;
    }

    /** Best-of-reps GFLOP/s of C = A B (row-major, no transposes): {wall, CPU time per thread}. */
    static double[] timeGemm(VectorKernels k, int m, int n, int kk, int reps) {
        Random rnd = new Random(3);
        float[] a = uniform(rnd, m * kk), b = uniform(rnd, kk * n), c = new float[m * n];
        long bestWall = Long.MAX_VALUE, bestCpu = Long.MAX_VALUE;
        for (int rep = 0; rep < reps + 2; rep++) {
            long c0 = cpuNanos(), t0 = System.nanoTime();
            k.gemm(false, false, m, n, kk, 1f, a, 0, kk, b, 0, n, 0f, c, 0, n);
            long t1 = System.nanoTime(), c1 = cpuNanos();
            if (rep >= 2) {
                bestWall = Math.min(bestWall, t1 - t0);
                bestCpu = Math.min(bestCpu, (c1 - c0) / k.threads());
            }
        }
        double flops = 2.0 * m * n * kk;
        return new double[] {flops / bestWall, flops / bestCpu};
    }

    /** CPU time of all live threads of this JVM (the kernels' pool threads included). */
    private static long cpuNanos() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : mx.getAllThreadIds()) {
            long t = mx.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    /** Compares VectorKernels (2 threads) with the reference on a batch of 2; throws if any op is off. */
    static void validate(Conv2dDims full) {
        Conv2dDims d = new Conv2dDims(2, full.c(), full.h(), full.w(), full.k(), full.r(), full.s(), full.stride(), full.pad());
        Kernels ref = new ScalarKernels(), vec = new VectorKernels(2);
        Random rnd = new Random(2);
        float[] x = uniform(rnd, d.inputSize()), w = uniform(rnd, d.weightSize()), gy = uniform(rnd, d.outputSize());
        float[] a = new float[d.outputSize()], bb = new float[d.outputSize()];
        ref.conv2dForward(a, x, w, null, d);
        vec.conv2dForward(bb, x, w, null, d);
        check("forward", a, bb, d.c() * d.r() * d.s());
        float[] ga = new float[d.inputSize()], gb = new float[d.inputSize()];
        ref.conv2dVjpInput(ga, gy, w, d);
        vec.conv2dVjpInput(gb, gy, w, d);
        check("vjpInput", ga, gb, d.k() * d.r() * d.s());
        float[] wa = new float[d.weightSize()], wb = new float[d.weightSize()];
        ref.conv2dVjpWeight(wa, gy, x, d);
        vec.conv2dVjpWeight(wb, gy, x, d);
        check("vjpWeight", wa, wb, d.n() * d.p() * d.q());
    }

    private static void check(String what, float[] want, float[] got, int terms) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        // terms are products of two uniforms in [-1, 1): magnitude about terms / 4
        if (!(worst <= 3e-5 * terms / 4 + 1e-6)) {
            throw new IllegalStateException(what + " disagrees with the reference: max error " + worst);
        }
    }

    private static float[] uniform(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = 2f * rnd.nextFloat() - 1f;
        }
        return a;
    }
}
