package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchOps;
import dev.opnorm.linalg.HostBatchOps;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;

/**
 * An engine the data-dependent regularizers run on: a network on that engine's buffers, linalg's vector
 * operations of the power method and (p,q) iteration, and the regularizers' own ({@link RegOps}).
 * {@link #host} is the JVM (nn's layers on float arrays, the reference arithmetic); gpu-kernels supplies the
 * OpenCL one.
 *
 * @param network  forward passes, per-example Jacobians, parameter VJPs and tangent gradients
 * @param batchOps the row operations of the iterations, also the regularizers' row norms and reads
 * @param ops      the regularizers' other operations
 * @param <V>      the buffer type
 * @param <S>      the per-row scalars of {@code batchOps}
 * @param <L>      the class labels
 * @param <G>      the parameter gradients
 */
public record RegEngine<V, S, L, G>(RegNetwork<V, G> network, BatchOps<V, S> batchOps, RegOps<V, S, L> ops) {
    public RegEngine {
        if (network == null || batchOps == null || ops == null) {
            throw new IllegalArgumentException("a regularizer engine needs a network, the batch operations and the "
                    + "regularizer operations");
        }
    }

    /** The host engine of {@code model}: its linearizations on float arrays, gradients into a ParamGrads. */
    public static RegEngine<float[], double[], int[], ParamGrads> host(Layer model) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        return new RegEngine<>(HostRegOps.network(model), HostBatchOps.INSTANCE, HostRegOps.INSTANCE);
    }

    /**
     * A host linearization of {@code model} (e.g. a training step's TRAIN one) as this engine sees it, or null
     * for null; closing it does nothing.
     */
    public static RegNetwork.Linearized<float[], ParamGrads> host(Layer model, Linearization lin) {
        return lin == null ? null : HostRegOps.linearized(model, lin);
    }
}
