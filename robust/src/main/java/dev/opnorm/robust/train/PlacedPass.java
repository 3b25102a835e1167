package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.PlacedLinearization;

/**
 * A placed model's linearization as a training step sees it; closing the pass closes the linearization.
 *
 * @param lin the linearization (owned)
 * @param <F> the backend's float buffer
 */
public record PlacedPass<F>(PlacedLinearization<F> lin) implements TrainNetwork.Pass<F, Grads<F>> {
    /**
     * The placed linearization of a step's pass (null for null).
     *
     * @throws IllegalArgumentException for a pass of another backend
     */
    public static <F> PlacedLinearization<F> of(TrainNetwork.Pass<F, Grads<F>> pass) {
        if (pass == null) {
            return null;
        }
        if (!(pass instanceof PlacedPass<F> p)) {
            throw new IllegalArgumentException("a placed regularizer got a pass of another backend: " + pass);
        }
        return p.lin();
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
    public void vjpParams(F gy, Grads<F> g) {
        lin.vjpParams(gy, g);
    }

    @Override
    public void commit() {
        lin.commit();
    }

    @Override
    public void close() {
        lin.close();
    }
}
