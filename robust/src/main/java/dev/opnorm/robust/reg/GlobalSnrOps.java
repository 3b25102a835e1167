package dev.opnorm.robust.reg;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.WeightOperator;

/**
 * The operations of the global spectral norm regularizer ({@link GlobalSpectralNorm.Engine}, written once)
 * on one backend: float vectors and weights {@code V}, and a small array of per-layer scalars {@code S}
 * (the sigmas). {@link KernelGlobalSnrOps} is the implementation on any backend's kernels (the host's,
 * OpenCL's). Only {@link #upload}, {@link #download} and {@link #read} move data between the host and the
 * backend.
 *
 * <p>Arithmetic contract: the sigmas are floats on every backend; the host's kernels sum matrix products,
 * norms and u^T A v in double and round once, another backend may sum in float (in any fixed order), so
 * results agree with the host to rounding (~1e-6 relative per step). The zero rule is exact on every backend:
 * {@link #normalize} leaves dst untouched where ||src||_2 = 0 (so a layer whose A^T u is 0 keeps its v).
 * Outputs are overwritten unless a method says it accumulates; inputs do not alias outputs unless a
 * method says so.
 *
 * @param <V> a float buffer
 * @param <S> a buffer of per-layer scalars
 */
public interface GlobalSnrOps<V, S> extends AutoCloseable {
    /**
     * One regularized layer's operator A: its weight, the output (u) and input (v) dimensions, and how A
     * acts.
     *
     * @param layer    the layer's qualified name (for messages)
     * @param weight   the weight parameter A depends on
     * @param rows     A's output dimension (the length of u)
     * @param cols     A's input dimension (the length of v)
     * @param operator null: A is the weight read as a row-major rows x cols matrix; else the layer's map on
     *                 one example (a convolution, bias excluded)
     */
    record Operand(String layer, Param weight, int rows, int cols, WeightOperator operator) {
    }

    /** A buffer of n floats (contents unspecified). */
    V allocate(int n);

    /**
     * A buffer for persistent state whose host copy is {@code hostCopy}: on the host the array itself (the
     * state is live there), elsewhere a new buffer of its length (contents unspecified).
     */
    V state(float[] hostCopy);

    /** Gives a buffer from {@link #allocate} or {@link #state} back; null is ignored. */
    void release(V v);

    /** dst = src (host to backend; nothing to do when dst is src). */
    void upload(float[] src, V dst);

    /** dst = src (backend to host; nothing to do when src is dst). */
    void download(V src, float[] dst);

    /** out = A in (A reads w, the current value of a.weight()). */
    void apply(Operand a, V w, V in, V out);

    /** out = A^T in. */
    void applyTranspose(Operand a, V w, V in, V out);

    /** dst = src / ||src||_2 where ||src||_2 &gt; 0, else dst is left as it is; dst may be src. */
    void normalize(V dst, V src);

    /** n scalars (contents unspecified). */
    S scalars(int n);

    /** Gives scalars back; null is ignored. */
    void releaseScalars(S s);

    /** dst[i] = a^T b. */
    void dot(S dst, int i, V a, V b);

    /** The first n scalars on the host: an update's one download. */
    double[] read(S s, int n);

    /** gW += scale * d(u^T A(W) v)/dW (a matrix: scale u v^T; an operator: its weight VJP with cotangent scale u). */
    void addWeightGradient(Operand a, V gW, float scale, V u, V v);

    /** Frees what the operations keep (scratch); default: nothing. */
    @Override
    default void close() {
    }
}
