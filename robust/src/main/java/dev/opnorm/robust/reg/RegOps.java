package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;

/**
 * The operations the data-dependent regularizers need beyond linalg's {@code BatchOps} (row norms, dual maps,
 * scalar reads), on one backend's float buffers {@code V}, per-row scalars {@code S} (those of the engine's
 * {@code BatchOps}) and class labels {@code L}, so that the regularizers are written once and run on any
 * backend's buffers ({@link KernelRegOps}, {@link RegEngine#placed}). Outputs are overwritten and may alias an input unless
 * a method says otherwise. Only {@link #scaleRows} moves data (its coefficients, host to backend).
 *
 * @param <V> a float buffer
 * @param <S> a buffer of per-row scalars
 * @param <L> a buffer of class labels
 */
public interface RegOps<V, S, L> {
    /** A buffer of {@code shape.size()} floats of that shape (contents unspecified). */
    V allocate(Shape shape);

    /** Gives a buffer from {@link #allocate} back (not to be used afterwards); null is ignored. */
    void release(V v);

    /** out = a + s * b elementwise, in float (s = -1 gives a - b exactly). */
    void addScaled(V out, V a, float s, V b, int len);

    /** out = c * a elementwise, in float. */
    void scale(V out, V a, float c, int len);

    /** out = (float) (c * a) elementwise, the product in double. */
    void scaleDouble(V out, V a, double c, int len);

    /**
     * out = (float) (coef * sign(a) |a|^(q-1)) elementwise in double (q = 2: coef * sign(a) |a|): the
     * gradient of (coef / q) ||a||_q^q, q finite.
     */
    void qPowerGrad(V out, V a, double coef, double q, int len);

    /** out[r] = sum_j a[r, j] b[r, j] (the sum in double) for every row r; stays on the backend until read. */
    void dotRows(S out, V a, V b, int rows, int cols);

    /** out row r = c[r] * a row r, in float; c (host values, one per row) is moved to the backend. */
    void scaleRows(V out, V a, float[] c, int rows, int cols);

    /**
     * out = softmax(z_r) - onehot(labels[r]) for every row r: the mean cross-entropy's gradient (rounded to
     * float) times rows. Rows of a batch with a non-finite logit may be all NaN.
     *
     * @throws IllegalArgumentException for a label outside [0, cols) where the backend checks labels
     */
    void softmaxGradRows(V out, V z, L labels, int rows, int cols);

    /**
     * h[r, j] = (float) (coef * p_rj * (w_rj - sum_l p_rl w_rl)) in double, p_r = s_r + onehot(labels[r]) (with
     * s from {@link #softmaxGradRows}, p is the softmax): coef H_r w_r for the cross-entropy's Hessian in the
     * logits. h must not alias s or w.
     */
    void softmaxHessianRows(V h, V s, V w, L labels, int rows, int cols, double coef);
}
