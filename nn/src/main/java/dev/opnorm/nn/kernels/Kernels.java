package dev.opnorm.nn.kernels;

/**
 * The primitive operations every layer is built from. One contract, several implementations:
 * {@link ScalarKernels} (plain loops, the reference), {@code VectorKernels} (Java Vector API,
 * multi-threaded, the default) and an OpenCL implementation in the {@code gpu-kernels} module.
 * All of them pass the same contract test suite.
 *
 * <p>Conventions (llm.c style): outputs first, then inputs, then dimensions. A method named
 * {@code ...Vjp...Weight/Bias} ACCUMULATES (+=) into its output; every other method OVERWRITES its
 * output. Outputs must not alias inputs unless a method says so. Tensors are flat NCHW float arrays;
 * convolution weights are (K, C, R, S). ReLU'(0) = 0: the predicate is {@code x > 0} everywhere.
 *
 * <p>Determinism: for a given implementation and thread count the results are bit-identical from run
 * to run; implementations that use threads partition work so that results do not depend on the
 * thread count either (no racing float reductions).
 *
 * <p><b>Summation order.</b> Java float arithmetic is the same on every CPU; only the order of a sum is
 * an implementation's choice. The CPU implementations ({@link ScalarKernels}, {@code VectorKernels} at any
 * vector width, 0 to 512 bits, and any thread count) all sum in the order below, so they agree bit for
 * bit and one seed gives the same training run on AVX2 and AVX-512 machines. (The OpenCL implementation
 * agrees only to rounding.)
 * <ul>
 *   <li><i>GEMM-like outputs</i> (gemm, the three conv ops): an output's terms a_l * b_l, in the order l
 *       given below, are cut into slices of 256 consecutive terms; each slice is summed from +0 by fused
 *       multiply-add, t = fma(a_l, b_l, t), l ascending. The first slice's sum t0 gives the output
 *       (conv: t0 + bias, bias 0 when absent; gemm: alpha*t0, plus beta*C when beta != 0), each later slice's
 *       sum t is added as out = alpha*t + out (alpha = 1 for convs). Out-of-range taps are terms with a
 *       zero factor, not skipped. Orders l: gemm: l = 0 .. k-1. conv forward: (c, r, s) row-major.
 *       conv weight VJP: S = the sliced sum over (n, p, q) row-major, then gw += S.
 *       conv input VJP: (k, r, s) row-major with gy[n, k, (h + pad - r) / stride, (w + pad - s) / stride]
 *       (zero when not exact or out of range), except for shapes where {@code ConvPack.preferCol2im} holds
 *       (stride 2, "valid" padding on small maps, few input channels): there gx = 0, then for each (r, s)
 *       in order with a matching (p, q): gx += (the sliced sum over k of w[k, c, r, s] * gy[n, k, p, q]).</li>
 *   <li><i>Float reductions of a contiguous run</i> (conv bias VJP, per sample plane): 16 partial sums,
 *       element i of the whole 16-element blocks into partial i mod 16 in ascending i; partials combined as
 *       p[j] += p[j + 8], then + 4, + 2, + 1; then the len mod 16 remaining elements added in order. The bias
 *       VJP adds the planes' sums in sample order from 0f, then gb += that.</li>
 *   <li><i>Double reductions</i> (BatchNorm statistics, per sample plane): the same with 8 partials, each
 *       term fused into its partial (fma(x, 1, p), fma(a, b, p), fma(x - mu, x - mu, p)); the planes' sums
 *       are added in sample order.</li>
 *   <li><i>Column sums</i> (sumRowsAccumulate) add rows in ascending order; pooling sums its window in
 *       row-major order; elementwise ops use separate multiply and add (never fused).</li>
 * </ul>
 */
public interface Kernels {

    /** A short name for logs and benchmark tables, e.g. "scalar", "vector", "opencl". */
    String name();

    // ---- convolution ------------------------------------------------------------------------------

    /**
     * y = conv(x, w) + b (cross-correlation). With {@code b == null} this is the JVP of the conv in x.
     *
     * @param y output (n, k, p, q), overwritten
     * @param x input (n, c, h, w)
     * @param w weights (k, c, r, s)
     * @param b bias (k) or null
     */
    void conv2dForward(float[] y, float[] x, float[] w, float[] b, Conv2dDims d);

    /**
     * gx = conv^T(gy, w): the VJP of the conv in its input (a transposed convolution).
     *
     * @param gx output (n, c, h, w), overwritten
     * @param gy cotangent (n, k, p, q)
     * @param w  weights (k, c, r, s)
     */
    void conv2dVjpInput(float[] gx, float[] gy, float[] w, Conv2dDims d);

