package dev.opnorm.nn.layers;

import dev.opnorm.nn.Tensor;

import java.util.List;

/** Helpers for network-level tests. */
public final class TestNets {
    private TestNets() {
    }

    /**
     * Moves the BatchNorm running statistics of {@code net} towards the batch statistics at x (steps
     * TRAIN-mode commits), as training would: in EVAL mode a freshly initialized network (running mean 0,
     * variance 1) shrinks its activations layer by layer, which is not the regime the norms are computed in.
     */
    public static void calibrateBatchNorm(Layer net, Tensor x, int steps) {
        BatchNorm2d.calibrate(net, x, steps);
    }

    /** Copies the values of every buffer of {@code from} into the same-named buffer of {@code to}. */
    public static void copyBuffers(Layer from, Layer to) {
        List<Param> a = from.buffers(), b = to.buffers();
        if (a.size() != b.size()) {
            throw new IllegalArgumentException("different networks: " + a.size() + " vs " + b.size() + " buffers");
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).name().equals(b.get(i).name())) {
                throw new IllegalArgumentException("buffer " + a.get(i).name() + " vs " + b.get(i).name());
            }
            System.arraycopy(a.get(i).value, 0, b.get(i).value, 0, a.get(i).size());
        }
    }
}
