package dev.opnorm.nn.layers;

import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.LinearMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.List;

/**
 * A layer (or network) linearized at a fixed input batch x: the output f(x), computed once, and the
 * Jacobian J = df/dx at x as a linear map on whole batches, with the residuals (ReLU masks, BN
 * statistics, saved inputs) captured at construction. {@code jvp} and {@code vjp} are pure functions
 * of that saved state: they can be called any number of times (power iteration, PGA steps) and give
 * the same answer each time.
 *
 * <p>Conventions: {@code jvp} and {@code vjp} OVERWRITE their output; {@link #vjpParams} ACCUMULATES
 * (+=) into the gradient buffers. Inputs are never modified; outputs must not alias inputs. Arrays may
 * be longer than the shape needs (containers pass ping-pong buffers sized for their largest
 * activation); only the first {@code shape.size()} elements are read or written.
 * A linearization is not thread safe (it owns scratch buffers); create one per thread.
 */
public interface Linearization {
    /** Shape of the input batch x. */
    Shape inShape();

    /** Shape of the output batch f(x). */
    Shape outShape();

    /** The BatchNorm mode this linearization was taken in. */
    BnMode mode();

    /** f(x). The returned tensor must not be modified. */
    Tensor output();

    /**
     * dy = J dx (forward mode). dx has inShape().size() elements, dy outShape().size(); dy overwritten.
     *
     * @throws IllegalArgumentException when an array is null or too short, or dx and dy are the same array
     */
    void jvp(float[] dx, float[] dy);

    /**
     * gx = J^T gy (reverse mode). gx overwritten.
     *
     * @throws IllegalArgumentException as {@link #jvp}
     */
    void vjp(float[] gy, float[] gx);

    /**
     * grads[p] += (d f/d p)^T gy for every parameter p of the layer: the parameter part of the VJP.
     * Layers without parameters leave grads untouched.
     */
    default void vjpParams(float[] gy, ParamGrads grads) {
        vjpAll(gy, null, grads);
    }

    /**
     * Both parts of the VJP in one backward sweep: gx = J^T gy (overwritten) and the parameter
     * gradients (accumulated, +=). {@code gx} may be null when only parameter gradients are wanted
     * (a network then skips the input gradient of its first layer); {@code grads} may be null when
     * only gx is wanted.
     */
    void vjpAll(float[] gy, float[] gx, ParamGrads grads);

    /**
     * Applies side effects a training step wants from this linearization: for BatchNorm in TRAIN mode,
     * folds the batch statistics into the running statistics (momentum). Does nothing otherwise.
     *
     * @throws IllegalStateException when called a second time on the same BatchNorm linearization
     */
    default void commit() {
    }

    /**
     * Calls {@code visitor} on this linearization and, for a composite (Sequential, residual block),
     * on every part in forward order, depth first. Used to read residuals such as activation sites
     * ({@link #activationSite()}) from every part, residual blocks included.
     */
    default void visit(java.util.function.Consumer<Linearization> visitor) {
        visitor.accept(this);
    }

    /**
     * This linearization as the chain of its parts' linearizations, J = J_k ... J_1, nested chains
     * expanded: element i linearizes element i of the layer's {@link Layer#chain()}, at the input that
     * layer saw. A part that is not a plain chain (a leaf, a residual block) is the one-element chain
     * of itself.
     */
    default List<Linearization> chain() {
        return List.of(this);
    }

    /**
     * The linearization from this network's input to the output of the sub-layer at the dotted
     * {@code path} (included), sharing this linearization's residuals (no forward pass).
     *
     * @throws IllegalArgumentException when this is not the linearization of a chain of named layers,
     *                                  or no sub-layer has that name
     */
    default Linearization upTo(String path) {
        throw new IllegalArgumentException(this + " is not the linearization of a chain of named layers, cannot "
                + "take its prefix up to '" + path + "'");
    }

    /**
     * This part's rule for the parameter gradient of its JVP (see {@link TangentRule}), or null when
     * it has none: parts whose Jacobian no parameter enters (ReLU, pooling, Flatten, BatchNorm without
     * affine; they need no rule), TRAIN-mode BatchNorm (its Jacobian depends on the parameters through
     * the batch statistics too, which such a rule does not capture) and composites (walk
     * {@link #chain()}).
     */
    default TangentRule tangentRule() {
        return null;
    }

    /**
     * The discrete state this part's Jacobian was selected by at its input (ReLU units on or off, the
     * index each max-pooling window picked), or null for a part whose Jacobian does not depend on one
     * (affine parts; composites report through their parts, see {@link #visit}).
     */
    default ActivationSite activationSite() {
        return null;
    }

    /**
     * The Jacobian of one example's output with respect to the same example's input, as a LinearMap
     * R^(inShape.perExample) -> R^(outShape.perExample). Correct in both BN modes: in TRAIN mode
     * the other examples' inputs are held fixed (zero tangent), so this is the diagonal block of the
     * coupled batch Jacobian. Each call to apply/applyTranspose runs one batch-sized pass; the map
     * allocates its two batch buffers once.
     *
     * @throws IllegalArgumentException when the example index is outside the batch
     */
    default LinearMap asLinearMap(int example) {
        return new ExampleLinearMap(this, example);
    }

    /**
     * The block-diagonal batch of per-example Jacobians as a {@link BatchLinearMap}: one jvp/vjp pass
     * serves every example. Only for EVAL mode, where the Jacobian really is block diagonal.
     *
     * @throws IllegalArgumentException in TRAIN mode (the batch statistics couple the examples)
     */
    default BatchLinearMap asBatchLinearMap() {
        return new EvalBatchLinearMap(this);
    }
}
