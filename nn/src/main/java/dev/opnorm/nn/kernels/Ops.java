package dev.opnorm.nn.kernels;

import dev.opnorm.nn.Shape;

/**
 * The primitive operations every layer is built from, on buffers of one backend: {@code F} holds floats,
 * {@code I} ints. The layers' linearizations are written once against this contract and run on host
 * arrays ({@link Kernels}, {@code F = float[]}) or on an OpenCL device ({@code gpu.OpenClOps}). The
 * semantics and conventions are those documented on {@link Kernels}: outputs first, {@code ...Vjp...Weight
 * / Bias} and {@code ...Accumulate} methods ACCUMULATE (+=), all others OVERWRITE; a buffer may be longer
 * than an op needs. Besides the kernels, the few things a layer needs to manage its buffers: allocation,
 * release and explicit transfers (the only operations that move data between host and backend).
 *
 * @param <F> a buffer of floats
 * @param <I> a buffer of ints
 */
public interface Ops<F, I> {

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
    void conv2dForward(F y, F x, F w, F b, Conv2dDims d);

    /**
     * gx = conv^T(gy, w): the VJP of the conv in its input (a transposed convolution).
     *
     * @param gx output (n, c, h, w), overwritten
     * @param gy cotangent (n, k, p, q)
     * @param w  weights (k, c, r, s)
     */
    void conv2dVjpInput(F gx, F gy, F w, Conv2dDims d);

    /**
     * gw += sum_n gy[n] (x) x[n]: the VJP of the conv in its weights.
     *
     * @param gw weight gradient (k, c, r, s), accumulated
     * @param gy cotangent (n, k, p, q)
     * @param x  input (n, c, h, w)
     */
    void conv2dVjpWeight(F gw, F gy, F x, Conv2dDims d);

    /**
     * gb[k] += sum over n, p, q of gy[n, k, p, q].
     *
     * @param gb bias gradient (k), accumulated
     */
    void conv2dVjpBias(F gb, F gy, Conv2dDims d);

    // ---- dense ------------------------------------------------------------------------------------

    /**
     * Row-major GEMM: C = alpha * op(A) * op(B) + beta * C, where op(A) is m x k and op(B) is k x n.
     * With {@code transA} A is stored k x m (element (i, l) of op(A) at a[aOff + l*lda + i]), otherwise
     * m x k (at a[aOff + i*lda + l]); likewise for B. C is m x n at c[cOff + i*ldc + j]. When
     * {@code beta == 0} the old contents of C are ignored (NaN in C does not propagate).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              F a, int aOff, int lda, F b, int bOff, int ldb,
              float beta, F c, int cOff, int ldc);

    // ---- elementwise ------------------------------------------------------------------------------

    /** y[i] = x[i] > 0 ? x[i] : 0 for i < len. y may alias x. */
    void relu(F y, F x, int len);

    /**
     * out[i] = x[i] > 0 ? in[i] : 0 for i < len: ReLU's JVP and VJP (the Jacobian is diagonal, so
     * self-adjoint), given the saved pre-activation x. out may alias in.
     */
    void reluMask(F out, F in, F x, int len);

    /** y[i] += a * x[i] for i < len. */
    void axpy(F y, float a, F x, int len);

    /** y[i] = a[i] + b[i] for i < len. y may alias a or b. */
    void add(F y, F a, F b, int len);

    /** y[i] = alpha * x[i] for i < len. y may alias x. */
    void scale(F y, float alpha, F x, int len);

    /** c[i*n + j] += bias[j] for every row i < m of the row-major m x n matrix c. */
    void addRowBias(F c, F bias, int m, int n);

    /** gb[j] += sum_i g[i*n + j] over m rows: the bias gradient of a dense layer. Accumulates. */
    void sumRowsAccumulate(F gb, F g, int m, int n);

    // ---- per-channel (BatchNorm) -----------------------------------------------------------------

    /**
     * Per-channel mean and biased variance over (n, h*w) of x (n, c, hw), accumulated in double.
     *
     * @param mean output (c), overwritten
     * @param var  output (c), overwritten; biased (divides by n*hw)
     */
    void channelMeanVar(F mean, F var, F x, int n, int c, int hw);

    /** y[n, c, i] = x[n, c, i] * scale[c] + shift[c]; shift may be null (zero). y may alias x. */
    void channelAffine(F y, F x, F scale, F shift, int n, int c, int hw);

