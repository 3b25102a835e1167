package dev.opnorm.nn.layers;

import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Ops;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Placed copies of host networks kept between calls, and linalg's batched iterations on them. {@link #model}
 * caches one {@link PlacedModel} per host network and backend (both by identity), so repeated calls upload
 * the parameters only once; after changing the host parameters call {@code model(ops, net).uploadParameters()}.
 * A cached model (and its network and backend memory) stays alive until {@link #release}.
 */
public final class PlacedModels {
    private static final Map<Layer, Map<Ops<?, ?>, PlacedModel<?, ?>>> CACHE = new IdentityHashMap<>();

    private PlacedModels() {
    }

    /** The cached copy of {@code net} on {@code ops} (created and uploaded on first use). */
    @SuppressWarnings("unchecked")
    public static synchronized <F, I> PlacedModel<F, I> model(Ops<F, I> ops, Layer net) {
        if (ops == null || net == null) {
            throw new IllegalArgumentException("a placed model needs a backend's ops and a network");
        }
        Map<Ops<?, ?>, PlacedModel<?, ?>> byOps = CACHE.computeIfAbsent(net, k -> new IdentityHashMap<>());
        // the entry for ops was made by this method with the same ops, so its buffers are F and I
        return (PlacedModel<F, I>) byOps.computeIfAbsent(ops, o -> new PlacedModel<>(ops, net));
    }

    /** Closes and forgets the cached copies of {@code net} (all backends); no-op when none. */
    public static synchronized void release(Layer net) {
        Map<Ops<?, ?>, PlacedModel<?, ?>> byOps = CACHE.remove(net);
        if (byOps != null) {
            byOps.values().forEach(PlacedModel::close);
        }
    }

    /**
     * Per-example sigma_max (the (2,2) operator norm) of the input-output Jacobian of {@code m}'s network at
     * each example of {@code x}, BatchNorm in EVAL mode, on {@code m}'s backend: linalg's
     * {@code PowerMethod.sigmaMax} on {@link PlacedLinearization#asBatchMap()} and {@link PlacedBatchOps#of},
     * so the same start vectors and stopping rule as on the host. x and the start vectors are uploaded once,
     * each iteration downloads one float per example. The result holds no backend buffers (no vectors kept).
     *
     * @param start the start vectors (not modified), or null for Gaussian ones
     * @throws IllegalArgumentException when the network has an unsupported layer or x does not fit it
     */
    public static <F, I> PowerMethod.BatchResult<F> sigmaMax(PlacedModel<F, I> m, Tensor x,
            PowerMethod.Options options, float[] start) {
        try (PlacedLinearization<F> lin = m.linearize(x, BnMode.EVAL)) {
            return PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(m), options, start, false);
        }
    }

    /**
     * Per-example (p,q) operator norms (lower bounds) of the input-output Jacobian of {@code m}'s network at
     * each example of {@code x}, BatchNorm in EVAL mode, on {@code m}'s backend: linalg's
     * {@code OperatorNorm.estimate} on {@link PlacedLinearization#asBatchMap()} and {@link PlacedBatchOps#of}
     * (OperatorNorm's start vectors, stopping rule and restarts; a finite alpha for p = 1, 2, inf). x is
     * uploaded once. The caller closes the result (its maximizers v stay on the backend until then).
     *
     * @param start the first run's start vectors (batch * perExample, not modified), or null for
     *              OperatorNorm's Gaussian starts
     * @throws IllegalArgumentException for an unsupported layer, an x that does not fit, bad exponents or
     *                                  a finite alpha with p other than 1, 2, inf
     */
    public static <F, I> OperatorNorm.BatchResult<F> operatorNorm(PlacedModel<F, I> m, Tensor x, double p, double q,
            OperatorNorm.Options options, float[] start) {
        try (PlacedLinearization<F> lin = m.linearize(x, BnMode.EVAL)) {
            return OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(m), p, q, options, start, false);
        }
    }
}
