package dev.opnorm.nn.optim;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.kernels.ScalarKernels;

/**
 * {@link UpdateOps} on any backend's buffers: the updates are {@link Ops#sgdUpdate}, {@link Ops#adamUpdate}
 * and {@link Ops#rmspropUpdate} (on the host {@link Kernels}' reference loops, on a device its kernels), so
 * an optimizer moved to {@code KernelUpdateOps.on(ops)} updates a placed model's parameters where they live
 * with no transfer. {@link #upload} and {@link #download} are the optimizer's explicit state transfers
 * (moving it, checkpoints), one each per buffer.
 *
 * <p>Two instances are equal when they run on the same {@link Ops} object, and every pair of host
 * {@link Kernels} is equal (their buffers are plain arrays and their updates the same loops), so state on
 * the host serves whichever host kernels step it.
 *
 * @param <F> the backend's buffer of floats
 */
public final class KernelUpdateOps<F> implements UpdateOps<F> {
    /** The host: state in plain arrays, updated by {@link Kernels}' loops. */
    public static final KernelUpdateOps<float[]> HOST = new KernelUpdateOps<>(new ScalarKernels());

    private final Ops<F, ?> ops;

    private KernelUpdateOps(Ops<F, ?> ops) {
        this.ops = ops;
    }

    /** The optimizer updates on {@code ops}' buffers. */
    public static <F> KernelUpdateOps<F> on(Ops<F, ?> ops) {
        if (ops == null) {
            throw new IllegalArgumentException("KernelUpdateOps needs the backend's Ops");
        }
        return new KernelUpdateOps<>(ops);
    }

    @Override
    public F zeros(int length) {
        F b = ops.allocate(shape(length));
        ops.fill(b, 0f, length); // a device allocation is uninitialized
        return b;
    }

    /** A copy even on the host ({@link Ops#upload(float[], Shape)} would share the array, which the updates overwrite). */
    @Override
    public F upload(float[] values) {
        F b = ops.allocate(shape(values.length));
        ops.upload(b, values, values.length);
        return b;
    }

    /** A shape of {@code length} floats; at least one, as a shape has no empty dimension. */
    private static Shape shape(int length) {
        return Shape.features(1, Math.max(1, length));
    }

    @Override
    public float[] download(F buffer, int length) {
        float[] out = new float[length];
        ops.download(buffer, out, length);
        return out;
    }

    @Override
    public void release(F buffer) {
        ops.release(buffer);
    }

    @Override
    public void sgd(F p, F grad, F buf, Sgd.Scalars s, int length) {
        ops.sgdUpdate(p, grad, buf, s.weightDecay(), s.momentum(), s.keep(), s.negLr(), s.first(), s.nesterov(), length);
    }

    @Override
    public void adam(F p, F grad, F m, F v, Adam.Scalars s, int length) {
        ops.adamUpdate(p, grad, m, v, s.weightDecay(), s.decay(), s.decoupled(), s.w1(), s.beta1(), s.w2(), s.beta2(),
                s.negStep(), s.bc2Sqrt(), s.eps(), length);
    }

    @Override
    public void rmsprop(F p, F grad, F sq, F ga, F buf, RmsProp.Scalars s, int length) {
        ops.rmspropUpdate(p, grad, sq, ga, buf, s.weightDecay(), s.alpha(), s.w(), s.eps(), s.momentum(), s.negLr(),
                length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KernelUpdateOps<?> k && (k.ops == ops || k.ops instanceof Kernels && ops instanceof Kernels);
    }

    @Override
    public int hashCode() {
        return ops instanceof Kernels ? Kernels.class.hashCode() : System.identityHashCode(ops);
    }

    @Override
    public String toString() {
        return ops instanceof Kernels ? "the host" : ops.toString();
    }
}
