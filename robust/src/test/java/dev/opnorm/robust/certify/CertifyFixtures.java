package dev.opnorm.robust.certify;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.PreActBlock;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.SplittableRandom;

/** Small random networks for the certification tests. */
final class CertifyFixtures {
    private CertifyFixtures() {
    }

    static final Kernels K = new VectorKernels(1);

    /** Input shape of {@link #convNet}: one 6 x 6 channel. */
    static final Shape CONV_IN = new Shape(1, 1, 6, 6);

    /**
     * conv(1->3, 3x3, pad 1) - BN(affine, random running statistics) - ReLU - maxpool 2 - conv(3->4, 3x3,
     * pad 1) - ReLU - avgpool 1x1 windows of 3 (stride 1) - flatten - linear(16->6) - ReLU - linear(6->4).
     */
    static Sequential convNet(long seed) {
        Sequential net = new Sequential("net",
                new Conv2d("0", 1, 3, 3, 3, 1, 1, true, K), new BatchNorm2d("1", 3, true, K), new ReLU("2", K),
                new MaxPool2d("3", 2, 2, 0, K), new Conv2d("4", 3, 4, 3, 3, 1, 1, true, K), new ReLU("5", K),
                new AvgPool2d("6", 2, 1, 0, K), new Flatten("7", K), new Linear("8", 16, 6, true, K), new ReLU("9", K),
                new Linear("10", 6, 4, true, K));
        randomize(net, seed);
        return net;
    }

    /** Input shape of {@link #cnnNet}: one 12 x 12 channel. */
    static final Shape CNN_IN = new Shape(1, 1, 12, 12);

    /**
     * The 7-layer CNN's pattern, small: (conv 3x3 pad 1 - BN - ReLU) x 2 (1->3->4) - maxpool 2 - conv(4->4,
     * 3x3, pad 1) - BN - ReLU - maxpool 2 - conv(4->5, 3x3, pad 0) - ReLU - flatten - linear(5->4): rows
     * pulled back from its units stay inside windows smaller than the layers.
     */
    static Sequential cnnNet(long seed) {
        Sequential net = new Sequential("cnn",
                new Conv2d("0", 1, 3, 3, 3, 1, 1, true, K), new BatchNorm2d("1", 3, true, K), new ReLU("2", K),
                new Conv2d("3", 3, 4, 3, 3, 1, 1, true, K), new BatchNorm2d("4", 4, true, K), new ReLU("5", K),
                new MaxPool2d("6", 2, 2, 0, K), new Conv2d("7", 4, 4, 3, 3, 1, 1, true, K),
                new BatchNorm2d("8", 4, true, K), new ReLU("9", K), new MaxPool2d("10", 2, 2, 0, K),
                new Conv2d("11", 4, 5, 3, 3, 1, 0, true, K), new ReLU("12", K), new Flatten("13", K),
                new Linear("14", 5, 4, true, K));
        randomize(net, seed);
        return net;
    }

    /** Input shape of {@link #blockNet}: two 4 x 4 channels. */
    static final Shape BLOCK_IN = new Shape(1, 2, 4, 4);

    /** A residual network: PreActBlock(2->3, stride 2) - PreActBlock(3->3) - global avgpool - linear(3->3). */
    static Sequential blockNet(long seed) {
        Sequential net = new Sequential("res", new PreActBlock("0", 2, 3, 2, K), new PreActBlock("1", 3, 3, 1, K),
                AvgPool2d.global("2", K), new Flatten("3", K), new Linear("4", 3, 3, true, K));
        randomize(net, seed);
        return net;
    }

    /** Linear(2->h) - ReLU - Linear(h->k) on 2-D inputs (shape (1, 2, 1, 1)). */
    static Sequential plane(int h, int k, long seed) {
        Sequential net = new Sequential("plane", new Linear("0", 2, h, true, K), new ReLU("1", K),
                new Linear("2", h, k, true, K));
        randomize(net, seed);
        return net;
    }

    /** PyTorch initialization, then BatchNorm running statistics and affine parameters made random. */
    static void randomize(Layer net, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        net.initParameters(r);
        net.buffers().forEach(b -> {
            for (int i = 0; i < b.value.length; i++) {
                b.value[i] = b.name().endsWith("running_var") ? (float) (0.2 + r.nextDouble()) : (float) (0.3 * r.nextGaussian());
            }
        });
        net.params().forEach(prm -> {
            if (prm.value.length > 0 && prm.name().matches("(.*\\.)?(1|bn1|bn2)\\.(weight|bias)")) {
                for (int i = 0; i < prm.value.length; i++) {
                    prm.value[i] = (float) (prm.name().endsWith("weight") ? 0.5 + r.nextDouble() : 0.2 * r.nextGaussian());
                }
            }
        });
    }

    static float[] point(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (2 * r.nextDouble() - 1);
        }
        return x;
    }
}
