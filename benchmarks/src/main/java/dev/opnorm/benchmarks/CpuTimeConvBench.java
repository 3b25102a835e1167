package dev.opnorm.benchmarks;

import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;

/**
 * Single-thread conv timings by CPU time ({@link ThreadMXBean#getCurrentThreadCpuTime()}), not wall time:
 * on a shared machine another process takes wall time from us but (almost) no CPU time, so an A/B of two
 * kernel versions, or ours against PyTorch on one intra-op thread (which then runs on the calling thread),
 * stays comparable under load. Cache contention from neighbours still costs a little: take the best
 * of several repetitions and compare runs made at the same time.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp benchmarks.jar
 * dev.opnorm.benchmarks.CpuTimeConvBench [impl=vector,torch] [conv=w1.0-L2,w1.0-L4,w1.0-L6] [op=forward,vjpInput,vjpWeight] [batch=32]
 * [reps=7] [warmup=3]}. Prints one line per (shape, op, impl): best and median CPU milliseconds per call
 * and GFLOP/s of the best. For an A/B against an older commit, put that commit's {@code nn/target/classes}
 * first on the class path (the classes the harness calls are public in both).
 */
public final class CpuTimeConvBench {
    private static final ThreadMXBean BEAN = ManagementFactory.getThreadMXBean();

    private CpuTimeConvBench() {
    }

    public static void main(String[] args) {
        List<String> impls = List.of("vector");
        List<String> convs = List.of("w1.0-L2", "w1.0-L4", "w1.0-L6");
        List<String> ops = List.of("forward", "vjpInput", "vjpWeight");
        int batch = 32, reps = 7, warmup = 3;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("argument '" + a + "' is not key=value (impl, conv, op, batch, reps, warmup)");
            }
            switch (kv[0]) {
                case "impl" -> impls = Arrays.asList(kv[1].split(","));
                case "conv" -> convs = Arrays.asList(kv[1].split(","));
                case "op" -> ops = Arrays.asList(kv[1].split(","));
                case "batch" -> batch = Integer.parseInt(kv[1]);
                case "reps" -> reps = Integer.parseInt(kv[1]);
                case "warmup" -> warmup = Integer.parseInt(kv[1]);
                default -> throw new IllegalArgumentException("unknown argument '" + kv[0] + "' (impl, conv, op, batch, reps, warmup)");
            }
        }
        if (!BEAN.isCurrentThreadCpuTimeSupported()) {
            throw new IllegalStateException("this JVM cannot measure thread CPU time");
        }
        BEAN.setThreadCpuTimeEnabled(true);
        if (impls.contains("torch")) {
            Torch.setThreads(1);
        }
        System.out.printf("CPU-time conv bench: 1 thread, batch %d, best / median of %d after %d warm-up calls; "
                + "vectorBits=%s vectorRegisters=%s gemmTile=%s%n", batch, reps, warmup,
                System.getProperty("opnorm.vectorBits", "preferred"), System.getProperty("opnorm.vectorRegisters", "auto"),
                System.getProperty("opnorm.gemmTile", "auto"));
        System.out.printf("%-9s %-9s %-7s %10s %10s %9s%n", "conv", "op", "impl", "best ms", "median ms", "GFLOP/s");
        for (String label : convs) {
            Conv2dDims d = Cnn7Shapes.parse(label, batch);
            for (String op : ops) {
                for (String impl : impls) {
                    double[] ms = time(d, op, impl, reps, warmup);
                    double flops = 2.0 * d.n() * d.k() * d.c() * d.r() * d.s() * d.p() * d.q();
                    System.out.printf("%-9s %-9s %-7s %10.2f %10.2f %9.1f%n", label, op, impl, ms[0], ms[1],
                            flops / (ms[0] * 1e6));
                }
            }
        }
    }

    /** {best, median} CPU milliseconds per call of one op. */
    private static double[] time(Conv2dDims d, String op, String impl, int reps, int warmup) {
        Random rnd = new Random(1);
        float[] x = gaussian(rnd, d.inputSize()), w = gaussian(rnd, d.weightSize()), b = gaussian(rnd, d.k());
        float[] gy = gaussian(rnd, d.outputSize());
        Runnable call;
        List<AutoCloseable> owned = new ArrayList<>();
        if (impl.equals("vector")) {
            Kernels k = new VectorKernels(1);
            float[] y = new float[d.outputSize()], gx = new float[d.inputSize()], gw = new float[d.weightSize()];
            call = switch (op) {
                case "forward" -> () -> k.conv2dForward(y, x, w, b, d);
                case "vjpInput" -> () -> k.conv2dVjpInput(gx, gy, w, d);
                default -> () -> k.conv2dVjpWeight(gw, gy, x, d);
            };
        } else if (impl.equals("torch")) {
            Tensor tx = Torch.fromArray(x, d.n(), d.c(), d.h(), d.w()), tw = Torch.fromArray(w, d.k(), d.c(), d.r(), d.s());
            Tensor tb = Torch.fromArray(b, d.k()), tgy = Torch.fromArray(gy, d.n(), d.k(), d.p(), d.q());
            owned.addAll(List.of(tx, tw, tb, tgy));
            call = switch (op) {
                case "forward" -> () -> Torch.conv2dForward(tx, tw, tb, d).close();
                case "vjpInput" -> () -> Torch.conv2dVjpInput(tgy, tx, tw, d).close();
                default -> () -> Torch.conv2dVjpWeight(tgy, tx, tw, d).close();
            };
        } else {
            throw new IllegalArgumentException("impl must be vector or torch, got '" + impl + "'");
        }
        for (int i = 0; i < warmup; i++) {
            call.run();
        }
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = BEAN.getCurrentThreadCpuTime();
            call.run();
            t[i] = (BEAN.getCurrentThreadCpuTime() - t0) / 1e6;
        }
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a PyTorch tensor failed", e);
            }
        }
        Arrays.sort(t);
        return new double[] {t[0], t[reps / 2]};
    }

    private static float[] gaussian(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
