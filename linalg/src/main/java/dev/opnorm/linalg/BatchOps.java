package dev.opnorm.linalg;

/**
 * The vector operations of the batched power method and (p,q) iteration on one backend: a batch of
 * row vectors (example i = row i of a {@code rows x cols} buffer {@code V}) and a few per-row scalars
 * ({@code S}), so that {@link PowerMethod} and {@link OperatorNorm} are written once and run on host
 * arrays ({@link HostBatchOps}) or on device buffers, where only {@link #read} moves data back.
 *
 * <p>Every row operation acts on all rows (the algorithms ignore the rows of stopped examples). The
 * per-row maps follow linalg's host definitions: {@link #rowNorms} is {@link Norms#lp}, {@link #dualRows}
 * {@link DualMaps#dual} with its tie rules, {@link #sphereStep} {@link Projections#ontoSphere}. Outputs
 * are overwritten; aliasing is allowed only where a method says so.
 *
 * @param <V> a buffer of {@code rows x cols} floats
 * @param <S> a buffer of per-row scalars
 */
public interface BatchOps<V, S> {
    /** A new {@code rows x cols} buffer, all zero. */
    V allocate(int rows, int cols);

    /** Gives a buffer from {@link #allocate} back (it must not be used afterwards). */
    void release(V v);

    /** A new buffer of {@code count} scalars. */
    S scalars(int count);

    /** Gives a scalar buffer back. */
    void releaseScalars(S s);

    /** dst = the first {@code rows * cols} values of src (host to backend). */
    void upload(float[] src, V dst, int rows, int cols);

    /** A host copy of the first {@code rows * cols} values of src (backend to host). */
    float[] download(V src, int rows, int cols);

    /**
     * out[off + r] = ||a_r||_p for every row r; stays on the backend until {@link #read}.
     */
    void rowNorms(S out, int off, V a, int rows, int cols, double p);

    /** The first {@code count} scalars of s on the host: the one transfer an iteration makes. */
    double[] read(S s, int count);

    /**
     * y_r = x_r / n_r with n_r = norms[off + r] for the rows whose n_r is &gt; 0; the other rows of y (norm
     * 0 or NaN) are left as they are. y may alias x.
     */
    void divideRows(V y, V x, S norms, int off, int rows, int cols);

    /** out_r = D_q(a_r) for every row ({@link DualMaps#dual}); out may alias a. */
    void dualRows(V out, V a, int rows, int cols, double q);

    /**
     * v_r = Proj_{||x||_p = 1}(v_r + alpha z_r) for every row, the sum rounded to float and projected as
     * {@link Projections#ontoSphere}; z is not modified.
     */
    void sphereStep(V v, V z, double alpha, int rows, int cols, double p);

    /**
     * Fails early when {@link #sphereStep} does not support p on this backend.
     *
     * @throws IllegalArgumentException naming p
     */
    void checkSphereStep(double p);

    /** dst_r = src_r for the rows with {@code rows[r]}; other rows untouched. */
    void copyRowsWhere(V dst, V src, boolean[] rows, int cols);
}
