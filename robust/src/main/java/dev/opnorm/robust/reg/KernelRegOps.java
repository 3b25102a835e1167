package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.layers.PlacedModel;

/**
 * {@link RegOps} on a placed model's kernels ({@link PlacedModel#ops()}, any backend) with per-row scalars
 * in the backend's float buffers: each operation is the {@link Ops} method of the same name, the row
 * scaling a channel affine map (the examples as channels) with its coefficients uploaded once. Buffers come
 * from the model's pool and go back to it.
 * Not thread safe (as the model).
 *
 * @param <F> the backend's float buffer
 * @param <I> the backend's int buffer (the class labels)
 */
public final class KernelRegOps<F, I> implements RegOps<F, F, I> {
    private final PlacedModel<F, I> model;
    private final Ops<F, I> ops;

    /** The operations on {@code model}'s kernels and buffer pool. */
    public KernelRegOps(PlacedModel<F, I> model) {
        if (model == null) {
            throw new IllegalArgumentException("the regularizers' operations need a placed model");
        }
        this.model = model;
        this.ops = model.ops();
    }

    @Override
    public F allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(F v) {
        if (v != null) {
            model.pool().give(v);
        }
    }

    @Override
    public void addScaled(F out, F a, float s, F b, int len) {
        ops.addScaled(out, a, s, b, len);
    }

    @Override
    public void scale(F out, F a, float c, int len) {
        ops.scale(out, c, a, len);
    }

    @Override
    public void scaleDouble(F out, F a, double c, int len) {
        ops.scaleDouble(out, c, a, len);
    }

    @Override
    public void qPowerGrad(F out, F a, double coef, double q, int len) {
        ops.qPowerGrad(out, a, coef, q, len);
    }

    @Override
    public void dotRows(F out, F a, F b, int rows, int cols) {
        ops.dotRows(out, 0, a, b, rows, cols);
    }

    /** One upload of the rows' coefficients; the rows are scaled as channels (the examples as channels). */
    @Override
    public void scaleRows(F out, F a, float[] c, int rows, int cols) {
        F coef = allocate(Shape.features(1, rows));
        try {
            ops.upload(coef, c, rows);
            ops.channelAffine(out, a, coef, null, 1, rows, cols);
        } finally {
            release(coef);
        }
    }

    @Override
    public void softmaxGradRows(F out, F z, I labels, int rows, int cols) {
        ops.softmaxGradRows(out, z, labels, rows, cols);
    }

    @Override
    public void softmaxHessianRows(F h, F s, F w, I labels, int rows, int cols, double coef) {
        ops.softmaxHessianRows(h, s, w, labels, rows, cols, coef);
    }
}
