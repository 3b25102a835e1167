package dev.opnorm.nn.kernels;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.data.Domain;

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

    // ---- PGA attack (robust.attack.Pga; host arithmetic: AttackRows) ---------------------------------------
    // Per-example statistics live in a float buffer of pgaStatsWidth() values per example whose layout is the
    // backend's own (the host keeps the loss and the norm in double); only pgaReadStats interprets it.
    // q is the adversarial loss: NaN = softmax cross-entropy with the reference label, 1 / 2 / inf = the l_q
    // logit loss ||z - clean||_q. p (1, 2, inf) is the attack norm.

    /** dst[0, length) = src[0, length) (host to backend; nothing happens on the host when dst is src). */
    void uploadInts(I dst, int[] src, int length);

    /** Floats per example of the attack statistics; a statistics buffer starts all zero. */
    int pgaStatsWidth();

    /**
     * The clean prediction (argmax of clean's row, first maximum) and the reference label of each example
     * into stats; with usePredicted, ref is first overwritten with the clean predictions.
     */
    void pgaInitStats(F stats, I ref, F clean, boolean usePredicted, int n, int classes);

    /** gy (n x classes) = dl/df at logits z (loss q), negated when targeted; gy must not alias z or clean. */
    void pgaLossGrad(F gy, F z, F clean, I ref, double q, boolean targeted, int n, int classes);

    /** xk = clamp_domain(x + off) elementwise (off null: clamp_domain(x)). */
    void pgaStart(F xk, F x, F off, Domain domain, int len);

    /**
     * One PGA step on n rows of per values: xk = clamp_domain(x + Proj_eps(xk - x + alpha N_p(g))), or
     * clamp_domain(x + eps N_p(g)) for alpha = inf (l1: coordinates on the boundary whose gradient points
     * outward are left out of N_1); g is overwritten with scratch. xk, g and x are three different buffers.
     */
    void pgaStep(F xk, F g, F x, double p, double alpha, double eps, Domain domain, int n, int per);

    /**
     * The loss and prediction at logits z of restart {@code restart}: an example's kept point is replaced
     * where this restart beats it (restart 0 always does: success first, then the higher loss, targeted the
     * lower), and stats remember for {@link #pgaCopyRowsWhereBetter} whether it did.
     */
    void pgaKeepBest(F stats, F z, F clean, I ref, double q, boolean targeted, int restart, int n, int classes);

    /** dst row r = src row r (rows of len) for the examples whose last {@link #pgaKeepBest} replaced the kept point. */
    void pgaCopyRowsWhereBetter(F dst, F src, F stats, int n, int len);

    /** The perturbation norm ||a_r - b_r||_p (in double) of every example into stats. */
    void pgaNorms(F stats, F a, F b, double p, int n, int per);

    /**
     * The statistics on the host (one download): 7 values per example, clean prediction, reference label,
     * prediction at the kept point, success (0 / 1), loss, perturbation norm, restart of the kept point.
     */
    double[] pgaReadStats(F stats, int n);

    // ---- optimizer updates (nn.optim) -------------------------------------------------------------------

    /**
     * One torch.optim.SGD update of len elements: p and (with momentum) buf overwritten in place from grad
     * (read only). {@code first} marks the parameter's first step (buf = g); buf null: no momentum, whatever
     * the momentum factor. {@code keep = 1 - dampening}; the scalars are the step's, rounded to float.
     */
    void sgdUpdate(F p, F grad, F buf, float weightDecay, float momentum, float keep, float negLr, boolean first,
                   boolean nesterov, int len);

    /**
     * One torch.optim.Adam / AdamW update of len elements: p, m (exp_avg) and v (exp_avg_sq) overwritten.
     * The step's scalars come from the caller: {@code decay = 1 - lr wd} (AdamW, {@code decoupled}),
     * {@code w1 = 1 - beta1}, {@code w2 = 1 - beta2}, {@code negStep = -lr / (1 - beta1^t)},
     * {@code bc2Sqrt = sqrt(1 - beta2^t)}, each rounded to float.
     */
    void adamUpdate(F p, F grad, F m, F v, float weightDecay, float decay, boolean decoupled, float w1, float beta1,
                    float w2, float beta2, float negStep, float bc2Sqrt, float eps, int len);

    /**
     * One torch.optim.RMSprop update of len elements: p, sq (square_avg) and, when given, ga (grad_avg:
     * centered) and buf (momentum_buffer) overwritten; {@code w = 1 - alpha}. ga / buf null: off.
     */
    void rmspropUpdate(F p, F grad, F sq, F ga, F buf, float weightDecay, float alpha, float w, float eps,
                       float momentum, float negLr, int len);

    // ---- power method / (p,q) iteration (linalg BatchOps; rows r < rows of a rows x cols buffer) ---------

    /**
     * out[off + r] = ||a_r||_q for every row, as {@code linalg.Norms.lp} (sums in double, the norm rounded
     * to float once). out must not alias a.
     */
    void rowNorms(F out, int off, F a, int rows, int cols, double q);

    /**
     * y_r = x_r / n_r (the quotient in double, rounded to float) with n_r = norms[off + r], for the rows
     * whose n_r is &gt; 0; the other rows of y (norm 0 or NaN) are left as they are. y may alias x.
     */
    void divideRows(F y, F x, F norms, int off, int rows, int cols);

    /** out_r = D_q(a_r) for every row, as {@code linalg.DualMaps.dual} with its tie rules; out may alias a. */
    void dualRows(F out, F a, int rows, int cols, double q);

    /**
     * v_r = Proj_{||x||_p = 1}(v_r + alpha z_r) for every row, the sum rounded to float and projected as
     * {@code linalg.Projections.ontoSphere}; z is not modified. {@link #checkSphereStep} says which p.
     */
    void sphereStep(F v, F z, double alpha, int rows, int cols, double p);

    /**
     * Fails early when {@link #sphereStep} does not support p on this backend.
     *
     * @throws IllegalArgumentException naming p
     */
    void checkSphereStep(double p);

    /** dst_r = src_r for the rows with flags[r] != 0; other rows untouched. */
    void copyRowsWhere(F dst, F src, I flags, int rows, int cols);

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
