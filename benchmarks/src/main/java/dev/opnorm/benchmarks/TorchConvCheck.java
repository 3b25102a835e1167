package dev.opnorm.benchmarks;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import java.util.Random;
import org.bytedeco.pytorch.Tensor;

/**
 * A one-off sanity check, not a test: runs the three conv operations in PyTorch and in
 * {@link ScalarKernels} on one small shape and prints the largest relative difference of each, plus
 * libtorch's build configuration and thread count. It shows that the PyTorch side of the benchmarks
 * computes the same thing as ours. Run: {@code ./bench check}.
 */
public final class TorchConvCheck {
    private TorchConvCheck() {
    }

    public static void main(String[] args) {
        int threads = Engine.threads();
        System.out.println("PyTorch intra-op threads: " + Torch.setThreads(threads) + " (opnorm threads " + threads + ")");
        System.out.println(Torch.describe());
        Kernels ref = new ScalarKernels();
        // one of the 7-layer CNN's shapes at width 0.25 (layer 2), batch cut to 4 for the scalar reference
        check(ref, new Conv2dDims(4, 32, 32, 32, 32, 3, 3, 1, 1));
        check(ref, new Conv2dDims(2, 5, 7, 9, 6, 3, 3, 1, 0));
    }

    private static void check(Kernels ref, Conv2dDims d) {
        Random rnd = new Random(42);
        float[] x = gaussian(rnd, d.inputSize());
        float[] w = gaussian(rnd, d.weightSize());
        float[] b = gaussian(rnd, d.k());
        float[] gy = gaussian(rnd, d.outputSize());
        Tensor tx = Torch.fromArray(x, d.n(), d.c(), d.h(), d.w());
        Tensor tw = Torch.fromArray(w, d.k(), d.c(), d.r(), d.s());
        Tensor tb = Torch.fromArray(b, d.k());
        Tensor tgy = Torch.fromArray(gy, d.n(), d.k(), d.p(), d.q());

        float[] y = new float[d.outputSize()];
        ref.conv2dForward(y, x, w, b, d);
        float[] gx = new float[d.inputSize()];
        ref.conv2dVjpInput(gx, gy, w, d);
        float[] gw = new float[d.weightSize()];
        ref.conv2dVjpWeight(gw, gy, x, d);

        System.out.println(d);
        report("forward", y, Torch.toArray(Torch.conv2dForward(tx, tw, tb, d)));
        report("vjpInput", gx, Torch.toArray(Torch.conv2dVjpInput(tgy, tx, tw, d)));
        report("vjpWeight", gw, Torch.toArray(Torch.conv2dVjpWeight(tgy, tx, tw, d)));
    }

    private static void report(String op, float[] ours, float[] theirs) {
        if (ours.length != theirs.length) {
            throw new IllegalStateException(op + ": " + ours.length + " vs " + theirs.length + " elements");
        }
        double maxAbs = 0, maxRef = 0;
        for (int i = 0; i < ours.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs((double) ours[i] - theirs[i]));
            maxRef = Math.max(maxRef, Math.abs(ours[i]));
        }
        System.out.printf("  %-9s max |scalar - torch| = %.3g, max |scalar| = %.3g, ratio %.2g%n",
                op, maxAbs, maxRef, maxAbs / maxRef);
    }

    static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }
}
