package dev.opnorm.api;

import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import org.ejml.data.DMatrixRMaj;

/**
 * Dense Jacobians of a network at one example, for spectra and other small-network analyses:
 *
 * <pre>{@code
 * Jacobian j = Jacobians.of(model, x, 0);          // d logits / d input at example 0, BatchNorm EVAL
 * double[] s = j.spectrum().singularValues();      // descending, via EJML
 * }</pre>
 *
 * <p>Cost: min(inDim, outDim) Jacobian-vector products, batched. In EVAL mode the example is replicated into a
 * batch of up to {@value #REPLICAS} copies so every pass pushes that many basis vectors (GEMM-sized work);
 * in TRAIN mode the other examples of x are held fixed (the diagonal block of the coupled Jacobian) and
 * each basis vector costs one batch pass. A dense matrix has outDim * inDim doubles: the logits Jacobian of
 * a 1 x 32 x 32 input is 10 x 1024, a penultimate-feature Jacobian of the full-width 7-layer CNN on 3 x 32 x 32
 * inputs is 1024 x 3072 (25 MB). Stateless and thread safe, with the caveat of {@link OperatorNorms}: do not
 * change the model's parameters while it runs.
 */
public final class Jacobians {
    /** Maximum batch of basis vectors per pass in EVAL mode. */
    public static final int REPLICAS = 32;

    private Jacobians() {
    }

    /**
     * The logits Jacobian of {@code model} at example {@code example} of {@code x}, BatchNorm EVAL.
     *
     * @param model   the network
     * @param x       (n, c, h, w) inputs
     * @param example index into x's batch
     * @return the classes x (c*h*w) Jacobian
     * @throws IllegalArgumentException as {@link #of(Layer, Tensor, int, Target, BnMode)}
     */
    public static Jacobian of(Layer model, Tensor x, int example) {
        return of(model, x, example, Target.logits(), BnMode.EVAL);
    }

    /**
     * The Jacobian d target(x)_example / d x_example as a dense outDim x inDim matrix (row-major, double),
     * inDim = c*h*w of x, outDim = the target's per-example output size.
     *
     * @param model   the network
     * @param x       (n, c, h, w) inputs; only {@code example} matters in EVAL mode, all of x in TRAIN mode
     * @param example index into x's batch
     * @param target  whose Jacobian ({@link Target#logits()}, {@link Target#penultimate()}, a named layer)
     * @param mode    BatchNorm mode
     * @return the dense Jacobian
     * @throws IllegalArgumentException for null arguments, an example outside [0, n), an input that does not fit
     *                                  the model, or a target the model does not have
     */
    public static Jacobian of(Layer model, Tensor x, int example, Target target, BnMode mode) {
        if (model == null || x == null || target == null || mode == null) {
            throw new IllegalArgumentException("Jacobians.of: model, x, target and mode must not be null");
        }
        Shape s = x.shape;
        if (example < 0 || example >= s.n()) {
            throw new IllegalArgumentException("example " + example + " is outside the batch of " + s.n());
        }
        DMatrixRMaj m;
        if (mode == BnMode.EVAL) {
            int per = s.perExample();
            int outDim = model.outputShape(s.withBatch(1)).perExample();
            int dim = Math.min(per, target == Target.logits() ? outDim : per);
            int copies = Math.max(1, Math.min(REPLICAS, dim));
            Tensor rep = new Tensor(s.withBatch(copies));
            for (int k = 0; k < copies; k++) {
                System.arraycopy(x.data, example * per, rep.data, k * per, per);
            }
            Linearization lin = target.select(model, model.linearize(rep, BnMode.EVAL));
            BatchLinearMap replicas = lin.asBatchLinearMap();
            m = dev.opnorm.linalg.Jacobians.extract(replicas);
        } else {
            Linearization lin = target.select(model, model.linearize(x, mode));
            m = dev.opnorm.linalg.Jacobians.extract(lin.asLinearMap(example));
        }
        return new Jacobian(m, example, target, mode);
    }
}
