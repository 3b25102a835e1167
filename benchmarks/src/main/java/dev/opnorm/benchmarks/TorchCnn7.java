package dev.opnorm.benchmarks;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The paper's 7-layer CNN built in PyTorch from functional ops, with autograd doing the backward
 * pass: seven times [conv3x3 (+bias) -> BatchNorm (batch statistics, no affine, running stats
 * updated) -> ReLU], a 2x2 max pool after convs 2, 4, 6 and 7, then Linear(channels, 10) and mean
 * cross-entropy. {@link #step()} is one training step without the optimizer update: forward, loss,
 * backward to every parameter's gradient (fresh gradients each step, as PyTorch's default
 * {@code zero_grad(set_to_none=True)}). Parameters and data are fixed at construction.
 */
final class TorchCnn7 implements AutoCloseable {
    static final int CLASSES = 10;
    private static final double BN_MOMENTUM = 0.1;
    private static final double BN_EPS = 1e-5;
    private static final long[] ONE = {1, 1};
    private static final long[] POOL = {2, 2};
    private static final long[] ZERO = {0, 0};

    private final List<Tensor> convW = new ArrayList<>();     // (K, C, 3, 3) per layer
    private final List<Tensor> convB = new ArrayList<>();     // (K)
    private final List<Tensor> runMean = new ArrayList<>();   // (K), BN running statistics
    private final List<Tensor> runVar = new ArrayList<>();    // (K)
    private final Tensor fcW;                                 // (10, F)
    private final Tensor fcB;                                 // (10)
    private final Tensor x;                                   // (N, 3, 32, 32)
    private final Tensor labels;                              // (N), int64 class indices
    private final List<Tensor> params = new ArrayList<>();

    /**
     * The network with the given parameter values, in the order conv1 weight (K, C, 3, 3), conv1 bias
     * (K), ..., conv7 bias, linear weight (10, F), linear bias (10) - the order of our Cnn7's
     * params() - and a fixed batch of images (N, 3, 32, 32) with labels (N) in 0..9. Values are copied.
     */
    TorchCnn7(double width, List<float[]> values, float[] images, int[] labels) {
        if (values.size() != 2 * Cnn7Shapes.LAYERS + 2) {
            throw new IllegalArgumentException("the 7-layer CNN has " + (2 * Cnn7Shapes.LAYERS + 2)
                    + " parameter tensors, got " + values.size());
        }
        int batch = labels.length;
        for (int layer = 1; layer <= Cnn7Shapes.LAYERS; layer++) {
            int c = Cnn7Shapes.channels(width, layer), k = Cnn7Shapes.channels(width, layer + 1);
            convW.add(param(values.get(2 * layer - 2), k, c, 3, 3));
            convB.add(param(values.get(2 * layer - 1), k));
            runMean.add(Torch.fromArray(new float[k], k));
            float[] ones = new float[k];
            java.util.Arrays.fill(ones, 1f);
            runVar.add(Torch.fromArray(ones, k));
        }
        int features = Cnn7Shapes.channels(width, Cnn7Shapes.LAYERS + 1);
        fcW = param(values.get(2 * Cnn7Shapes.LAYERS), CLASSES, features);
        fcB = param(values.get(2 * Cnn7Shapes.LAYERS + 1), CLASSES);
        x = Torch.fromArray(images, batch, 3, 32, 32);
        long[] y = new long[batch];
        for (int i = 0; i < batch; i++) {
            if (labels[i] < 0 || labels[i] >= CLASSES) {
                throw new IllegalArgumentException("label " + labels[i] + " at " + i + " is not in 0.." + (CLASSES - 1));
            }
            y[i] = labels[i];
        }
        try (LongPointer p = new LongPointer(y); TensorOptions int64 = new TensorOptions(torch.ScalarType.Long)) {
            Tensor view = torch.from_blob(p, new long[] {batch}, int64);
            this.labels = view.clone();
            view.close();
        }
    }

    /** One forward + backward pass; returns the loss. Every temporary tensor is freed before returning. */
    float step() {
        try (PointerScope scope = new PointerScope()) {
            for (Tensor p : params) {
                p.mutable_grad().reset();
            }
            Tensor h = x;
            for (int i = 0; i < Cnn7Shapes.LAYERS; i++) {
                int pad = Cnn7Shapes.conv(1.0, i + 1, 1).pad();
                h = torch.conv2d(h, convW.get(i), new TensorOptional(convB.get(i)), ONE, new long[] {pad, pad}, ONE, 1);
                h = torch.batch_norm(h, new TensorOptional(), new TensorOptional(), new TensorOptional(runMean.get(i)),
                        new TensorOptional(runVar.get(i)), true, BN_MOMENTUM, BN_EPS, false);
                h = torch.relu(h);
                if (Cnn7Shapes.poolAfter(i + 1)) {
                    h = torch.max_pool2d(h, POOL, POOL, ZERO, ONE, false);
                }
            }
            Tensor logits = torch.linear(torch.flatten(h, 1, -1), fcW, new TensorOptional(fcB));
            Tensor loss = torch.cross_entropy_loss(logits, labels);
            loss.backward();
            return loss.item_float();
        }
    }

    /** The gradient of parameter {@code i} (the constructor's order) after {@link #step()}. */
    float[] grad(int i) {
        return Torch.toArray(params.get(i).grad());
    }

    /** The number of parameter tensors. */
    int paramCount() {
        return params.size();
    }

    @Override
    public void close() {
        for (List<Tensor> l : List.of(convW, convB, runMean, runVar)) {
            l.forEach(Tensor::close);
        }
        fcW.close();
        fcB.close();
        x.close();
        labels.close();
    }

    private Tensor param(float[] values, long... shape) {
        Tensor t = Torch.fromArray(values, shape);
        t.set_requires_grad(true);
        params.add(t);
        return t;
    }
}
