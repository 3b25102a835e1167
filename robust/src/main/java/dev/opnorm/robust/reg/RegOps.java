package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;

/**
 * The elementwise operations the data-dependent regularizers need beyond linalg's {@code BatchOps} (row norms,
 * dual maps, scalar reads), on one backend's float buffers {@code V}, so that the regularizers are written
 * once and run on host arrays ({@link RegEngine#host}) or on device buffers. Outputs are overwritten and may
 * alias an input; nothing here moves data between the host and the backend.
 *
 * @param <V> a float buffer
 */
public interface RegOps<V> {
    /** A buffer of {@code shape.size()} floats of that shape (contents unspecified). */
    V allocate(Shape shape);

    /** Gives a buffer from {@link #allocate} back (not to be used afterwards); null is ignored. */
    void release(V v);

    /** out = a + s * b elementwise, in float (s = -1 gives a - b exactly). */
    void addScaled(V out, V a, float s, V b, int len);

    /** out = (float) (c * a) elementwise, the product in double. */
    void scale(V out, V a, double c, int len);

    /**
     * out = (float) (coef * sign(a) |a|^(q-1)) elementwise in double (q = 2: coef * sign(a) |a|): the
     * gradient of (coef / q) ||a||_q^q, q finite.
     */
    void qPowerGrad(V out, V a, double coef, double q, int len);
}