    /**
     * gw += sum_n gy[n] (x) x[n]: the VJP of the conv in its weights.
     *
     * @param gw weight gradient (k, c, r, s), accumulated
     * @param gy cotangent (n, k, p, q)
     * @param x  input (n, c, h, w)
     */
    void conv2dVjpWeight(float[] gw, float[] gy, float[] x, Conv2dDims d);

    /**
     * gb[k] += sum over n, p, q of gy[n, k, p, q].
     *
     * @param gb bias gradient (k), accumulated
     */
    void conv2dVjpBias(float[] gb, float[] gy, Conv2dDims d);

    // ---- dense ------------------------------------------------------------------------------------

    /**
     * Row-major GEMM: C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k and op(B) is k x n.
     * With {@code transA} A is stored k x m (element (i, l) of op(A) at a[aOff + l*lda + i]), otherwise
     * m x k (at a[aOff + i*lda + l]); likewise for B. C is m x n at c[cOff + i*ldc + j]. When
     * {@code beta == 0} the old contents of C are ignored (NaN in C does not propagate).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc);

    // ---- elementwise ------------------------------------------------------------------------------

    /** y[i] = x[i] > 0 ? x[i] : 0 for i < len. y may alias x. */
    void relu(float[] y, float[] x, int len);

    /**
     * out[i] = x[i] > 0 ? in[i] : 0 for i < len: ReLU's JVP and VJP (the Jacobian is diagonal, so
     * self-adjoint), given the saved pre-activation x. out may alias in.
     */
    void reluMask(float[] out, float[] in, float[] x, int len);

    /** y[i] += a * x[i] for i < len. */
    void axpy(float[] y, float a, float[] x, int len);

    /** y[i] = a[i] + b[i] for i < len. y may alias a or b. */
    void add(float[] y, float[] a, float[] b, int len);

    /** y[i] = alpha * x[i] for i < len. y may alias x. */
    void scale(float[] y, float alpha, float[] x, int len);

    /** c[i*n + j] += bias[j] for every row i < m of the row-major m x n matrix c. */
    void addRowBias(float[] c, float[] bias, int m, int n);

    /** gb[j] += sum_i g[i*n + j] over m rows: the bias gradient of a dense layer. Accumulates. */
    void sumRowsAccumulate(float[] gb, float[] g, int m, int n);

    // ---- per-channel (BatchNorm) -----------------------------------------------------------------

    /**
     * Per-channel mean and biased variance over (n, h*w) of x (n, c, hw), accumulated in double.
     *
     * @param mean output (c), overwritten
     * @param var  output (c), overwritten; biased (divides by n*hw)
     */
    void channelMeanVar(float[] mean, float[] var, float[] x, int n, int c, int hw);

    /** y[n, c, i] = x[n, c, i] * scale[c] + shift[c]; shift may be null (zero). y may alias x. */
    void channelAffine(float[] y, float[] x, float[] scale, float[] shift, int n, int c, int hw);

    /**
     * The Jacobian of train-mode BatchNorm applied to {@code in}, given the normalized input xhat:
     * out[n,c,i] = coef[c] * (in - mean_c(in) - xhat * mean_c(in * xhat)), means over (n, hw) in double.
     * The map is symmetric, so it is both the JVP (coef = gamma/std) and the VJP.
     * out must not alias in.
     */
    void bnTrainJacobian(float[] out, float[] in, float[] xhat, float[] coef, int n, int c, int hw);

    /**
     * sumA[c] += sum over (n, hw) of a; sumAB[c] += sum of a*b (b may be null, then sumAB is untouched).
     * Accumulated in double per call, then added. Used for BN parameter gradients.
     */
    void channelSumsAccumulate(float[] sumA, float[] sumAB, float[] a, float[] b, int n, int c, int hw);

    // ---- pooling ----------------------------------------------------------------------------------

    /**
     * Max pooling. argmax[o] receives the flat index into x of the maximum of window o (the first in
     * row-major scan order on ties; padding never wins). A NaN in the window wins (the first NaN), so NaN
     * propagates as in PyTorch.
     *
     * @param y      output (n, c, p, q), overwritten
     * @param argmax output (n, c, p, q), overwritten
     */
    void maxPool2dForward(float[] y, int[] argmax, float[] x, PoolDims d);

    /** dy[o] = dx[argmax[o]]: the JVP of max pooling (a gather). */
    void maxPool2dJvp(float[] dy, float[] dx, int[] argmax, PoolDims d);

    /** gx = 0, then gx[argmax[o]] += gy[o]: the VJP of max pooling (a scatter-add). gx overwritten. */
    void maxPool2dVjp(float[] gx, float[] gy, int[] argmax, PoolDims d);

    /** Average pooling (zero padding counted in the divisor kh*kw). Linear: also its own JVP. */
    void avgPool2dForward(float[] y, float[] x, PoolDims d);

    /** gx = avgpool^T(gy), overwritten. */
    void avgPool2dVjp(float[] gx, float[] gy, PoolDims d);
}
