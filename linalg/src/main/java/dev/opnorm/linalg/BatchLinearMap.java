package dev.opnorm.linalg;

/**
 * A block-diagonal linear map acting on a batch: {@code batch()} independent maps
 * A_i : R^inDim -> R^outDim, applied together. Vectors are stored example after example
 * (example i occupies {@code [i*inDim, (i+1)*inDim)}).
 *
 * <p>This is how a network's linearization at a batch of data points is used by batched power
 * iteration: one forward (JVP) and one backward (VJP) pass serve every example, each with its own
 * vectors. Implementations must really be block diagonal: the output of example i depends only on
 * the input of example i (true for BatchNorm in EVAL mode, false in TRAIN mode).
 *
 * <p>Conventions as in {@link LinearMap}: outputs are overwritten, inputs untouched, no aliasing. It is
 * the host case of {@link BatchMap}, so the batched algorithms run on it through {@link HostBatchOps}.
 */
public interface BatchLinearMap extends BatchMap<float[]> {
    /** Number of examples (blocks). */
    @Override
    int batch();

    /** Per-example domain dimension. */
    @Override
    int inDim();

    /** Per-example co-domain dimension. */
    @Override
    int outDim();

    /** out_i = A_i v_i for every example i; v has length batch*inDim, out batch*outDim (overwritten). */
    @Override
    void apply(float[] v, float[] out);

    /** out_i = A_i^T u_i for every example i; u has length batch*outDim, out batch*inDim (overwritten). */
    @Override
    void applyTranspose(float[] u, float[] out);
}