    /**
     * The Jacobian of train-mode BatchNorm applied to {@code in}, given the normalized input xhat:
     * out[n,c,i] = coef[c] * (in - mean_c(in) - xhat * mean_c(in * xhat)), means over (n, hw) in double.
     * The map is symmetric, so it is both the JVP (coef = gamma/std) and the VJP.
     * out must not alias in.
     */
    void bnTrainJacobian(F out, F in, F xhat, F coef, int n, int c, int hw);

    /**
     * sumA[c] += sum over (n, hw) of a; sumAB[c] += sum of a*b (b may be null, then sumAB is untouched).
     * Accumulated in double per call, then added. Used for BN parameter gradients.
     */
    void channelSumsAccumulate(F sumA, F sumAB, F a, F b, int n, int c, int hw);

    // ---- pooling ----------------------------------------------------------------------------------

    /**
     * Max pooling. argmax[o] receives the flat index into x of the maximum of window o (the first in
     * row-major scan order on ties; padding never wins). A NaN in the window wins (the first NaN), so NaN
     * propagates as in PyTorch.
     *
     * @param y      output (n, c, p, q), overwritten
     * @param argmax output (n, c, p, q), overwritten
     */
    void maxPool2dForward(F y, I argmax, F x, PoolDims d);

    /** dy[o] = dx[argmax[o]]: the JVP of max pooling (a gather). */
    void maxPool2dJvp(F dy, F dx, I argmax, PoolDims d);

    /** gx = 0, then gx[argmax[o]] += gy[o]: the VJP of max pooling (a scatter-add). gx overwritten. */
    void maxPool2dVjp(F gx, F gy, I argmax, PoolDims d);

    /** Average pooling (zero padding counted in the divisor kh*kw). Linear: also its own JVP. */
    void avgPool2dForward(F y, F x, PoolDims d);

    /** gx = avgpool^T(gy), overwritten. */
    void avgPool2dVjp(F gx, F gy, PoolDims d);

    // ---- memory and transfers ---------------------------------------------------------------------

    /**
     * A buffer for a tensor of {@code shape} ({@code shape.size()} floats). Contents are undefined on a
     * device; the host gives zeros.
     */
    F allocate(Shape shape);

    /** A buffer of {@code length} ints (max-pooling argmax). */
    I allocateInts(int length);

    /** Frees a buffer from {@link #allocate} or {@link #upload(float[], Shape)}; the host has nothing to free. */
    void release(F buffer);

    /** Frees a buffer from {@link #allocateInts}. */
    void releaseInts(I buffer);

    /** The number of floats the buffer holds. */
    int length(F buffer);

    /**
     * A buffer holding {@code values} (one upload). The host returns the array itself, not a copy: leave
     * {@code values} unchanged while the buffer is used.
     */
    F upload(float[] values, Shape shape);

    /** dst[0, length) = src[0, length) (host to backend; nothing happens on the host when dst is src). */
    void upload(F dst, float[] src, int length);

    /** dst[0, length) = src[0, length) (backend to host; nothing happens on the host when dst is src). */
    void download(F src, float[] dst, int length);

    /** Element {@code index} of the buffer (one scalar download). */
    float read(F buffer, int index);

    /** dst[i] = src[i] for i < len. */
    void copy(F dst, F src, int len);

    /** y[i] = v for i < len. */
    void fill(F y, float v, int len);

    // ---- BatchNorm coefficients ---------------------------------------------------------------------

    /**
     * BatchNorm's per-channel coefficients from statistics (the batch's in TRAIN mode, the running ones in
     * EVAL mode): inv = (float) (1 / sqrt(var + eps)) in double, negMeanInv = -mean * inv,
     * scale = gamma * inv, shift = beta - mean * scale; gamma = 1 and beta = 0 when both are null.
     * All four outputs (c) overwritten.
     */
    void bnCoefs(F inv, F negMeanInv, F scale, F shift, F mean, F var, F gamma, F beta, double eps, int c);

    /**
     * The running-statistics update of a TRAIN forward pass, in double: rm = (1 - m) rm + m mean,
     * rv = (1 - m) rv + m var unbias; rm and rv (c) overwritten.
     */
    void bnRunningUpdate(F rm, F rv, F mean, F var, double momentum, double unbias, int c);

    /**
     * gGamma[c] += inv[c] * (the sum over (n, hw) of g * t, in double): the gamma gradient of
     * {@code <g, diag(gamma inv) t>}, EVAL BatchNorm's tangent rule. Accumulates.
     */
    void bnGammaTangent(F gGamma, F g, F t, F inv, int n, int c, int hw);

