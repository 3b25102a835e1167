package dev.opnorm.gpu;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.kernels.PoolDims;

import dev.opnorm.gpu.OpenCl.Family;

/**
 * The engine's kernels on device-resident data: every method takes {@link DeviceTensor}s of one
 * {@link OpenCl} runtime, ENQUEUES the kernel(s) on the runtime's in-order queue and returns without
 * waiting. A chain of calls (a forward / JVP / VJP chain, power-iteration steps, a training step) thus
 * runs on the device with no host transfer; only explicit downloads ({@link DeviceTensor#download()},
 * {@link DeviceTensor#readScalar}) wait and move data back.
 *
 * <p>The semantics are those of {@link dev.opnorm.nn.kernels.Kernels} (outputs first, {@code Vjp...Weight
 * / Bias} and {@code ...Accumulate} methods ACCUMULATE (+=), all others OVERWRITE), on device buffers
 * instead of arrays; a tensor may be longer than the op needs (only the leading elements are used).
 * Row ops serve the iterations on the device without reading vectors back: {@link #dotRows} (per-row
 * inner products / squared norms, a deterministic tree reduction), {@link #scaleRowsInvSqrt} (normalize
 * rows by those), and the norm ops below ({@link #rowNorms}, {@link #divideRows}, {@link #dualRows},
 * {@link #sphereStep}, {@link #copyRowsWhere}) that linalg's power method and (p,q) iteration use through
 * {@code nn.layers.PlacedBatchOps}.
 *
 * <p>Each kernel's Java twin (the same index formulas in the same order) is in a {@code *Twins} class,
 * in the tests except for the two whose constants callers share. Results are deterministic: no atomics, fixed summation orders; the split of the weight
 * gradient's reduction ({@link #vjpWeightSplits}) depends only on the shape and the device's compute
 * unit count.
 *
 * @throws IllegalArgumentException (every method) when a buffer is too short for the dimensions, or
 *                                  belongs to another runtime
 */
public final class OpenClOps implements Ops<DeviceTensor, DeviceInts> {
    /** Tile width, work-group edge and reduction slice of the tiled kernels (TS, LS, TK in common.cl). */
    static final int TS = 64, LS = 16, TK = 16;

    private final OpenCl cl;
    private DeviceTensor splitScratch; // partial sums of conv2dVjpWeight; grows, reused (in-order queue)
    private DeviceTensor tangentScratch; // bnGammaTangent's scaled tangent; grows, reused
    private DeviceTensor sumsScratch;    // bnGammaTangent's unused channel sums; grows, reused
    private DeviceTensor normScratch;    // normalizeL2's norm (1 float), reused
    private DeviceTensor xentLoss, xentCorrect; // softmaxGradRows' unused per-row losses and flags; grow

    OpenClOps(OpenCl cl) {
        this.cl = cl;
    }

    public OpenCl runtime() {
        return cl;
    }

    @Override
    public String name() {
        return "opencl";
    }

    // ---- memory and transfers (Ops) ----------------------------------------------------------------

    /** An uninitialized device tensor of this shape (no transfer). */
    @Override
    public DeviceTensor allocate(Shape shape) {
        return DeviceTensor.allocate(cl, shape);
    }

    /** An uninitialized device int buffer (no transfer). */
    @Override
    public DeviceInts allocateInts(int length) {
        return DeviceInts.allocate(cl, length);
    }

    @Override
    public void release(DeviceTensor buffer) {
        buffer.close();
    }

    @Override
    public void releaseInts(DeviceInts buffer) {
        buffer.close();
    }

    @Override
    public int length(DeviceTensor buffer) {
        return buffer.length();
    }

