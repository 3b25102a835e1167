package dev.opnorm.linalg;

/**
 * A block-diagonal batch of linear maps A_i : R^inDim -> R^outDim acting on one backend's buffers
 * {@code V} (a host {@code float[]}, a device buffer): the map the batched power method and (p,q)
 * iteration drive, one {@code apply} and one {@code applyTranspose} per iteration for every example.
 * Buffers hold the examples row after row (example i's vector is row i). {@link BatchLinearMap} is
 * the host case ({@code V = float[]}).
 *
 * <p>Conventions: outputs are overwritten, inputs untouched, no aliasing; the output of example i may
 * depend only on the input of example i.
 *
 * @param <V> the backend's buffer type
 */
public interface BatchMap<V> {
    /** Number of examples (blocks). */
    int batch();

    /** Per-example domain dimension. */
    int inDim();

    /** Per-example co-domain dimension. */
    int outDim();

    /** out_i = A_i v_i for every example i (v: batch x inDim, out: batch x outDim, overwritten). */
    void apply(V v, V out);

    /** out_i = A_i^T u_i for every example i (u: batch x outDim, out: batch x inDim, overwritten). */
    void applyTranspose(V u, V out);
}
