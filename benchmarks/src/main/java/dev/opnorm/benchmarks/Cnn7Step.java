package dev.opnorm.benchmarks;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.models.Cnn7;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One training step of our 7-layer CNN ({@link Cnn7}) on a fixed batch, without the optimizer
 * update: linearize with BatchNorm in TRAIN mode, mean softmax cross-entropy and its gradient, one
 * backward sweep to all parameter gradients (the input gradient is skipped, as PyTorch's autograd
 * skips it for an input that does not require grad), then fold the batch statistics into the running
 * statistics. {@link #torchTwin()} builds the same network with the same parameters and data in
 * PyTorch.
 */
final class Cnn7Step {
    static final int CLASSES = 10;

    private final double width;
    private final Sequential net;
    private final Tensor x;                          // (N, 3, 32, 32)
    private final int[] labels;                      // (N)
    private final float[] gLogits;                   // (N * 10) dLoss/dlogits
    private final ParamGrads grads = new ParamGrads();

    /** The network (initialised from {@code seed} as {@link Cnn7#create}) on uniform [-1, 1] images with random labels. */
    Cnn7Step(double width, int batch, long seed, Kernels kernels) {
        this.width = width;
        net = Cnn7.create(width, 3, CLASSES, seed, kernels);
        Random rnd = new Random(seed);
        float[] images = new float[batch * 3 * Cnn7.SIZE * Cnn7.SIZE];
        for (int i = 0; i < images.length; i++) {
            images[i] = 2 * rnd.nextFloat() - 1;   // inputs scaled to [-1, 1], as in the paper's code
        }
        x = new Tensor(new Shape(batch, 3, Cnn7.SIZE, Cnn7.SIZE), images);
        labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = rnd.nextInt(CLASSES);
        }
        gLogits = new float[batch * CLASSES];
    }

    /** Zeroes the gradients, runs forward and backward; returns the mean loss. */
    double step() {
        grads.zero();
        Linearization lin = net.linearize(x, BnMode.TRAIN);
        double loss = SoftmaxCrossEntropy.lossAndGradient(lin.output(), labels, gLogits);
        lin.vjpAll(gLogits, null, grads);
        lin.commit();
        return loss;
    }

    /** The parameters, in {@link TorchCnn7}'s order (conv weight, conv bias per layer, then the linear layer). */
    List<Param> params() {
        return net.params();
    }

    /** The gradient of parameter p after {@link #step()}. */
    float[] grad(Param p) {
        return grads.of(p);
    }

    /** The same network, parameters (as they are now) and batch in PyTorch. */
    TorchCnn7 torchTwin() {
        List<float[]> values = new ArrayList<>();
        for (Param p : net.params()) {
            values.add(p.value);
        }
        return new TorchCnn7(width, values, x.data, labels);
    }
}