    // ---- regularizers and training steps (robust.reg, robust.train) -----------------------------------

    /**
     * out = W in for W read as a row-major rows x cols matrix (a weight as the global spectral norm sees it),
     * overwritten. The host sums each output in double and rounds once; another backend may sum in float.
     */
    void matVec(F out, F w, F in, int rows, int cols);

    /** out = W^T in (in: rows, out: cols) for W as in {@link #matVec}, overwritten; the same sums. */
    void matTVec(F out, F w, F in, int rows, int cols);

    /** gW[r, c] += (scale * u[r]) * v[c] for the row-major rows x cols matrix gW, in float. Accumulates. */
    void outerAccumulate(F gW, float scale, F u, F v, int rows, int cols);

    /**
     * dst = src / ||src||_2 over [0, len) (the norm in double on the host, the quotient in double rounded to
     * float) where the norm is &gt; 0; a zero (or NaN) norm leaves dst as it is. dst may be src.
     */
    void normalizeL2(F dst, F src, int len);

    /** out[outOff] = sum_i a[i] b[i] over [0, len), summed in double on the host and rounded once. */
    void innerProduct(F out, int outOff, F a, F b, int len);

    /** out[i] = a[i] + s * b[i] for i &lt; len, in float (s = -1 gives a - b exactly). out may alias a or b. */
    void addScaled(F out, F a, float s, F b, int len);

    /** y[i] = (float) (alpha * x[i]) for i &lt; len, the product in double. y may alias x. */
    void scaleDouble(F y, double alpha, F x, int len);

    /**
     * out[i] = (float) (coef * sign(a[i]) |a[i]|^(q-1)) for i &lt; len, in double (q = 2: coef * a): the gradient
     * of (coef / q) ||a||_q^q, q finite. out may alias a.
     */
    void qPowerGrad(F out, F a, double coef, double q, int len);

    /**
     * out[outOff + r] = sum_j a[r, j] b[r, j] for each of {@code rows} rows of length {@code cols}: the host
     * sums in double and rounds once, another backend may sum in float (a fixed tree).
     */
    void dotRows(F out, int outOff, F a, F b, int rows, int cols);

    /**
     * out = softmax(z_r) - onehot(labels[r]) for every row r (rows x cols): the mean cross-entropy's gradient
     * times rows. A batch (host) or a row (another backend) with a non-finite logit or a bad label gives NaN.
     */
    void softmaxGradRows(F out, F z, I labels, int rows, int cols);

    /**
     * h[r, j] = (float) (coef * p_rj * (w_rj - sum_l p_rl w_rl)) in double, p_r = s_r + onehot(labels[r]) (s
     * from {@link #softmaxGradRows}, so p is the softmax): coef H_r w_r for the cross-entropy's Hessian in the
     * logits. h must not alias s or w.
     */
    void softmaxHessianRows(F h, F s, F w, I labels, int rows, int cols, double coef);

    /** dst[dstOff + i] = src[srcOff + i] for i &lt; len; dst must not be src. */
    void copyRange(F dst, int dstOff, F src, int srcOff, int len);

    /** dst[0, length) = src[0, length) (host to backend, one upload; nothing happens on the host when dst is src). */
    void uploadInts(I dst, int[] src, int length);

    /** out[slot] = the number of NaN / infinite values in x[0, len), as a float. */
    void countNonFinite(F out, int slot, F x, int len);

    /**
     * The softmax cross-entropy of logit rows [rowOff, rowOff + count) of z (rows, k) against labels[0, count):
     * those grad rows overwritten with {@code weight * (float) ((softmax - onehot) / count)} (the gradient of
     * weight times the part's mean loss, softmax in double), lossRow[rowOff + i] with each example's loss
     * (NaN for a non-finite logit or a bad label), correct[rowOff + i] with 1 where the first maximal logit is
     * the label.
     */
    void softmaxXentPart(F grad, F lossRow, F correct, F z, I labels, int rowOff, int count, int k, float weight);

    /**
     * out[outOff] = the mean of lossRow over rows [rowOff, rowOff + count) (a double sum in order), out[outOff + 1]
     * = the sum of correct over them; count &gt;= 1.
     */
    void meanAndCountPart(F out, int outOff, F lossRow, F correct, int rowOff, int count);
}
