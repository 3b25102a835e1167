package dev.opnorm.nn.models;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The paper's 7-layer CNN (the authors' code, see docs/paper-notes.md) for 32x32 inputs:
 * conv3x3 widths 128, 128, M, 256, 256, M, 512, 512, M, 1024 (padding 0), M, then Linear(1024, classes).
 * Every conv has a bias and is followed by BatchNorm (no affine) and ReLU; M = 2x2 max pooling.
 * Spatial size 32 -> 16 -> 8 -> 4 -> 2 -> 1: inputs must be 32x32 (pad Fashion-MNIST's 28x28); another
 * size fails in the first layer that cannot take it, with that layer's name and the shape.
 *
 * <p>Structure (names are PyTorch state_dict prefixes): a root Sequential with two children,
 * "features" (a Sequential "0", "1", ... of conv, bn, relu, pool, ending with a flatten of the 1x1 map,
 * i.e. phi^{L-1}, the penultimate features) and "classifier" (the Linear layer). Parameters are
 * "features.0.weight", "features.0.bias", ..., "classifier.weight", "classifier.bias"; the BN
 * buffers "features.1.running_mean" etc. The equivalent PyTorch module is
 * {@code nn.Sequential(OrderedDict(features=nn.Sequential(conv, bn, relu, ..., nn.Flatten()),
 * classifier=nn.Linear(1024, 10)))}.
 *
 * <p>The width factor scales every channel count (rounded, at least 1): width 1/16 gives
 * 8, 8, 16, 16, 32, 32, 64 and a 64-feature classifier.
 */
public final class Cnn7 {
    /** Name of the feature extractor (input -> phi^{L-1}). */
    public static final String FEATURES = "features";
    /** Name of the final linear layer. */
    public static final String CLASSIFIER = "classifier";
    /** Input height and width. */
    public static final int SIZE = 32;

    static final int[] WIDTHS = {128, 128, 256, 256, 512, 512, 1024};

    private Cnn7() {
    }

    /** The network with the default kernels, initialized from {@code seed}. */
    public static Sequential create(double widthFactor, int inChannels, int classes, long seed) {
        return create(widthFactor, inChannels, classes, seed, Engine.kernels());
    }

    /**
     * The network computed with {@code kernels}, its parameters initialized PyTorch-style from one
     * {@link SplittableRandom} seeded with {@code seed}, in parameter order.
     *
     * @throws IllegalArgumentException for a non-positive width factor, channel or class count
     */
    public static Sequential create(double widthFactor, int inChannels, int classes, long seed, Kernels kernels) {
        if (!(widthFactor > 0) || Double.isInfinite(widthFactor)) {
            throw new IllegalArgumentException("Cnn7: width factor must be positive and finite, got " + widthFactor);
        }
        if (inChannels <= 0 || classes <= 0) {
            throw new IllegalArgumentException("Cnn7: input channels and classes must be positive, got "
                    + inChannels + " and " + classes);
        }
        List<Layer> f = new ArrayList<>();
        int c = inChannels;
        for (int i = 0; i < WIDTHS.length; i++) {
            int k = width(WIDTHS[i], widthFactor);
            int pad = i == WIDTHS.length - 1 ? 0 : 1;
            f.add(new Conv2d(String.valueOf(f.size()), c, k, 3, 3, 1, pad, true, kernels));
            f.add(new BatchNorm2d(String.valueOf(f.size()), k, false, kernels));
            f.add(new ReLU(String.valueOf(f.size()), kernels));
            if (i % 2 == 1 || i == WIDTHS.length - 1) {
                f.add(new MaxPool2d(String.valueOf(f.size()), 2, 2, 0, kernels));
            }
            c = k;
        }
        f.add(new Flatten(String.valueOf(f.size()), kernels));
        Sequential net = new Sequential("cnn7", new Sequential(FEATURES, f),
                new Linear(CLASSIFIER, c, classes, true, kernels));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    /** Channel count c scaled by the width factor, rounded, at least 1. */
    public static int width(int c, double widthFactor) {
        return Math.max(1, (int) Math.round(c * widthFactor));
    }
}
