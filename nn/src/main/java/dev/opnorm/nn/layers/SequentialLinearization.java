package dev.opnorm.nn.layers;

import java.util.List;

/**
 * The host view of a {@link Sequential}'s linearization (the composition itself is written once, for
 * every backend, in {@code Sequential.Lin}): J = J_k ... J_1, with access to the children's
 * linearizations by name and to prefixes of the network.
 *
 * <p>{@link #upTo(String)} gives the linearization of a prefix of the network (e.g. input ->
 * penultimate features) that shares the children's residuals, so a norm of J_{phi^{L-1}} costs no
 * second forward pass.
 */
public final class SequentialLinearization extends HostLinearization {
    private final Sequential.Lin<float[]> lin;

    SequentialLinearization(Sequential.Lin<float[]> lin) {
        super(lin);
        this.lin = lin;
    }

    /** The children's short names, in order. */
    public List<String> names() {
        return lin.names;
    }

    /** The linearization of the child with this short name. */
    public Linearization part(String name) {
        return lin.parts.get(lin.index(name)).host();
    }

    /**
     * The linearization from this network's input to the output of the child at {@code path}
     * (included). A dotted path ("features.12") descends into a nested Sequential. The prefix shares
     * the residuals of this linearization (no forward pass) and has its own scratch buffers.
     *
     * @throws IllegalArgumentException when no child has that name
     */
    @Override
    public SequentialLinearization upTo(String path) {
        return (SequentialLinearization) lin.upTo(path).host();
    }
}
