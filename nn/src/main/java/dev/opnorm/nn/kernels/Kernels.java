package dev.opnorm.nn.kernels;

import dev.opnorm.linalg.HostBatchOps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;

import java.util.Arrays;

/**
 * The primitive operations on host arrays: {@link Ops} with {@code F = float[]}, {@code I = int[]}. Several
 * implementations:
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
public interface Kernels extends Ops<float[], int[]> {

    // The memory, transfer and BatchNorm-coefficient operations are the same plain loops for every host
    // implementation: they are defined once here (the layers computed exactly these before they were
    // written against Ops, so the results are bit for bit the same).

    @Override
    default float[] allocate(Shape shape) {
        return new float[shape.size()];
    }

    @Override
    default int[] allocateInts(int length) {
        return new int[length];
    }

    @Override
    default void release(float[] buffer) {
    }

    @Override
    default void releaseInts(int[] buffer) {
    }

    @Override
    default int length(float[] buffer) {
        return buffer.length;
    }

    @Override
    default float[] upload(float[] values, Shape shape) {
        if (values.length < shape.size()) {
            throw new IllegalArgumentException("upload: " + values.length + " floats for shape " + shape);
        }
        return values;
    }

    @Override
    default void upload(float[] dst, float[] src, int length) {
        if (dst != src) {
            System.arraycopy(src, 0, dst, 0, length);
        }
    }

    @Override
    default void download(float[] src, float[] dst, int length) {
        if (dst != src) {
            System.arraycopy(src, 0, dst, 0, length);
        }
    }

    @Override
    default float read(float[] buffer, int index) {
        return buffer[index];
    }

    @Override
    default void copy(float[] dst, float[] src, int len) {
        System.arraycopy(src, 0, dst, 0, len);
    }

    @Override
    default void fill(float[] y, float v, int len) {
        java.util.Arrays.fill(y, 0, len, v);
    }

    @Override
    default void bnCoefs(float[] inv, float[] negMeanInv, float[] scale, float[] shift, float[] mean, float[] var,
                         float[] gamma, float[] beta, double eps, int c) {
        if ((gamma == null) != (beta == null)) {
            throw new IllegalArgumentException("bnCoefs: gamma and beta must both be given or both be null");
        }
        for (int i = 0; i < c; i++) {
            float iv = (float) (1.0 / Math.sqrt((double) var[i] + eps));
            inv[i] = iv;
            negMeanInv[i] = -mean[i] * iv;
            float s = (gamma == null ? 1f : gamma[i]) * iv;
            scale[i] = s;
            shift[i] = (beta == null ? 0f : beta[i]) - mean[i] * s;
        }
    }

    @Override
    default void bnRunningUpdate(float[] rm, float[] rv, float[] mean, float[] var, double momentum, double unbias,
                                 int c) {
        for (int i = 0; i < c; i++) {
            rm[i] = (float) ((1 - momentum) * rm[i] + momentum * mean[i]);
            rv[i] = (float) ((1 - momentum) * rv[i] + momentum * var[i] * unbias);
        }
    }

    @Override
    default void bnGammaTangent(float[] gGamma, float[] g, float[] t, float[] inv, int n, int c, int hw) {
        for (int ch = 0; ch < c; ch++) {
            double sum = 0; // double over the batch: the sum runs over n*h*w products
            for (int b = 0; b < n; b++) {
                int off = (b * c + ch) * hw;
                for (int i = 0; i < hw; i++) {
                    sum += (double) g[off + i] * t[off + i];
                }
            }
            gGamma[ch] += (float) (sum * inv[ch]);
        }
    }

    // ---- PGA attack: the host arithmetic (AttackRows), the same for every host implementation ------------

    // ---- optimizer updates (nn.optim) -------------------------------------------------------------------
    // The reference arithmetic of the optimizers, the same for every host implementation: state and
    // element-wise math in float, one line per libtorch tensor operation, with Math.fma exactly where
    // libtorch's vectorized CPU kernels fuse (add(x, alpha), addcmul) and not where they do not (addcdiv).
    // Element-wise, so the result does not depend on threads or vector width.

    @Override
    default void sgdUpdate(float[] p, float[] grad, float[] buf, float wd, float mom, float keep, float negLr,
                           boolean first, boolean nesterov, int length) {
        for (int j = 0; j < length; j++) {
            float g = grad[j];
            if (wd != 0) {
                g = Math.fma(wd, p[j], g);
            }
            if (buf != null) {
                float b = first ? g : Math.fma(keep, g, buf[j] * mom);
                buf[j] = b;
                g = nesterov ? Math.fma(mom, b, g) : b;
            }
            p[j] = Math.fma(negLr, g, p[j]);
        }
    }

    @Override
    default void adamUpdate(float[] p, float[] grad, float[] m, float[] v, float wd, float decay, boolean decoupled,
                            float w1, float b1, float w2, float b2, float negStep, float bc2Sqrt, float eps,
                            int length) {
        for (int j = 0; j < length; j++) {
            float g = grad[j];
            if (wd != 0) {
                if (decoupled) {
                    p[j] = p[j] * decay;
                } else {
                    g = Math.fma(wd, p[j], g);
                }
            }
            m[j] = Math.fma(w1, g, m[j] * b1);
            v[j] = Math.fma(w2 * g, g, v[j] * b2);
            float denom = (float) Math.sqrt(v[j]) / bc2Sqrt + eps;
            p[j] = p[j] + negStep * m[j] / denom;
        }
    }

    @Override
    default void rmspropUpdate(float[] p, float[] grad, float[] sq, float[] ga, float[] buf, float wd, float alpha,
                               float w, float eps, float mom, float negLr, int length) {
        for (int j = 0; j < length; j++) {
            float g = grad[j];
            if (wd != 0) {
                g = Math.fma(wd, p[j], g);
            }
            sq[j] = Math.fma(w * g, g, sq[j] * alpha);
            float avg;
            if (ga != null) {
                ga[j] = Math.fma(w, g, ga[j] * alpha);
                avg = (float) Math.sqrt(Math.fma(-ga[j], ga[j], sq[j])) + eps;
            } else {
                avg = (float) Math.sqrt(sq[j]) + eps;
            }
            if (buf != null) {
                buf[j] = buf[j] * mom + g / avg;
                p[j] = Math.fma(negLr, buf[j], p[j]);
            } else {
                p[j] = p[j] + negLr * g / avg;
            }
        }
    }

    // ---- power method / (p,q) iteration (linalg BatchOps) -------------------------------------------
    // linalg's HostBatchOps is the reference: the vector maps are its own methods (so bit for bit the
    // same), the norms its Norms.lp per row kept as floats (the scalars of the contract are F buffers).

    @Override
    default void rowNorms(float[] out, int off, float[] a, int rows, int cols, double q) {
        for (int r = 0; r < rows; r++) {
            out[off + r] = (float) Norms.lp(a, r * cols, cols, q);
        }
    }

    /** As HostBatchOps' division, by the float norms. */
    @Override
    default void divideRows(float[] y, float[] x, float[] norms, int off, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double n = norms[off + r];
            if (!(n > 0)) {
                continue;
            }
            for (int j = r * cols; j < (r + 1) * cols; j++) {
                y[j] = (float) (x[j] / n);
            }
        }
    }

    @Override
    default void dualRows(float[] out, float[] a, int rows, int cols, double q) {
        HostBatchOps.INSTANCE.dualRows(out, a, rows, cols, q);
    }

    @Override
    default void sphereStep(float[] v, float[] z, double alpha, int rows, int cols, double p) {
        HostBatchOps.INSTANCE.sphereStep(v, z, alpha, rows, cols, p);
    }

    @Override
    default void checkSphereStep(double p) {
        HostBatchOps.INSTANCE.checkSphereStep(p);
    }

    @Override
    default void copyRowsWhere(float[] dst, float[] src, int[] flags, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            if (flags[r] != 0) {
                System.arraycopy(src, r * cols, dst, r * cols, cols);
            }
        }
    }

    @Override
    default void uploadInts(int[] dst, int[] src, int length) {
        if (dst != src) {
            System.arraycopy(src, 0, dst, 0, length);
        }
    }

    @Override
    default int pgaStatsWidth() {
        return AttackRows.STATS;
    }

    @Override
    default void pgaInitStats(float[] stats, int[] ref, float[] clean, boolean usePredicted, int n, int classes) {
        AttackRows.initStats(stats, ref, clean, usePredicted, n, classes);
    }

    @Override
    default void pgaLossGrad(float[] gy, float[] z, float[] clean, int[] ref, double q, boolean targeted, int n,
                             int classes) {
        AttackRows.lossGrad(gy, z, clean, ref, q, targeted, n, classes);
    }

    @Override
    default void pgaStart(float[] xk, float[] x, float[] off, Domain domain, int len) {
        AttackRows.start(xk, x, off, domain, len);
    }

    @Override
    default void pgaStep(float[] xk, float[] g, float[] x, double p, double alpha, double eps, Domain domain, int n,
                         int per) {
        AttackRows.step(xk, g, x, p, alpha, eps, domain, n, per);
    }

    @Override
    default void pgaKeepBest(float[] stats, float[] z, float[] clean, int[] ref, double q, boolean targeted,
                             int restart, int n, int classes) {
        AttackRows.keepBest(stats, z, clean, ref, q, targeted, restart, n, classes);
    }

    @Override
    default void pgaCopyRowsWhereBetter(float[] dst, float[] src, float[] stats, int n, int len) {
        AttackRows.copyRowsWhereBetter(dst, src, stats, n, len);
    }

    @Override
    default void pgaNorms(float[] stats, float[] a, float[] b, double p, int n, int per) {
        AttackRows.norms(stats, a, b, p, n, per);
    }

    @Override
    default double[] pgaReadStats(float[] stats, int n) {
        return AttackRows.read(stats, n);
    }

    // ---- regularizers and training steps (robust.reg, robust.train) -----------------------------------
    // The reference arithmetic of the regularizers and the training step, moved here unchanged from robust's
    // host operations: every host implementation computes exactly these loops.

    @Override
    default void matVec(float[] out, float[] w, float[] in, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                s += (double) w[off + c] * in[c];
            }
            out[r] = (float) s;
        }
    }

    @Override
    default void matTVec(float[] out, float[] w, float[] in, int rows, int cols) {
        double[] acc = new double[cols];
        for (int r = 0; r < rows; r++) {
            double ur = in[r];
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                acc[c] += ur * w[off + c];
            }
        }
        for (int c = 0; c < cols; c++) {
            out[c] = (float) acc[c];
        }
    }

    @Override
    default void outerAccumulate(float[] gW, float scale, float[] u, float[] v, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float su = scale * u[r];
            int off = r * cols;
            for (int c = 0; c < cols; c++) {
                gW[off + c] += su * v[c];
            }
        }
    }

    @Override
    default void normalizeL2(float[] dst, float[] src, int len) {
        double n = Norms.lp(src, 0, len, 2);
        if (n > 0) {
            for (int j = 0; j < len; j++) {
                dst[j] = (float) (src[j] / n);
            }
        }
    }

    @Override
    default void innerProduct(float[] out, int outOff, float[] a, float[] b, int len) {
        out[outOff] = (float) Norms.dot(a, 0, b, 0, len);
    }

    @Override
    default void addScaled(float[] out, float[] a, float s, float[] b, int len) {
        for (int j = 0; j < len; j++) {
            out[j] = a[j] + s * b[j];
        }
    }

    @Override
    default void scaleDouble(float[] y, double alpha, float[] x, int len) {
        for (int j = 0; j < len; j++) {
            y[j] = (float) (alpha * x[j]);
        }
    }

    @Override
    default void qPowerGrad(float[] out, float[] a, double coef, double q, int len) {
        for (int j = 0; j < len; j++) {
            double d = a[j];
            out[j] = (float) (coef * Math.signum(d) * (q == 2 ? Math.abs(d) : StrictMath.pow(Math.abs(d), q - 1)));
        }
    }

    @Override
    default void dotRows(float[] out, int outOff, float[] a, float[] b, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            out[outOff + r] = (float) Norms.dot(a, r * cols, b, r * cols, cols);
        }
    }

    /** nn's {@link SoftmaxCrossEntropy} in double; a batch with a non-finite logit gives all NaN (nn refuses it). */
    @Override
    default void softmaxGradRows(float[] out, float[] z, int[] labels, int rows, int cols) {
        Tensor logits = new Tensor(Shape.features(rows, cols), z.length == rows * cols ? z : Arrays.copyOf(z, rows * cols));
        if (logits.firstNonFinite() >= 0) {
            Arrays.fill(out, 0, rows * cols, Float.NaN);
            return;
        }
        SoftmaxCrossEntropy.lossAndGradient(logits, labels, out);
        for (int j = 0; j < rows * cols; j++) {
            out[j] *= rows;
        }
    }

    @Override
    default void softmaxHessianRows(float[] h, float[] s, float[] w, int[] labels, int rows, int cols, double coef) {
        for (int i = 0; i < rows; i++) {
            int off = i * cols;
            double pw = 0;
            for (int j = 0; j < cols; j++) {
                pw += softmaxProb(s, labels, i, j, cols) * w[off + j];
            }
            for (int j = 0; j < cols; j++) {
                h[off + j] = (float) (coef * softmaxProb(s, labels, i, j, cols) * (w[off + j] - pw));
            }
        }
    }

    /** softmax(f_i)_j recovered from s_i = softmax(f_i) - onehot(y_i). */
    private static double softmaxProb(float[] s, int[] y, int i, int j, int k) {
        return s[i * k + j] + (j == y[i] ? 1.0 : 0.0);
    }

    @Override
    default void copyRange(float[] dst, int dstOff, float[] src, int srcOff, int len) {
        System.arraycopy(src, srcOff, dst, dstOff, len);
    }

    @Override
    default void countNonFinite(float[] out, int slot, float[] x, int len) {
        int c = 0;
        for (int i = 0; i < len; i++) {
            c += Float.isFinite(x[i]) ? 0 : 1;
        }
        out[slot] = c;
    }

    @Override
    default void softmaxXentPart(float[] grad, float[] lossRow, float[] correct, float[] z, int[] labels, int rowOff,
                                 int count, int k, float weight) {
        for (int i = 0; i < count; i++) {
            int y = labels[i], r = rowOff + i, off = r * k;
            double mx = Double.NEGATIVE_INFINITY;
            int arg = 0;
            boolean finite = true;
            for (int j = 0; j < k; j++) {
                float v = z[off + j];
                finite &= Float.isFinite(v);
                if (v > mx) {
                    mx = v;
                    arg = j;
                }
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += Math.exp(z[off + j] - mx);
            }
            double lse = mx + Math.log(sum);
            boolean ok = finite && y >= 0 && y < k;
            lossRow[r] = ok ? (float) (lse - z[off + y]) : Float.NaN;
            correct[r] = ok && arg == y ? 1f : 0f;
            for (int j = 0; j < k; j++) {
                double p = Math.exp(z[off + j] - lse);
                grad[off + j] = weight * (float) ((p - (j == y ? 1.0 : 0.0)) / count);
            }
        }
    }

    @Override
    default void meanAndCountPart(float[] out, int outOff, float[] lossRow, float[] correct, int rowOff, int count) {
        double s = 0, c = 0;
        for (int i = 0; i < count; i++) {
            s += lossRow[rowOff + i];
            c += correct[rowOff + i];
        }
        out[outOff] = (float) (s / count);
        out[outOff + 1] = (float) c;
    }
}
