package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchMap;
import dev.opnorm.linalg.BatchOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;

/**
 * An engine the data-dependent regularizers run on: a network on that engine's buffers, linalg's vector
 * operations of the power method and (p,q) iteration, and the regularizers' own ({@link RegOps}).
 * One implementation, {@link #placed}: a model placed on any backend's kernels (the host's, OpenCL's).
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

    /**
     * The engine of {@code model} on the host: {@link #placed} on {@link PlacedModel#host} (its layers' own
     * kernels, nothing copied) with its {@link PlacedBatchOps}; gradients go into any host {@link Grads}
     * (a {@code ParamGrads}).
     */
    static RegEngine<float[], float[], int[], Grads<float[]>> onHost(PlacedModel<float[], int[]> model) {
        return placed(model, PlacedBatchOps.of(model));
    }

    /**
     * The engine of a placed model (any backend): its linearizations as the network (tangent gradients by
     * {@link TangentGradient} on their parts), {@code batchOps} for the iterations, row norms and reads, and
     * {@link KernelRegOps} for the rest; buffers come from the model's pool.
     *
     * @throws IllegalArgumentException when model or batchOps is null, or the model is closed
     */
    public static <F, I> RegEngine<F, F, I, Grads<F>> placed(PlacedModel<F, I> model, BatchOps<F, F> batchOps) {
        if (model == null || batchOps == null) {
            throw new IllegalArgumentException("a placed regularizer engine needs a placed model and its batch operations");
        }
        model.checkOpen();
        RegNetwork<F, Grads<F>> net = (x, shape, mode) -> {
            // a placed batch is exactly its shape's size (uploads and pooled buffers are), so a length that
            // differs is a shape that is not the batch's
            if (x != null && shape != null && model.ops().length(x) != shape.size()) {
                throw new IllegalArgumentException("regularizer input of " + model.ops().length(x)
                        + " floats does not have the shape " + shape);
            }
            return linearized(model.linearize(x, shape, mode), true);
        };
        return new RegEngine<>(net, batchOps, new KernelRegOps<>(model));
    }

    /**
     * A training step's placed linearization as the engine sees it (closing the view leaves it open: the step
     * owns it), or null for null.
     *
     * @param x the batch the regularizer is called with
     * @throws IllegalArgumentException when lin is not at exactly x
     */
    public static <F> RegNetwork.Linearized<F, Grads<F>> train(PlacedLinearization<F> lin, F x) {
        if (lin == null) {
            return null;
        }
        if (lin.input() != x) {
            throw new IllegalArgumentException("the step's linearization at " + lin.inShape()
                    + " is not at the regularizer's batch " + x);
        }
        return view(lin);
    }

    /** A placed linearization as the engine sees it, or null for null; closing the view leaves it open. */
    public static <F> RegNetwork.Linearized<F, Grads<F>> view(PlacedLinearization<F> lin) {
        return lin == null ? null : linearized(lin, false);
    }

    private static <F> RegNetwork.Linearized<F, Grads<F>> linearized(PlacedLinearization<F> lin, boolean owned) {
        return new RegNetwork.Linearized<>() {
            @Override
            public BnMode mode() {
                return lin.mode();
            }

            @Override
            public F output() {
                return lin.output();
            }

            @Override
            public Shape outputShape() {
                return lin.outShape();
            }

            @Override
            public BatchMap<F> asBatchMap() {
                return lin.asBatchMap();
            }

            @Override
            public void vjpParams(F gy, Grads<F> grads) {
                lin.vjpParams(gy, grads);
            }

            @Override
            public void tangentGradient(F tangent, F cotangent, Grads<F> grads) {
                TangentGradient.accumulate(lin, tangent, cotangent, grads);
            }

            @Override
            public void close() {
                if (owned) {
                    lin.close();
                }
            }
        };
    }
}