    /** A device tensor of this shape holding the first shape.size() values (one upload). */
    @Override
    public DeviceTensor upload(float[] values, Shape shape) {
        DeviceTensor d = DeviceTensor.allocate(cl, shape);
        try {
            d.upload(values, 0, 0, shape.size());
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** One upload of src[0, length) into dst. */
    @Override
    public void upload(DeviceTensor dst, float[] src, int length) {
        dst.upload(src, 0, 0, length);
    }

    /** One download of src[0, length) into dst. */
    @Override
    public void download(DeviceTensor src, float[] dst, int length) {
        src.download(dst, 0, 0, length);
    }

    @Override
    public float read(DeviceTensor buffer, int index) {
        return buffer.readScalar(index);
    }

    // ---- convolution ------------------------------------------------------------------------------

    /** y = conv(x, w) + b; b may be null (the JVP in x). y (n,k,p,q) overwritten. */
    public void conv2dForward(DeviceTensor y, DeviceTensor x, DeviceTensor w, DeviceTensor b, Conv2dDims d) {
        need(y, d.outputSize(), "conv2dForward y");
        need(x, d.inputSize(), "conv2dForward x");
        need(w, d.weightSize(), "conv2dForward w");
        if (b != null) {
            need(b, d.k(), "conv2dForward b");
        }
        int npq = d.n() * d.p() * d.q(), rows = rowTile(d.k());
        cl.launch(Family.CONV2D, rows, "conv2d_forward", tiles2d(npq, d.k(), rows), tileLocal2d(),
                y, x, w, b == null ? y : b, b == null ? 0 : 1,
                d.n(), d.c(), d.h(), d.w(), d.k(), d.r(), d.s(), d.stride(), d.pad(), d.p(), d.q());
    }

    /** gx = conv^T(gy, w), overwritten (n,c,h,w). */
    public void conv2dVjpInput(DeviceTensor gx, DeviceTensor gy, DeviceTensor w, Conv2dDims d) {
        need(gx, d.inputSize(), "conv2dVjpInput gx");
        need(gy, d.outputSize(), "conv2dVjpInput gy");
        need(w, d.weightSize(), "conv2dVjpInput w");
        int nhw = d.n() * d.h() * d.w(), rows = rowTile(d.c());
        cl.launch(Family.CONV2D, rows, "conv2d_vjp_input", tiles2d(nhw, d.c(), rows), tileLocal2d(),
                gx, gy, w, d.n(), d.c(), d.h(), d.w(), d.k(), d.r(), d.s(), d.stride(), d.pad(), d.p(), d.q());
    }

    /** gw += sum_n gy[n] (x) x[n], accumulated (k,c,r,s). */
    public void conv2dVjpWeight(DeviceTensor gw, DeviceTensor gy, DeviceTensor x, Conv2dDims d) {
        conv2dVjpWeight(gw, gy, x, d, vjpWeightSplits(d, cl.device().computeUnits));
    }

    /** As {@link #conv2dVjpWeight(DeviceTensor, DeviceTensor, DeviceTensor, Conv2dDims)} with a given split count. */
    void conv2dVjpWeight(DeviceTensor gw, DeviceTensor gy, DeviceTensor x, Conv2dDims d, int splits) {
        need(gw, d.weightSize(), "conv2dVjpWeight gw");
        need(gy, d.outputSize(), "conv2dVjpWeight gy");
        need(x, d.inputSize(), "conv2dVjpWeight x");
        int l = d.n() * d.p() * d.q();
        int chunk = vjpWeightChunk(l, splits);
        int used = (l + chunk - 1) / chunk;
        int crs = d.c() * d.r() * d.s();
        synchronized (cl) {
            DeviceTensor part = scratch((long) used * d.weightSize());
            int rows = rowTile(d.k());
            long[] g = tiles2d(crs, d.k(), rows);
            cl.launch(Family.CONV2D, rows, "conv2d_vjp_weight_part", new long[]{g[0], g[1], used}, new long[]{LS, LS, 1},
                    part, gy, x, chunk,
                    d.n(), d.c(), d.h(), d.w(), d.k(), d.r(), d.s(), d.stride(), d.pad(), d.p(), d.q());
            cl.launch(Family.CONV2D, "conv2d_vjp_weight_sum", new long[]{d.weightSize()}, null,
                    gw, part, d.weightSize(), used);
        }
    }

    /**
     * How many parts the reduction over (n, p, q) of the weight gradient is split into: enough
     * work-groups for about 4 per compute unit, each part at least 256 terms long.
     */
    public static int vjpWeightSplits(Conv2dDims d, int computeUnits) {
        long tiles = (long) ceilDiv(d.k(), rowTile(d.k())) * ceilDiv(d.c() * d.r() * d.s(), TS);
        int l = d.n() * d.p() * d.q();
        long wanted = ceilDiv(4L * Math.max(1, computeUnits), tiles);
        long maxByLength = Math.max(1, l / 256);
        return (int) Math.max(1, Math.min(wanted, maxByLength));
    }

    /** Length of each split of the weight-gradient reduction (a multiple of the tile depth TK). */
    static int vjpWeightChunk(int l, int splits) {
        if (splits < 1) {
            throw new IllegalArgumentException("splits must be >= 1, got " + splits);
        }
        int chunk = ceilDiv(l, splits);
        return ceilDiv(chunk, TK) * TK;
    }

    /** gb[k] += sum over (n, p, q) of gy, accumulated (k). */
    public void conv2dVjpBias(DeviceTensor gb, DeviceTensor gy, Conv2dDims d) {
        need(gb, d.k(), "conv2dVjpBias gb");
        need(gy, d.outputSize(), "conv2dVjpBias gy");
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.CONV2D, "conv2d_vjp_bias", new long[]{(long) d.k() * wg}, new long[]{wg},
                gb, gy, d.n(), d.k(), d.p() * d.q());
    }

    // ---- dense ------------------------------------------------------------------------------------

    /** Row-major C = alpha op(A) op(B) + beta C with element offsets and leading dimensions (see Kernels.gemm). */
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     DeviceTensor a, int aOff, int lda, DeviceTensor b, int bOff, int ldb,
                     float beta, DeviceTensor c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        }
        if (m == 0 || n == 0) {
            return;
        }
        checkMatrix(a, aOff, lda, transA ? k : m, transA ? m : k, "gemm A");
        checkMatrix(b, bOff, ldb, transB ? n : k, transB ? k : n, "gemm B");
        checkMatrix(c, cOff, ldc, m, n, "gemm C");
        int rows = rowTile(m);
        cl.launch(Family.GEMM, rows, "gemm", tiles2d(n, m, rows), tileLocal2d(),
                transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    // ---- elementwise ------------------------------------------------------------------------------

    /** y[i] = v for i < len. */
    public void fill(DeviceTensor y, float v, int len) {
        need(y, len, "fill y");
        cl.launch(Family.ELEMENTWISE, "fill", new long[]{len}, null, y, v, len);
    }

    /** dst[i] = src[i] for i < len (a device-to-device copy, not a host transfer). */
    public void copy(DeviceTensor dst, DeviceTensor src, int len) {
        need(dst, len, "copy dst");
        need(src, len, "copy src");
        src.checkUsable(cl);
        dst.checkUsable(cl);
        if (len > 0 && dst != src) {
            cl.copy(src.mem, 0, dst.mem, 0, 4L * len);
        }
    }

    /** y = max(x, 0) elementwise (x > 0 strict); y may alias x. */
    public void relu(DeviceTensor y, DeviceTensor x, int len) {
        need(y, len, "relu y");
        need(x, len, "relu x");
        cl.launch(Family.ELEMENTWISE, "relu", new long[]{len}, null, y, x, len);
    }

    /** out = x > 0 ? in : 0 (ReLU's JVP and VJP); out may alias in. */
    public void reluMask(DeviceTensor out, DeviceTensor in, DeviceTensor x, int len) {
        need(out, len, "reluMask out");
        need(in, len, "reluMask in");
        need(x, len, "reluMask x");
        cl.launch(Family.ELEMENTWISE, "relu_mask", new long[]{len}, null, out, in, x, len);
    }

    /** y += a * x. */
    public void axpy(DeviceTensor y, float a, DeviceTensor x, int len) {
        need(y, len, "axpy y");
        need(x, len, "axpy x");
        cl.launch(Family.ELEMENTWISE, "axpy", new long[]{len}, null, y, a, x, len);
    }

    /** y = a + b; y may alias a or b. */
    public void add(DeviceTensor y, DeviceTensor a, DeviceTensor b, int len) {
        need(y, len, "add y");
        need(a, len, "add a");
        need(b, len, "add b");
        cl.launch(Family.ELEMENTWISE, "add", new long[]{len}, null, y, a, b, len);
    }

    /** y = alpha * x; y may alias x. */
    public void scale(DeviceTensor y, float alpha, DeviceTensor x, int len) {
        need(y, len, "scale y");
        need(x, len, "scale x");
        cl.launch(Family.ELEMENTWISE, "scale", new long[]{len}, null, y, alpha, x, len);
    }

    /** c[i, j] += bias[j] for the row-major m x n matrix c. */
    public void addRowBias(DeviceTensor c, DeviceTensor bias, int m, int n) {
        need(c, (long) m * n, "addRowBias c");
        need(bias, n, "addRowBias bias");
        cl.launch(Family.ELEMENTWISE, "add_row_bias", new long[]{(long) m * n}, null, c, bias, m, n);
    }

    /** gb[j] += sum_i g[i, j] (accumulated). */
    public void sumRowsAccumulate(DeviceTensor gb, DeviceTensor g, int m, int n) {
        need(gb, n, "sumRowsAccumulate gb");
        need(g, (long) m * n, "sumRowsAccumulate g");
        cl.launch(Family.ELEMENTWISE, "sum_rows_accumulate", new long[]{n}, null, gb, g, m, n);
    }

    /**
     * out[outOff + r] = sum_i a[r, i] * b[r, i] for each of {@code rows} rows of length {@code cols}
     * (overwritten): per-example inner products; with a == b, squared l2 norms. A tree reduction of fixed
     * shape ({@link OpenCl#reduceWorkGroup()}), so the result is bit-reproducible.
     */
    public void dotRows(DeviceTensor out, int outOff, DeviceTensor a, DeviceTensor b, int rows, int cols) {
        need(out, (long) outOff + rows, "dotRows out");
        need(a, (long) rows * cols, "dotRows a");
        need(b, (long) rows * cols, "dotRows b");
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.ELEMENTWISE, "dot_rows", new long[]{(long) rows * wg}, new long[]{wg},
                out, outOff, a, b, cols);
    }

