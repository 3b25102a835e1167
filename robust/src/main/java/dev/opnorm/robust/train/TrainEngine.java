package dev.opnorm.robust.train;

/**
 * A backend a training run steps on: the network on that backend's buffers and the step's operations
 * ({@link PlacedTrainOps#engine}: a model placed on any backend's kernels, the host's or the OpenCL device's).
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

}
