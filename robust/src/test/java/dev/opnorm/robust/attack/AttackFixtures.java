package dev.opnorm.robust.attack;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.SplittableRandom;

/** Small networks and inputs for the attack tests. */
final class AttackFixtures {
    private AttackFixtures() {
    }

    static final Kernels KERNELS = new VectorKernels(1);

    /** Flatten-Linear-ReLU-Linear-ReLU-Linear on (n, 1, 4, 4) inputs, 10 classes, PyTorch init from seed. */
    static Sequential mlp(long seed, Kernels k) {
        Sequential net = new Sequential("mlp", new Flatten("0", k), new Linear("1", 16, 32, true, k),
                new ReLU("2", k), new Linear("3", 32, 32, true, k), new ReLU("4", k), new Linear("5", 32, 10, true, k));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    static Sequential mlp(long seed) {
        return mlp(seed, KERNELS);
    }

    /** n inputs (n, 1, 4, 4) uniform in [-1, 1]; a few pixels exactly on the domain's edges, to exercise clamping. */
    static Tensor inputs(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(new Shape(n, 1, 4, 4));
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * r.nextDouble() - 1);
        }
        for (int i = 0; i < n; i++) {
            x.data[i * 16] = 1f;
            x.data[i * 16 + 5] = -1f;
        }
        return x;
    }

    static int[] labels(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(10);
        }
        return y;
    }
}