    /**
     * y[r, i] = x[r, i] / sqrt(ss[ssOff + r]) (overwritten), or 0 for a row whose ss is not positive:
     * normalizes rows by squared norms computed on the device by {@link #dotRows}. y may alias x.
     */
    public void scaleRowsInvSqrt(DeviceTensor y, DeviceTensor x, DeviceTensor ss, int ssOff, int rows, int cols) {
        need(y, (long) rows * cols, "scaleRowsInvSqrt y");
        need(x, (long) rows * cols, "scaleRowsInvSqrt x");
        need(ss, (long) ssOff + rows, "scaleRowsInvSqrt ss");
        cl.launch(Family.ELEMENTWISE, "scale_rows_inv_sqrt", new long[]{(long) rows * cols}, null,
                y, x, ss, ssOff, rows, cols);
    }

    // ---- per-channel (BatchNorm) -----------------------------------------------------------------

    /** Per-channel mean and biased variance of x (n, c, hw), in double; mean, var (c) overwritten. */
    public void channelMeanVar(DeviceTensor mean, DeviceTensor var, DeviceTensor x, int n, int c, int hw) {
        need(mean, c, "channelMeanVar mean");
        need(var, c, "channelMeanVar var");
        need(x, (long) n * c * hw, "channelMeanVar x");
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.BATCHNORM, "channel_mean_var", new long[]{(long) c * wg}, new long[]{wg},
                mean, var, x, n, c, hw);
    }

    /** y = x * scale[c] + shift[c] (shift may be null); y may alias x. */
    public void channelAffine(DeviceTensor y, DeviceTensor x, DeviceTensor scale, DeviceTensor shift,
                              int n, int c, int hw) {
        need(y, (long) n * c * hw, "channelAffine y");
        need(x, (long) n * c * hw, "channelAffine x");
        need(scale, c, "channelAffine scale");
        if (shift != null) {
            need(shift, c, "channelAffine shift");
        }
        cl.launch(Family.BATCHNORM, "channel_affine", new long[]{(long) n * c * hw}, null,
                y, x, scale, shift == null ? scale : shift, shift == null ? 0 : 1, n, c, hw);
    }

    /** out = coef[c] (in - mean(in) - xhat mean(in xhat)), means per channel in double; out must not alias in. */
    public void bnTrainJacobian(DeviceTensor out, DeviceTensor in, DeviceTensor xhat, DeviceTensor coef,
                                int n, int c, int hw) {
        long len = (long) n * c * hw;
        need(out, len, "bnTrainJacobian out");
        need(in, len, "bnTrainJacobian in");
        need(xhat, len, "bnTrainJacobian xhat");
        need(coef, c, "bnTrainJacobian coef");
        if (out == in) {
            throw new IllegalArgumentException("bnTrainJacobian: out must not alias in");
        }
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.BATCHNORM, "bn_train_jacobian", new long[]{(long) c * wg}, new long[]{wg},
                out, in, xhat, coef, n, c, hw);
    }

    /** sumA[c] += sum a; sumAB[c] += sum a*b when b is not null (then sumAB is untouched otherwise). */
    public void channelSumsAccumulate(DeviceTensor sumA, DeviceTensor sumAB, DeviceTensor a, DeviceTensor b,
                                      int n, int c, int hw) {
        long len = (long) n * c * hw;
        need(sumA, c, "channelSumsAccumulate sumA");
        need(a, len, "channelSumsAccumulate a");
        if (b != null) {
            need(b, len, "channelSumsAccumulate b");
            need(sumAB, c, "channelSumsAccumulate sumAB");
        }
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.BATCHNORM, "channel_sums_accumulate", new long[]{(long) c * wg}, new long[]{wg},
                sumA, b == null ? sumA : sumAB, a, b == null ? a : b, b == null ? 0 : 1, n, c, hw);
    }

    /**
     * BatchNorm2d's per-channel coefficients from statistics (batch statistics in TRAIN mode, running
     * ones in EVAL mode), as the host layer computes them: inv = 1/sqrt(var + eps) (in double),
     * negMeanInv = -mean inv, scale = gamma inv, shift = beta - mean scale; gamma = 1, beta = 0 when
     * both are null. All four outputs (c) overwritten.
     */
    public void bnCoefs(DeviceTensor inv, DeviceTensor negMeanInv, DeviceTensor scale, DeviceTensor shift,
                        DeviceTensor mean, DeviceTensor var, DeviceTensor gamma, DeviceTensor beta,
                        double eps, int c) {
        need(inv, c, "bnCoefs inv");
        need(negMeanInv, c, "bnCoefs negMeanInv");
        need(scale, c, "bnCoefs scale");
        need(shift, c, "bnCoefs shift");
        need(mean, c, "bnCoefs mean");
        need(var, c, "bnCoefs var");
        if ((gamma == null) != (beta == null)) {
            throw new IllegalArgumentException("bnCoefs: gamma and beta must both be given or both be null");
        }
        if (gamma != null) {
            need(gamma, c, "bnCoefs gamma");
            need(beta, c, "bnCoefs beta");
        }
        cl.launch(Family.BATCHNORM, "bn_coefs", new long[]{c}, null, inv, negMeanInv, scale, shift, mean, var,
                gamma == null ? mean : gamma, beta == null ? mean : beta, gamma == null ? 0 : 1, eps, c);
    }

    /**
     * The running-statistics update of a TRAIN forward pass: rm = (1-m) rm + m mean,
     * rv = (1-m) rv + m var unbias, in double; rm and rv (c) overwritten.
     */
    public void bnRunningUpdate(DeviceTensor rm, DeviceTensor rv, DeviceTensor mean, DeviceTensor var,
                                double momentum, double unbias, int c) {
        need(rm, c, "bnRunningUpdate rm");
        need(rv, c, "bnRunningUpdate rv");
        need(mean, c, "bnRunningUpdate mean");
        need(var, c, "bnRunningUpdate var");
        cl.launch(Family.BATCHNORM, "bn_running_update", new long[]{c}, null, rm, rv, mean, var, momentum, unbias, c);
    }

    /**
     * gGamma[c] += sum over (n, hw) of g * (t * inv[c]): the tangent rule of EVAL BatchNorm's gamma, as the
     * per-channel scale and the double-accumulated channel sums (the host scales the sum instead; the two
     * agree to rounding).
     */
    @Override
    public void bnGammaTangent(DeviceTensor gGamma, DeviceTensor g, DeviceTensor t, DeviceTensor inv, int n, int c,
                               int hw) {
        long len = (long) n * c * hw;
        need(gGamma, c, "bnGammaTangent gGamma");
        need(g, len, "bnGammaTangent g");
        need(t, len, "bnGammaTangent t");
        need(inv, c, "bnGammaTangent inv");
        tangentScratch = grown(tangentScratch, len);
        sumsScratch = grown(sumsScratch, c);
        channelAffine(tangentScratch, t, inv, null, n, c, hw);
        channelSumsAccumulate(sumsScratch, gGamma, g, tangentScratch, n, c, hw);
    }

    /** s when it holds at least len floats, else a new scratch tensor (s closed). */
    private DeviceTensor grown(DeviceTensor s, long len) {
        if (s != null && s.length() >= len) {
            return s;
        }
        if (s != null) {
            s.close(); // OpenCL defers the release until queued kernels are done with it
        }
        return DeviceTensor.allocate(cl, (int) len);
    }

    // ---- training -----------------------------------------------------------------------------------

    /**
     * Softmax cross-entropy per example on logits z (n, k) with labels (n): grad (n*k) overwritten with
     * (softmax - onehot) / n (the gradient of the MEAN loss), lossRow (n) with each example's loss,
     * correct (n) with 1 where the first maximal logit is the label. A bad label or a non-finite logit
     * gives a NaN loss row.
     */
    public void softmaxXentRows(DeviceTensor grad, DeviceTensor lossRow, DeviceTensor correct, DeviceTensor z,
                                DeviceInts labels, int n, int k) {
        need(grad, (long) n * k, "softmaxXentRows grad");
        need(lossRow, n, "softmaxXentRows lossRow");
        need(correct, n, "softmaxXentRows correct");
        need(z, (long) n * k, "softmaxXentRows z");
        need(labels, n, "softmaxXentRows labels");
        if (grad == z) {
            throw new IllegalArgumentException("softmaxXentRows: grad must not alias the logits");
        }
        cl.launch(Family.TRAINING, "softmax_xent_rows", new long[]{n}, null, grad, lossRow, correct, z, labels, n, k);
    }

    /** out[0] = mean of lossRow[0, n) (double sum in order), out[1] = sum of correct[0, n); out overwritten. */
    public void meanAndCount(DeviceTensor out, DeviceTensor lossRow, DeviceTensor correct, int n) {
        need(out, 2, "meanAndCount out");
        need(lossRow, n, "meanAndCount lossRow");
        need(correct, n, "meanAndCount correct");
        cl.launch(Family.TRAINING, "mean_and_count", new long[]{1}, null, out, lossRow, correct, n);
    }

    /**
     * One torch.optim.SGD update of len elements, as the host's {@code Kernels.sgdUpdate}: p and (with
     * momentum) buf overwritten. {@code first} marks the parameter's first step (buf = g); buf null: no
     * momentum (the host's rule, whatever the momentum factor).
     */
    @Override
    public void sgdUpdate(DeviceTensor p, DeviceTensor grad, DeviceTensor buf, float weightDecay, float momentum,
                          float keep, float negLr, boolean first, boolean nesterov, int len) {
        need(p, len, "sgdUpdate p");
        need(grad, len, "sgdUpdate grad");
        boolean hasMomentum = buf != null;
        if (hasMomentum) {
            need(buf, len, "sgdUpdate buf");
        }
        cl.launch(Family.TRAINING, "sgd_update", new long[]{len}, null, p, grad, hasMomentum ? buf : p,
                weightDecay, momentum, keep, negLr, hasMomentum ? 1 : 0, first ? 1 : 0, nesterov ? 1 : 0, len);
    }

    // ---- pooling ----------------------------------------------------------------------------------

    /** Max pooling: y and argmax (n,c,p,q) overwritten (argmax: flat index into x). */
    public void maxPool2dForward(DeviceTensor y, DeviceInts argmax, DeviceTensor x, PoolDims d) {
        need(y, d.outputSize(), "maxPool2dForward y");
        need(argmax, d.outputSize(), "maxPool2dForward argmax");
        need(x, d.inputSize(), "maxPool2dForward x");
        cl.launch(Family.POOLING, "max_pool_forward", new long[]{d.outputSize()}, null,
                y, argmax, x, d.n(), d.c(), d.h(), d.w(), d.kh(), d.kw(), d.stride(), d.pad(), d.p(), d.q());
    }

    /** dy[o] = dx[argmax[o]], overwritten. */
    public void maxPool2dJvp(DeviceTensor dy, DeviceTensor dx, DeviceInts argmax, PoolDims d) {
        need(dy, d.outputSize(), "maxPool2dJvp dy");
        need(dx, d.inputSize(), "maxPool2dJvp dx");
        need(argmax, d.outputSize(), "maxPool2dJvp argmax");
        cl.launch(Family.POOLING, "max_pool_jvp", new long[]{d.outputSize()}, null, dy, dx, argmax, d.outputSize());
    }

    /** gx[i] = sum of gy[o] over windows o whose argmax is i, overwritten (a deterministic gather). */
    public void maxPool2dVjp(DeviceTensor gx, DeviceTensor gy, DeviceInts argmax, PoolDims d) {
        need(gx, d.inputSize(), "maxPool2dVjp gx");
        need(gy, d.outputSize(), "maxPool2dVjp gy");
        need(argmax, d.outputSize(), "maxPool2dVjp argmax");
        cl.launch(Family.POOLING, "max_pool_vjp", new long[]{d.inputSize()}, null,
                gx, gy, argmax, d.n(), d.c(), d.h(), d.w(), d.kh(), d.kw(), d.stride(), d.pad(), d.p(), d.q());
    }

    /** Average pooling (padding counted in the divisor), y overwritten; also its own JVP. */
    public void avgPool2dForward(DeviceTensor y, DeviceTensor x, PoolDims d) {
        need(y, d.outputSize(), "avgPool2dForward y");
        need(x, d.inputSize(), "avgPool2dForward x");
        cl.launch(Family.POOLING, "avg_pool_forward", new long[]{d.outputSize()}, null,
                y, x, 1f / (d.kh() * d.kw()),
                d.n(), d.c(), d.h(), d.w(), d.kh(), d.kw(), d.stride(), d.pad(), d.p(), d.q());
    }

    /** gx = avgpool^T(gy), overwritten. */
    public void avgPool2dVjp(DeviceTensor gx, DeviceTensor gy, PoolDims d) {
        need(gx, d.inputSize(), "avgPool2dVjp gx");
        need(gy, d.outputSize(), "avgPool2dVjp gy");
        cl.launch(Family.POOLING, "avg_pool_vjp", new long[]{d.inputSize()}, null,
                gx, gy, 1f / (d.kh() * d.kw()),
                d.n(), d.c(), d.h(), d.w(), d.kh(), d.kw(), d.stride(), d.pad(), d.p(), d.q());
    }

    // ---- optimizers and checks of the device training loop (training.cl) ---------------------------

    /**
     * One torch.optim.Adam / AdamW update of len elements, as the host's {@code Kernels.adamUpdate}:
     * p, m (exp_avg), v (exp_avg_sq) overwritten. The step's scalars
     * come from the host: {@code decay = 1 - lr wd} (AdamW), {@code w1 = 1 - beta1}, {@code w2 = 1 - beta2},
     * {@code negStep = -lr / (1 - beta1^t)}, {@code bc2Sqrt = sqrt(1 - beta2^t)}, each rounded to float.
     */
    @Override
    public void adamUpdate(DeviceTensor p, DeviceTensor grad, DeviceTensor m, DeviceTensor v, float weightDecay,
                           float decay, boolean decoupled, float w1, float beta1, float w2, float beta2,
                           float negStep, float bc2Sqrt, float eps, int len) {
        need(p, len, "adamUpdate p");
        need(grad, len, "adamUpdate grad");
        need(m, len, "adamUpdate exp_avg");
        need(v, len, "adamUpdate exp_avg_sq");
        cl.launch(Family.TRAINING, "adam_update", new long[]{len}, null, p, grad, m, v, weightDecay, decay,
                decoupled ? 1 : 0, w1, beta1, w2, beta2, negStep, bc2Sqrt, eps, len);
    }

    /**
     * One torch.optim.RMSprop update of len elements, as the host's {@code Kernels.rmspropUpdate}: p, sq
     * (square_avg) and, when given, ga (grad_avg: centered)
     * and buf (momentum_buffer: momentum &gt; 0) overwritten; {@code w = 1 - alpha}. ga / buf null = off.
     */
    @Override
    public void rmspropUpdate(DeviceTensor p, DeviceTensor grad, DeviceTensor sq, DeviceTensor ga, DeviceTensor buf,
                              float weightDecay, float alpha, float w, float eps, float momentum, float negLr, int len) {
        need(p, len, "rmspropUpdate p");
        need(grad, len, "rmspropUpdate grad");
        need(sq, len, "rmspropUpdate square_avg");
        if (ga != null) {
            need(ga, len, "rmspropUpdate grad_avg");
        }
        if (buf != null) {
            need(buf, len, "rmspropUpdate momentum_buffer");
        }
        cl.launch(Family.TRAINING, "rmsprop_update", new long[]{len}, null, p, grad, sq, ga != null ? ga : sq,
                buf != null ? buf : sq, weightDecay, alpha, w, eps, momentum, negLr, ga != null ? 1 : 0,
                buf != null ? 1 : 0, len);
    }

    /** out[slot] = the number of NaN / infinite values in x[0, len), as a float (one work-group). */
    public void countNonFinite(DeviceTensor out, int slot, DeviceTensor x, int len) {
        need(out, (long) slot + 1, "countNonFinite out");
        need(x, len, "countNonFinite x");
        if (slot < 0) {
            throw new IllegalArgumentException("countNonFinite: negative slot " + slot);
        }
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.TRAINING, "count_nonfinite", new long[]{wg}, new long[]{wg}, out, slot, x, len);
    }

    /**
     * Softmax cross-entropy of logit rows [rowOff, rowOff + count) of z (rows, k) against labels[0, count)
     * (twin {@code TrainingTwins.softmaxXentPartAt} in the tests): those grad rows overwritten with
     * {@code weight * (softmax - onehot) / count} (the gradient of weight times the part's mean loss), lossRow
     * and correct at rows rowOff + i. Objective's clean and adversarial parts of one concatenated batch.
     */
    public void softmaxXentPart(DeviceTensor grad, DeviceTensor lossRow, DeviceTensor correct, DeviceTensor z,
                                DeviceInts labels, int rowOff, int count, int k, float weight) {
        if (rowOff < 0 || count < 0) {
            throw new IllegalArgumentException("softmaxXentPart: rows [" + rowOff + ", +" + count + ")");
        }
        long end = (long) rowOff + count;
        need(grad, end * k, "softmaxXentPart grad");
        need(lossRow, end, "softmaxXentPart lossRow");
        need(correct, end, "softmaxXentPart correct");
        need(z, end * k, "softmaxXentPart z");
        need(labels, count, "softmaxXentPart labels");
        if (grad == z) {
            throw new IllegalArgumentException("softmaxXentPart: grad must not alias the logits");
        }
        cl.launch(Family.TRAINING, "softmax_xent_part", new long[]{count}, null, grad, lossRow, correct, z, labels,
                rowOff, count, k, weight);
    }

    /** out[outOff] = mean of lossRow over rows [rowOff, rowOff + count) (double, in order), out[outOff + 1] = sum of correct. */
    public void meanAndCountPart(DeviceTensor out, int outOff, DeviceTensor lossRow, DeviceTensor correct, int rowOff,
                                 int count) {
        if (outOff < 0 || rowOff < 0 || count < 1) {
            throw new IllegalArgumentException("meanAndCountPart: out offset " + outOff + ", rows [" + rowOff + ", +"
                    + count + ")");
        }
        need(out, (long) outOff + 2, "meanAndCountPart out");
        need(lossRow, (long) rowOff + count, "meanAndCountPart lossRow");
        need(correct, (long) rowOff + count, "meanAndCountPart correct");
        cl.launch(Family.TRAINING, "mean_and_count_part", new long[]{1}, null, out, outOff, lossRow, correct, rowOff,
                count);
    }

    /** dst[dstOff + i] = src[srcOff + i] for i < len (device to device); dst must not be src. */
    public void copyRange(DeviceTensor dst, int dstOff, DeviceTensor src, int srcOff, int len) {
        if (dstOff < 0 || srcOff < 0 || len < 0) {
            throw new IllegalArgumentException("copyRange: offsets " + dstOff + ", " + srcOff + ", length " + len);
        }
        if (dst == src) {
            throw new IllegalArgumentException("copyRange: dst and src must not be the same buffer");
        }
        need(dst, (long) dstOff + len, "copyRange dst");
        need(src, (long) srcOff + len, "copyRange src");
        cl.launch(Family.TRAINING, "copy_range", new long[]{len}, null, dst, dstOff, src, srcOff, len);
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private DeviceTensor scratch(long floats) {
        if (floats > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("scratch of " + floats + " floats is too large");
        }
        if (splitScratch == null || splitScratch.length() < floats) {
            if (splitScratch != null) {
                splitScratch.close(); // OpenCL defers the release until queued kernels are done with it
            }
            splitScratch = DeviceTensor.allocate(cl, (int) floats);
        }
        return splitScratch;
    }

    /**
     * Rows per output tile (the TSM build variant) for an op with {@code m} output rows: the smallest
     * of 16, 32, 64 that covers m, so that few-row ops (a 3-channel input gradient, width-0.25 layers
     * with 32 channels) do not compute mostly padding. Does not change any result.
     */
    static int rowTile(int m) {
        return m <= 16 ? 16 : m <= 32 ? 32 : TS;
    }

    private long[] tiles2d(int cols, int rows, int rowTile) {
        if (cl.device().maxWorkGroupSize < (long) LS * LS) {
            throw new OpenClException("device " + cl.device().name + " allows work-groups of "
                    + cl.device().maxWorkGroupSize + ", the tiled kernels need " + (LS * LS));
        }
        return new long[]{(long) ceilDiv(cols, TS) * LS, (long) ceilDiv(rows, rowTile) * LS};
    }

    private static long[] tileLocal2d() {
        return new long[]{LS, LS};
    }

    private void need(DeviceBuffer t, long count, String what) {
        if (t == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        t.checkUsable(cl);
        if (count < 0 || count > t.length()) {
            throw new IllegalArgumentException(what + ": needs " + count + " elements, " + t + " has " + t.length());
        }
    }

    private void checkMatrix(DeviceTensor t, int off, int ld, int rows, int cols, String what) {
        if (off < 0 || ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(what + ": offset " + off + " / leading dimension " + ld
                    + " invalid for a " + rows + " x " + cols + " matrix");
        }
        if (rows > 0 && cols > 0) {
            need(t, (long) off + (long) (rows - 1) * ld + cols, what);
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    // ---- per-example norms and dual maps (norms.cl; the (p,q) iteration and d.d. regularizers) ---------

    /**
     * out[outOff + r] = ||a[r, 0..cols)||_q for each of {@code rows} rows (overwritten), as
     * {@code linalg.Norms.lp} (sums in double, rounded to float once): q = 1, 2, inf exactly, other q >= 1
     * with the max-rescaling. One work-group per row, a fixed tree: bit-reproducible.
     *
     * @throws IllegalArgumentException for q &lt; 1 or NaN, short buffers, or out == a
     */
    @Override
    public void rowNorms(DeviceTensor out, int outOff, DeviceTensor a, int rows, int cols, double q) {
        checkExponent(q, "rowNorms q");
        need(out, (long) outOff + rows, "rowNorms out");
        need(a, (long) rows * cols, "rowNorms a");
        if (outOff < 0) {
            throw new IllegalArgumentException("rowNorms: negative output offset " + outOff);
        }
        if (out == a) {
            throw new IllegalArgumentException("rowNorms: out must not alias a (other rows are still being read)");
        }
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.NORMS, "row_norms", new long[]{(long) rows * wg}, new long[]{wg}, out, outOff, a, cols, q);
    }

    /**
     * out[r, .] = D_q(a[r, .]) for each row (overwritten; out may alias a): the dual map of
     * {@code linalg.DualMaps.dual} with its conventions (zero row -> zero, sign(0) = 0, ties of the
     * q = inf map share the mass equally). The steepest-ascent map N_p is {@code dualRows(.., conjugate(p))}.
     *
     * @throws IllegalArgumentException for q &lt; 1 or NaN, or short buffers
     */
    @Override
    public void dualRows(DeviceTensor out, DeviceTensor a, int rows, int cols, double q) {
        checkExponent(q, "dualRows q");
        need(out, (long) rows * cols, "dualRows out");
        need(a, (long) rows * cols, "dualRows a");
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.NORMS, "dual_rows", new long[]{(long) rows * wg}, new long[]{wg}, out, a, cols, q);
    }

    /** dst[r, .] = src[r, .] for the rows with flags[r] != 0; other rows untouched. */
    @Override
    public void copyRowsWhere(DeviceTensor dst, DeviceTensor src, DeviceInts flags, int rows, int cols) {
        need(dst, (long) rows * cols, "copyRowsWhere dst");
        need(src, (long) rows * cols, "copyRowsWhere src");
        need(flags, rows, "copyRowsWhere flags");
        cl.launch(Family.NORMS, "copy_rows_where", new long[]{(long) rows * cols}, null, dst, src, flags, rows, cols);
    }

    /**
     * y[r, .] = x[r, .] / n[nOff + r] (the quotient in double, rounded to float) for the rows whose n is
     * &gt; 0; rows with n = 0 or NaN are left as they are. y may alias x: the row normalization of the
     * power method by norms from {@link #rowNorms}.
     */
    @Override
    public void divideRows(DeviceTensor y, DeviceTensor x, DeviceTensor n, int nOff, int rows, int cols) {
        need(y, (long) rows * cols, "divideRows y");
        need(x, (long) rows * cols, "divideRows x");
        need(n, (long) nOff + rows, "divideRows n");
        if (nOff < 0) {
            throw new IllegalArgumentException("divideRows: negative norm offset " + nOff);
        }
        cl.launch(Family.NORMS, "divide_rows", new long[]{(long) rows * cols}, null, y, x, n, nOff, rows, cols);
    }

    /** y[i] = (float) (alpha * x[i]), the product in double; y may alias x. */
    public void scaleDouble(DeviceTensor y, double alpha, DeviceTensor x, int len) {
        need(y, len, "scaleDouble y");
        need(x, len, "scaleDouble x");
        cl.launch(Family.NORMS, "scale_double", new long[]{len}, null, y, alpha, x, len);
    }

    /**
     * g[i] = (float) (coef * sign(d_i) |d_i|^(q-1)) in double (overwritten; g may alias d): the gradient
     * of (coef / q) ||d||_q^q.
     *
     * @throws IllegalArgumentException for q &lt; 1, NaN or inf
     */
    public void qPowerGrad(DeviceTensor g, DeviceTensor d, double coef, double q, int len) {
        checkExponent(q, "qPowerGrad q");
        if (Double.isInfinite(q)) {
            throw new IllegalArgumentException("qPowerGrad: q must be finite, got inf");
        }
        need(g, len, "qPowerGrad g");
        need(d, len, "qPowerGrad d");
        cl.launch(Family.NORMS, "q_power_grad", new long[]{len}, null, g, d, coef, q, len);
    }

    private static void checkExponent(double q, String what) {
        if (!(q >= 1)) {
            throw new IllegalArgumentException(what + ": norm exponent must be >= 1 (or inf), got " + q);
        }
    }

    // ---- the finite-alpha step of the (p,q) iteration (norms.cl sphere_step_*; test twins SphereTwins) ---

    /** The fill value of a zero y for p = 1 or 2 (Projections: n^(-1/p)), passed to the kernels as a float. */
    public static float zeroFill(double p, int cols) {
        return (float) Math.pow(cols, -1 / p);
    }

    /**
     * v[r, .] = Proj_{||x||_p = 1}(v[r, .] + alpha z[r, .]) for each row (v overwritten in place), with
     * y = (float) (v + alpha z) in double and the projection of {@code linalg.Projections.ontoSphere}
     * (radius 1, computed in double, rounded to float once): p = 2 the radial rescale; p = inf clip from
     * outside, the first largest |y_i| moved to +-1 from inside; p = 1 the l1 ball projection from
     * outside (threshold by bisection, closed form on its support), y + delta sign(y) from inside; a
     * zero y goes to n^(-1/p) (1, ..., 1) (p = 1, 2) or e_0 (inf). One work-group per row.
     *
     * @throws IllegalArgumentException for p other than 1, 2, inf (naming p), alpha not finite and &gt; 0,
     *                                  or short buffers
     */
    @Override
    public void sphereStep(DeviceTensor v, DeviceTensor z, double alpha, int rows, int cols, double p) {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("sphereStep: alpha must be finite and > 0, got " + alpha);
        }
        need(v, (long) rows * cols, "sphereStep v");
        need(z, (long) rows * cols, "sphereStep z");
        if (cols < 1) {
            throw new IllegalArgumentException("sphereStep: rows need at least one column, got " + cols);
        }
        int wg = cl.reduceWorkGroup();
        long[] global = {(long) rows * wg}, local = {wg};
        if (p == 2) {
            cl.launch(Family.NORMS, "sphere_step_l2", global, local, v, z, alpha, cols, zeroFill(2, cols));
        } else if (p == Double.POSITIVE_INFINITY) {
            cl.launch(Family.NORMS, "sphere_step_linf", global, local, v, z, alpha, cols);
        } else if (p == 1) {
            cl.launch(Family.NORMS, "sphere_step_l1", global, local, v, z, alpha, cols, zeroFill(1, cols));
        } else {
            throw new IllegalArgumentException("sphereStep: the device projects onto the l_p sphere for p = 1, 2, inf "
                    + "only, got p = " + p);
        }
    }

    /**
     * h[r, j] = (float) (coef * p_rj * (w_rj - sum_l p_rl w_rl)) for rows r &lt; rows of length k, with
     * p_r = s_r + onehot(labels[r]) (s = softmax - onehot, so p is the softmax), in double (overwritten):
     * coef H_r w_r for the cross-entropy's Hessian in the logits H_r = diag(p_r) - p_r p_r^T. h must not alias
     * s or w.
     */
    public void softmaxHessianRows(DeviceTensor h, DeviceTensor s, DeviceTensor w, DeviceInts labels, int rows, int k,
                                   double coef) {
        need(h, (long) rows * k, "softmaxHessianRows h");
        need(s, (long) rows * k, "softmaxHessianRows s");
        need(w, (long) rows * k, "softmaxHessianRows w");
        need(labels, rows, "softmaxHessianRows labels");
        if (h == s || h == w) {
            throw new IllegalArgumentException("softmaxHessianRows: h must not alias s or w");
        }
        cl.launch(Family.TRAINING, "softmax_hessian_rows", new long[]{rows}, null, h, s, w, labels, rows, k, coef);
    }

    // ---- PGA attack (attack.cl; test twins AttackTwins) ------------------------------------------------------
    // Statistics: n rows of PGA_STATS floats, 0 clean prediction, 1 reference label, 2 prediction at the kept
    // point, 3 success (0 / 1), 4 loss at the kept point, 5 ||x* - x||_p, 6 restart of the kept point, 7 whether
    // the last restart was better. Kernel codes: norm p = 1, 2 or 3 (inf); loss 0 = cross-entropy, 1 / 2 / 3 =
    // the l_1 / l_2 / l_inf logit loss. Losses, norms and projections are computed in double (cl_khr_fp64).

    /** Floats per example of the device's attack statistics. */
    public static final int PGA_STATS = 8;

    @Override
    public void uploadInts(DeviceInts dst, int[] src, int length) {
        need(dst, length, "uploadInts dst");
        dst.upload(src, length);
    }

    @Override
    public int pgaStatsWidth() {
        return PGA_STATS;
    }

    @Override
    public void pgaInitStats(DeviceTensor stats, DeviceInts ref, DeviceTensor clean, boolean usePredicted, int n,
                             int k) {
        need(stats, (long) n * PGA_STATS, "pgaInitStats stats");
        need(ref, n, "pgaInitStats ref");
        need(clean, (long) n * k, "pgaInitStats clean");
        cl.launch(Family.ATTACK, "attack_init_stats", new long[]{n}, null, stats, ref, clean, usePredicted ? 1 : 0, n, k);
    }

    @Override
    public void pgaLossGrad(DeviceTensor gy, DeviceTensor z, DeviceTensor clean, DeviceInts ref, double q,
                            boolean targeted, int n, int k) {
        need(gy, (long) n * k, "pgaLossGrad gy");
        need(z, (long) n * k, "pgaLossGrad z");
        need(clean, (long) n * k, "pgaLossGrad clean");
        need(ref, n, "pgaLossGrad ref");
        if (gy == z || gy == clean) {
            throw new IllegalArgumentException("pgaLossGrad: gy must not alias the logits");
        }
        cl.launch(Family.ATTACK, "attack_loss_grad", new long[]{n}, null, gy, z, clean, ref, lossCode(q),
                targeted ? 1 : 0, n, k);
    }

    @Override
    public void pgaStart(DeviceTensor xk, DeviceTensor x, DeviceTensor off, Domain domain, int len) {
        need(xk, len, "pgaStart xk");
        need(x, len, "pgaStart x");
        if (off != null) {
            need(off, len, "pgaStart off");
        }
        cl.launch(Family.ATTACK, "attack_start", new long[]{len}, null, xk, x, off == null ? x : off,
                off == null ? 0 : 1, domain.low(), domain.high(), len);
    }

    /**
     * pga_direction, pga_offset and the projection of p in attack.cl; g overwritten with the direction, then
     * the offsets.
     */
    @Override
    public void pgaStep(DeviceTensor xk, DeviceTensor g, DeviceTensor x, double p, double alpha, double eps,
                        Domain domain, int n, int per) {
        long len = (long) n * per;
        need(xk, len, "pgaStep xk");
        need(g, len, "pgaStep g");
        need(x, len, "pgaStep x");
        int code = normCode(p);
        if (xk == g || xk == x || g == x) {
            throw new IllegalArgumentException("pgaStep: xk, g and x must be three different tensors");
        }
        boolean infinite = alpha == Double.POSITIVE_INFINITY;
        double step = infinite ? 1 : alpha;
        if (!(eps > 0) || !(step > 0)) {
            throw new IllegalArgumentException("pgaStep: eps = " + eps + " and alpha = " + alpha + " must be > 0");
        }
        float lo = domain.low(), hi = domain.high();
        int wg = cl.reduceWorkGroup();
        long[] rows = {(long) n * wg}, group = {wg};
        cl.launch(Family.ATTACK, "pga_direction", rows, group, g, xk, code, lo, hi, per);
        cl.launch(Family.ATTACK, "pga_offset", new long[]{len}, null, xk, g, x, step, eps, infinite ? 1 : 0,
                lo, hi, (int) len);
        if (infinite) {
            return;
        }
        if (code == 1) {
            cl.launch(Family.ATTACK, "project_l1_clamp", rows, group, xk, g, x, eps, lo, hi, per);
        } else if (code == 2) {
            cl.launch(Family.ATTACK, "project_l2_clamp", rows, group, xk, g, x, eps, lo, hi, per);
        } else {
            cl.launch(Family.ATTACK, "project_linf_clamp", new long[]{len}, null, xk, g, x, eps, lo, hi, (int) len);
        }
    }

    @Override
    public void pgaKeepBest(DeviceTensor stats, DeviceTensor z, DeviceTensor clean, DeviceInts ref, double q,
                            boolean targeted, int restart, int n, int k) {
        need(stats, (long) n * PGA_STATS, "pgaKeepBest stats");
        need(z, (long) n * k, "pgaKeepBest z");
        need(clean, (long) n * k, "pgaKeepBest clean");
        need(ref, n, "pgaKeepBest ref");
        cl.launch(Family.ATTACK, "attack_keep_best", new long[]{n}, null, stats, z, clean, ref, lossCode(q),
                targeted ? 1 : 0, restart, n, k);
    }

    @Override
    public void pgaCopyRowsWhereBetter(DeviceTensor dst, DeviceTensor src, DeviceTensor stats, int n, int len) {
        need(dst, (long) n * len, "pgaCopyRowsWhereBetter dst");
        need(src, (long) n * len, "pgaCopyRowsWhereBetter src");
        need(stats, (long) n * PGA_STATS, "pgaCopyRowsWhereBetter stats");
        cl.launch(Family.ATTACK, "copy_rows_where_better", new long[]{(long) n * len}, null, dst, src, stats, n, len);
    }

    /** stats[r, 5] = ||a_r - b_r||_p (in double, then float). */
    @Override
    public void pgaNorms(DeviceTensor stats, DeviceTensor a, DeviceTensor b, double p, int n, int per) {
        need(stats, (long) n * PGA_STATS, "pgaNorms stats");
        need(a, (long) n * per, "pgaNorms a");
        need(b, (long) n * per, "pgaNorms b");
        int code = normCode(p);
        int wg = cl.reduceWorkGroup();
        cl.launch(Family.ATTACK, "attack_norms", new long[]{(long) n * wg}, new long[]{wg}, stats, a, b, code, per);
    }

    @Override
    public double[] pgaReadStats(DeviceTensor stats, int n) {
        float[] st = new float[n * PGA_STATS];
        download(stats, st, st.length);
        double[] out = new double[n * 7];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 7; j++) {
                out[i * 7 + j] = st[i * PGA_STATS + j];
            }
        }
        return out;
    }

    /** The kernel code of an attack norm: 1, 2, or 3 for inf. */
    static int normCode(double p) {
        if (p == 1) {
            return 1;
        }
        if (p == 2) {
            return 2;
        }
        if (p == Double.POSITIVE_INFINITY) {
            return 3;
        }
        throw new IllegalArgumentException("unknown attack norm p = " + p + ": supported are p in {1, 2, inf}");
    }

    /** The kernel code of an adversarial loss: 0 cross-entropy (q = NaN), 1 / 2 / 3 the l_1 / l_2 / l_inf logit loss. */
    static int lossCode(double q) {
        if (Double.isNaN(q)) {
            return 0;
        }
        if (q == 1 || q == 2 || q == Double.POSITIVE_INFINITY) {
            return normCode(q);
        }
        throw new IllegalArgumentException("unknown logit loss q = " + q + ": supported are q in {1, 2, inf} "
                + "(NaN: cross-entropy)");
    }

    // ---- optimizer updates (nn.optim; sgdUpdate, adamUpdate, rmspropUpdate are with training.cl above) ----

    /** Names the device, for the optimizer's "state is on ..." messages ({@code nn.optim.KernelUpdateOps}). */
    @Override
    public String toString() {
        return "the OpenCL device " + cl.device().name;
    }

    // ---- power method / (p,q) iteration (linalg BatchOps; the row kernels are with norms.cl above) ----

    /**
     * @throws IllegalArgumentException for p other than 1, 2, inf: the projection from outside other l_p balls
     *                                  is a nested bisection / Newton solve the device does not implement
     */
    @Override
    public void checkSphereStep(double p) {
        Norms.checkP(p, "p");
        if (!(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("the device (p,q) iteration with a finite alpha projects onto the l_p "
                    + "sphere for p = 1, 2, inf only, got p = " + Norms.format(p) + " (use alpha = inf, or the CPU backend)");
        }
    }

    // ---- regularizers and training steps (robust.reg, robust.train) -----------------------------------

    /** A gemm with one output column (float sums). */
    @Override
    public void matVec(DeviceTensor out, DeviceTensor w, DeviceTensor in, int rows, int cols) {
        gemm(false, false, rows, 1, cols, 1f, w, 0, cols, in, 0, 1, 0f, out, 0, 1);
    }

    /** The transposed gemm with one output column (float sums). */
    @Override
    public void matTVec(DeviceTensor out, DeviceTensor w, DeviceTensor in, int rows, int cols) {
        gemm(true, false, cols, 1, rows, 1f, w, 0, cols, in, 0, 1, 0f, out, 0, 1);
    }

    /** A rank-1 gemm into gW (beta = 1). */
    @Override
    public void outerAccumulate(DeviceTensor gW, float scale, DeviceTensor u, DeviceTensor v, int rows, int cols) {
        gemm(false, true, rows, cols, 1, scale, u, 0, 1, v, 0, 1, 1f, gW, 0, cols);
    }

    /** {@link #rowNorms} of the one row into a scratch float, then {@link #divideRows} (zero norm: unchanged). */
    @Override
    public void normalizeL2(DeviceTensor dst, DeviceTensor src, int len) {
        if (normScratch == null) {
            normScratch = DeviceTensor.allocate(cl, 1);
        }
        rowNorms(normScratch, 0, src, 1, len, 2);
        divideRows(dst, src, normScratch, 0, 1, len);
    }

    /** {@link #dotRows} of one row (a float tree reduction). */
    @Override
    public void innerProduct(DeviceTensor out, int outOff, DeviceTensor a, DeviceTensor b, int len) {
        dotRows(out, outOff, a, b, 1, len);
    }

    /** s * b rounded to float, then a + it (an unfused a + s * b), as scale + add or copy + axpy. */
    @Override
    public void addScaled(DeviceTensor out, DeviceTensor a, float s, DeviceTensor b, int len) {
        if (out == b && out != a) {
            scale(out, s, b, len);
            add(out, a, out, len);
        } else {
            if (out != a) {
                copy(out, a, len);
            }
            axpy(out, s, b, len);
        }
    }

    /** softmax_xent_rows (per-row loss and correct flags to scratch), then the gradient times rows. */
    @Override
    public void softmaxGradRows(DeviceTensor out, DeviceTensor z, DeviceInts labels, int rows, int cols) {
        if (xentLoss == null || xentLoss.length() < rows) {
            if (xentLoss != null) {
                xentLoss.close(); // OpenCL defers the release until queued kernels are done with it
                xentCorrect.close();
            }
            xentLoss = DeviceTensor.allocate(cl, rows);
            xentCorrect = DeviceTensor.allocate(cl, rows);
        }
        softmaxXentRows(out, xentLoss, xentCorrect, z, labels, rows, cols);
        scale(out, (float) rows, out, rows * cols);
    }

    /** One upload of src[0, length) into dst. */
}
