package dev.opnorm.nn.models;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.PreActBlock;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * WideResNet-depth-k for CIFAR-sized inputs (Zagoruyko & Komodakis 2016), as in the common PyTorch
 * implementation (xternalz/WideResNet-pytorch) without dropout: depth = 6n + 4;
 * conv1 3x3 (16 channels), three groups of n {@link PreActBlock}s with 16k, 32k, 64k channels
 * (strides 1, 2, 2), then BatchNorm + ReLU, global average pooling, and a linear head. WRN-28-10 is
 * the paper's large network; WRN-10-1 (n = 1) a small one for tests.
 *
 * <p>Names match that implementation's state_dict: "conv1.weight",
 * "block1.layer.0.bn1.weight", ..., "block3.layer.3.convShortcut.weight" (first block of a group),
 * "bn1.weight", "bn1.running_mean", "fc.weight", "fc.bias". The parameter-free layers are "relu",
 * "pool" and "flatten" (not in any state_dict); "flatten" is the penultimate feature vector phi^{L-1}.
 * Initialization is PyTorch's default (not that implementation's Kaiming-normal), from one seed.
 */
public final class WideResNet {
    /** The name of the layer whose output is the penultimate feature vector (64k features). */
    public static final String FEATURES = "flatten";
    /** Name of the final linear layer. */
    public static final String CLASSIFIER = "fc";

    private WideResNet() {
    }

    /** With the default kernels. */
    public static Sequential create(int depth, int widen, int inChannels, int classes, long seed) {
        return create(depth, widen, inChannels, classes, seed, Engine.kernels());
    }

    /**
     * WRN-depth-widen, initialized PyTorch-style from one {@link SplittableRandom} seeded with
     * {@code seed}.
     *
     * @throws IllegalArgumentException when depth is not 6n + 4 with n >= 1, or widen, inChannels or
     *                                  classes is not positive
     */
    public static Sequential create(int depth, int widen, int inChannels, int classes, long seed, Kernels kernels) {
        if (depth < 10 || (depth - 4) % 6 != 0) {
            throw new IllegalArgumentException("WideResNet: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...), got "
                    + depth);
        }
        if (widen <= 0 || inChannels <= 0 || classes <= 0) {
            throw new IllegalArgumentException("WideResNet: widen factor, input channels and classes must be positive, got "
                    + widen + ", " + inChannels + ", " + classes);
        }
        int n = (depth - 4) / 6;
        int[] widths = {16, 16 * widen, 32 * widen, 64 * widen};
        List<Layer> top = new ArrayList<>();
        top.add(new Conv2d("conv1", inChannels, widths[0], 3, 3, 1, 1, false, kernels));
        for (int g = 0; g < 3; g++) {
            List<Layer> blocks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int in = i == 0 ? widths[g] : widths[g + 1];
                int stride = i == 0 && g > 0 ? 2 : 1;
                blocks.add(new PreActBlock(String.valueOf(i), in, widths[g + 1], stride, kernels));
            }
            top.add(new Sequential("block" + (g + 1), new Sequential("layer", blocks)));
        }
        top.add(new BatchNorm2d("bn1", widths[3], true, kernels));
        top.add(new ReLU("relu", kernels));
        top.add(AvgPool2d.global("pool", kernels));
        top.add(new Flatten(FEATURES, kernels));
        top.add(new Linear(CLASSIFIER, widths[3], classes, true, kernels));
        Sequential net = new Sequential("wrn" + depth + "_" + widen, top);
        net.initParameters(new SplittableRandom(seed));
        return net;
    }
}
