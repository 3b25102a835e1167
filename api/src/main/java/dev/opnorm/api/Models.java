package dev.opnorm.api;

import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.WideResNet;

/**
 * The paper's networks, randomly initialized (PyTorch's default initialization from one seed, so one seed
 * gives the same weights on every machine), computed with the engine's default kernels
 * ({@code dev.opnorm.nn.Engine#kernels()}, the Vector API on {@code -Dopnorm.threads} threads).
 *
 * <p>Inputs are (n, channels, 32, 32) batches: Fashion-MNIST (1 channel, padded from 28 x 28) or CIFAR-10
 * (3 channels). The short forms default to 1 input channel, 10 classes and seed 0. BatchNorm starts with
 * running mean 0 and variance 1, so an untrained model in EVAL mode applies BN as the identity.
 * Every call returns a new, independent model; with the CPU kernels a model is safe to evaluate from several threads at
 * once (layers keep no per-call state), but not while it is being trained.
 */
public final class Models {
    private Models() {
    }

    /**
     * The 7-layer CNN (conv widths 128, 128, 256, 256, 512, 512, 1024 times {@code width}, BN, ReLU, max
     * pooling, linear classifier; children "features" and "classifier") for 1-channel 32 x 32 inputs, 10
     * classes, seed 0.
     *
     * @param width channel width factor (> 0; 1 = the paper's network, 1/16 = a small test network)
     * @return a new network with output shape (n, 10, 1, 1)
     * @throws IllegalArgumentException for a non-positive or infinite width
     */
    public static Sequential cnn7(double width) {
        return cnn7(width, 1, 10, 0);
    }

    /**
     * The 7-layer CNN with the given input channels, class count and initialization seed.
     *
     * @param width      channel width factor (> 0)
     * @param inChannels input channels (1 for Fashion-MNIST, 3 for CIFAR-10)
     * @param classes    number of logits
     * @param seed       initialization seed
     * @return a new network with output shape (n, classes, 1, 1)
     * @throws IllegalArgumentException for a non-positive width, channel or class count
     */
    public static Sequential cnn7(double width, int inChannels, int classes, long seed) {
        return Cnn7.create(width, inChannels, classes, seed);
    }

    /**
     * WideResNet-depth-k (pre-activation blocks; depth = 6 m + 4, e.g. 10, 16, 28) for 1-channel 32 x 32
     * inputs, 10 classes, seed 0.
     *
     * @param depth total depth 6 m + 4
     * @param k     widen factor (>= 1)
     * @return a new network with output shape (n, 10, 1, 1)
     * @throws IllegalArgumentException for a depth not of the form 6 m + 4 or k &lt; 1
     */
    public static Sequential wideResNet(int depth, int k) {
        return wideResNet(depth, k, 1, 10, 0);
    }

    /**
     * WideResNet-depth-k with the given input channels, class count and seed.
     *
     * @param depth      total depth 6 m + 4
     * @param k          widen factor (>= 1)
     * @param inChannels input channels
     * @param classes    number of logits
     * @param seed       initialization seed
     * @return a new network with output shape (n, classes, 1, 1)
     * @throws IllegalArgumentException for a bad depth, k, channel or class count
     */
    public static Sequential wideResNet(int depth, int k, int inChannels, int classes, long seed) {
        return WideResNet.create(depth, k, inChannels, classes, seed);
    }

    /**
     * A network by name, as the command line's {@code --model}: {@code cnn7}, {@code cnn7-w<width>} (e.g.
     * {@code cnn7-w0.25}) or {@code wrn-<depth>-<k>}.
     *
     * @param spec       the name (case-insensitive)
     * @param inChannels input channels
     * @param classes    number of logits
     * @param seed       initialization seed
     * @return a new network
     * @throws IllegalArgumentException for an unknown name (the message lists the accepted forms)
     */
    public static Sequential named(String spec, int inChannels, int classes, long seed) {
        return dev.opnorm.nn.models.Models.create(spec, inChannels, classes, seed);
    }
}
