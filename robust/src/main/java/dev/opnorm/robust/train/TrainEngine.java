package dev.opnorm.robust.train;

import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.ParamGrads;

/**
 * A backend a training run steps on: the network on that backend's buffers and the step's operations.
 * {@link #host} is the JVM (nn's layers on float arrays, the reference arithmetic); {@link PlacedTrainOps#engine}
 * a model placed on any backend's kernels (the OpenCL device).
 *
 * @param network forward passes, parameter VJPs and BatchNorm commits
 * @param ops     the step's and the runner's other operations
 * @param <V>     the buffer type
 * @param <L>     the class labels
 * @param <G>     the parameter gradients
 */
public record TrainEngine<V, L, G>(TrainNetwork<V, G> network, TrainOps<V, L, G> ops) {
    public TrainEngine {
        if (network == null || ops == null) {
            throw new IllegalArgumentException("a training engine needs a network and its operations");
        }
    }

    /** The host engine of {@code model}: its linearizations on float arrays, gradients into a ParamGrads. */
    public static TrainEngine<float[], int[], ParamGrads> host(Layer model) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        HostTrainOps ops = new HostTrainOps(model);
        return new TrainEngine<>(ops::linearize, ops);
    }
}
