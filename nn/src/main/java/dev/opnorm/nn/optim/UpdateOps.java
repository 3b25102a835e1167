package dev.opnorm.nn.optim;

/**
 * The element-wise work of the optimizers on one backend, so that {@link Optimizer} and its algorithms
 * ({@link Sgd}, {@link Adam}, {@link RmsProp}: state layout, lazy state, step counts, per-step scalars,
 * checkpoint format) are written once and run on any backend ({@link KernelUpdateOps} over its {@code Ops}).
 * An update overwrites one parameter tensor and its state buffers in place from its gradient (read only)
 * and the step's scalars, which the algorithm computes on the host; nothing crosses the backend boundary
 * in an update. Only {@link #upload} and {@link #download} move data, and the optimizer calls them only to
 * import, export or move its state.
 *
 * <p>The updates are the host {@code Kernels}' loops element for element; a backend may differ only where
 * its platform rounds float division or square root differently.
 *
 * @param <B> a buffer of floats
 */
public interface UpdateOps<B> {
    /** A new buffer of {@code length} zeros. */
    B zeros(int length);

    /** A new buffer holding a copy of {@code values} (host to backend). */
    B upload(float[] values);

    /** A host copy of the first {@code length} values of {@code buffer} (backend to host). */
    float[] download(B buffer, int length);

    /** Gives a buffer from {@link #zeros} or {@link #upload} back; it must not be used afterwards. */
    void release(B buffer);

    /** One {@link Sgd} update of {@code length} elements; {@code momentumBuffer} null: no momentum. */
    void sgd(B value, B grad, B momentumBuffer, Sgd.Scalars s, int length);

    /** One {@link Adam} / AdamW update of {@code length} elements. */
    void adam(B value, B grad, B expAvg, B expAvgSq, Adam.Scalars s, int length);

    /**
     * One {@link RmsProp} update of {@code length} elements; {@code gradAvg} null: not centered,
     * {@code momentumBuffer} null: no momentum.
     */
    void rmsprop(B value, B grad, B squareAvg, B gradAvg, B momentumBuffer, RmsProp.Scalars s, int length);
}
