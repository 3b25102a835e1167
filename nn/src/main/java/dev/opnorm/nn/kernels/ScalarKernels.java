package dev.opnorm.nn.kernels;

/**
 * The reference implementation of {@link Kernels}: plain loops, no SIMD, no threads, no blocking, summing
 * every output's terms in the order the contract fixes (slices of 256 fused multiply-adds for GEMM-like
 * ops, 16 or 8 partial sums for reductions), so that {@link VectorKernels} matches it bit for bit at any
 * vector width. Every other implementation is tested against this one; keep it obviously correct rather
 * than fast. Sums over many terms (BatchNorm statistics) use double.
 */
public final class ScalarKernels implements Kernels {
    /** Terms per slice of a GEMM-like sum (the {@link Kernels} contract). */
    static final int SLICE = 256;

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void conv2dForward(float[] y, float[] x, float[] w, float[] b, Conv2dDims d) {
        int P = d.p(), Q = d.q(), crs = d.c() * d.r() * d.s();
        for (int n = 0; n < d.n(); n++) {
            for (int k = 0; k < d.k(); k++) {
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        Slices out = Slices.conv(b == null ? 0f : b[k]);
                        for (int l = 0; l < crs; l++) { // l = (c, r, s); taps in the padding multiply a zero
                            int c = l / (d.r() * d.s()), r = l / d.s() % d.r(), s = l % d.s();
                            int ih = p * d.stride() - d.pad() + r, iw = q * d.stride() - d.pad() + s;
                            boolean in = ih >= 0 && ih < d.h() && iw >= 0 && iw < d.w();
                            out.add(w[k * crs + l], in ? x[((n * d.c() + c) * d.h() + ih) * d.w() + iw] : 0f);
                        }
                        y[((n * d.k() + k) * P + p) * Q + q] = out.result();
                    }
                }
            }
        }
    }

    @Override
    public void conv2dVjpInput(float[] gx, float[] gy, float[] w, Conv2dDims d) {
        int P = d.p(), Q = d.q(), rs = d.r() * d.s(), crs = d.c() * rs;
        boolean col2im = ConvPack.preferCol2im(d);
        for (int n = 0; n < d.n(); n++) {
            for (int c = 0; c < d.c(); c++) {
                for (int h = 0; h < d.h(); h++) {
                    for (int x = 0; x < d.w(); x++) {
                        float g = 0f;
                        Slices direct = Slices.conv(0f);
                        for (int r = 0; r < d.r(); r++) {
                            for (int s = 0; s < d.s(); s++) {
                                // the output position (p, q) this tap of gx[n, c, h, x] came from, if any
                                int nh = h + d.pad() - r, nw = x + d.pad() - s;
                                boolean in = nh >= 0 && nw >= 0 && nh % d.stride() == 0 && nw % d.stride() == 0
                                        && nh / d.stride() < P && nw / d.stride() < Q;
                                int p = in ? nh / d.stride() : 0, q = in ? nw / d.stride() : 0;
                                if (col2im) {
                                    if (!in) {
                                        continue;
                                    }
                                    // dcol[(c, r, s), (n, p, q)] = sum over k, then gathered in (r, s) order
                                    Slices dcol = Slices.dense(1f, 0f, 0f);
                                    for (int k = 0; k < d.k(); k++) {
                                        dcol.add(w[k * crs + c * rs + r * d.s() + s], gy[((n * d.k() + k) * P + p) * Q + q]);
                                    }
                                    g += dcol.result();
                                }
                            }
                        }
                        if (!col2im) {
                            for (int k = 0; k < d.k(); k++) { // l = (k, r, s)
                                for (int r = 0; r < d.r(); r++) {
                                    for (int s = 0; s < d.s(); s++) {
                                        int nh = h + d.pad() - r, nw = x + d.pad() - s;
                                        boolean in = nh >= 0 && nw >= 0 && nh % d.stride() == 0 && nw % d.stride() == 0
                                                && nh / d.stride() < P && nw / d.stride() < Q;
                                        float v = in ? gy[((n * d.k() + k) * P + nh / d.stride()) * Q + nw / d.stride()] : 0f;
                                        direct.add(w[k * crs + c * rs + r * d.s() + s], v);
                                    }
                                }
                            }
                            g = direct.result();
                        }
                        gx[((n * d.c() + c) * d.h() + h) * d.w() + x] = g;
                    }
                }
            }
        }
    }

    @Override
    public void conv2dVjpWeight(float[] gw, float[] gy, float[] x, Conv2dDims d) {
        int P = d.p(), Q = d.q(), crs = d.c() * d.r() * d.s();
        for (int k = 0; k < d.k(); k++) {
            for (int c = 0; c < d.c(); c++) {
                for (int r = 0; r < d.r(); r++) {
                    for (int s = 0; s < d.s(); s++) {
                        Slices sum = Slices.dense(1f, 0f, 0f);
                        for (int n = 0; n < d.n(); n++) { // l = (n, p, q)
                            for (int p = 0; p < P; p++) {
                                for (int q = 0; q < Q; q++) {
                                    int ih = p * d.stride() - d.pad() + r, iw = q * d.stride() - d.pad() + s;
                                    boolean in = ih >= 0 && ih < d.h() && iw >= 0 && iw < d.w();
                                    sum.add(gy[((n * d.k() + k) * P + p) * Q + q],
                                            in ? x[((n * d.c() + c) * d.h() + ih) * d.w() + iw] : 0f);
                                }
                            }
                        }
                        gw[k * crs + (c * d.r() + r) * d.s() + s] += sum.result();
                    }
                }
            }
        }
    }

    @Override
    public void conv2dVjpBias(float[] gb, float[] gy, Conv2dDims d) {
        int pq = d.p() * d.q();
        for (int k = 0; k < d.k(); k++) {
            float acc = 0f;
            for (int n = 0; n < d.n(); n++) {
                acc += sum16(gy, (n * d.k() + k) * pq, pq);
            }
            gb[k] += acc;
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int ci = cOff + i * ldc + j;
                Slices out = Slices.dense(alpha, beta, beta == 0f ? 0f : c[ci]);
                for (int l = 0; l < k; l++) {
                    float av = transA ? a[aOff + l * lda + i] : a[aOff + i * lda + l];
                    float bv = transB ? b[bOff + j * ldb + l] : b[bOff + l * ldb + j];
                    out.add(av, bv);
                }
                c[ci] = out.result();
            }
        }
    }

    /**
     * One output of a GEMM-like op in the contract's order: terms summed by fused multiply-add from +0 in
     * slices of {@link #SLICE}; the first slice's sum t becomes t + bias (a conv output) or alpha*t (+ beta*c0
     * when beta != 0; a dense output), each later slice's sum t is added as alpha*t + out. With no terms, one
     * empty slice (t = +0).
     */
    private static final class Slices {
        private final boolean conv;
        private final float bias, alpha, beta, c0;
        private float out, acc;
        private int count;
        private boolean started;

        private Slices(boolean conv, float bias, float alpha, float beta, float c0) {
            this.conv = conv;
            this.bias = bias;
            this.alpha = alpha;
            this.beta = beta;
            this.c0 = c0;
        }

        static Slices conv(float bias) {
            return new Slices(true, bias, 1f, 0f, 0f);
        }

        static Slices dense(float alpha, float beta, float c0) {
            return new Slices(false, 0f, alpha, beta, c0);
        }

        void add(float a, float b) {
            acc = Math.fma(a, b, acc);
            if (++count == SLICE) {
                flush();
            }
        }

        private void flush() {
            if (!started) {
                if (conv) {
                    out = acc + bias;
                } else {
                    out = alpha * acc;
                    if (beta != 0f) {
                        out += beta * c0;
                    }
                }
                started = true;
            } else {
                out = alpha * acc + out;
            }
            acc = 0f;
            count = 0;
        }

        float result() {
            if (count > 0 || !started) {
                flush();
            }
            return out;
        }
    }

    @Override
    public void relu(float[] y, float[] x, int len) {
        for (int i = 0; i < len; i++) {
            y[i] = x[i] > 0f ? x[i] : 0f;
        }
    }

    @Override
    public void reluMask(float[] out, float[] in, float[] x, int len) {
        for (int i = 0; i < len; i++) {
            out[i] = x[i] > 0f ? in[i] : 0f;
        }
    }

    @Override
    public void axpy(float[] y, float a, float[] x, int len) {
        for (int i = 0; i < len; i++) {
            y[i] += a * x[i];
        }
    }

    @Override
    public void add(float[] y, float[] a, float[] b, int len) {
        for (int i = 0; i < len; i++) {
            y[i] = a[i] + b[i];
        }
    }

    @Override
    public void scale(float[] y, float alpha, float[] x, int len) {
        for (int i = 0; i < len; i++) {
            y[i] = alpha * x[i];
        }
    }

    @Override
    public void addRowBias(float[] c, float[] bias, int m, int n) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                c[i * n + j] += bias[j];
            }
        }
    }

    @Override
    public void sumRowsAccumulate(float[] gb, float[] g, int m, int n) {
        for (int j = 0; j < n; j++) {
            float acc = 0f;
            for (int i = 0; i < m; i++) {
                acc += g[i * n + j];
            }
            gb[j] += acc;
        }
    }

    @Override
    public void channelMeanVar(float[] mean, float[] var, float[] x, int n, int c, int hw) {
        double count = (double) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int b = 0; b < n; b++) {
                s += sum8(x, null, (b * c + ch) * hw, hw, 0, false);
            }
            double mu = s / count;
            double ss = 0;
            for (int b = 0; b < n; b++) {
                ss += sum8(x, null, (b * c + ch) * hw, hw, mu, true);
            }
            mean[ch] = (float) mu;
            var[ch] = (float) (ss / count);
        }
    }

    @Override
    public void channelAffine(float[] y, float[] x, float[] scale, float[] shift, int n, int c, int hw) {
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                float sc = scale[ch], sh = shift == null ? 0f : shift[ch];
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    y[j] = x[j] * sc + sh;
                }
            }
        }
    }

    @Override
    public void bnTrainJacobian(float[] out, float[] in, float[] xhat, float[] coef, int n, int c, int hw) {
        double count = (double) n * hw;
        for (int ch = 0; ch < c; ch++) {
            double s1 = 0, s2 = 0;
            for (int b = 0; b < n; b++) {
                s1 += sum8(in, null, (b * c + ch) * hw, hw, 0, false);
                s2 += sum8(in, xhat, (b * c + ch) * hw, hw, 0, false);
            }
            float m1 = (float) (s1 / count), m2 = (float) (s2 / count);
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    out[j] = coef[ch] * (in[j] - m1 - xhat[j] * m2);
                }
            }
        }
    }

    @Override
    public void channelSumsAccumulate(float[] sumA, float[] sumAB, float[] a, float[] b, int n, int c, int hw) {
        for (int ch = 0; ch < c; ch++) {
            double s1 = 0, s2 = 0;
            for (int bi = 0; bi < n; bi++) {
                s1 += sum8(a, null, (bi * c + ch) * hw, hw, 0, false);
                if (b != null) {
                    s2 += sum8(a, b, (bi * c + ch) * hw, hw, 0, false);
                }
            }
            sumA[ch] += (float) s1;
            if (b != null) {
                sumAB[ch] += (float) s2;
            }
        }
    }

    @Override
    public void maxPool2dForward(float[] y, int[] argmax, float[] x, PoolDims d) {
        int P = d.p(), Q = d.q();
        for (int n = 0; n < d.n(); n++) {
            for (int c = 0; c < d.c(); c++) {
                int plane = (n * d.c() + c) * d.h() * d.w();
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int bestIdx = -1;
                        for (int r = 0; r < d.kh(); r++) {
                            int ih = p * d.stride() - d.pad() + r;
                            if (ih < 0 || ih >= d.h()) {
                                continue;
                            }
                            for (int s = 0; s < d.kw(); s++) {
                                int iw = q * d.stride() - d.pad() + s;
                                if (iw < 0 || iw >= d.w()) {
                                    continue;
                                }
                                int idx = plane + ih * d.w() + iw;
                                // strict > keeps the first maximum; NaN wins so it propagates (as in PyTorch)
                                if (bestIdx < 0 || (!Float.isNaN(best) && (x[idx] > best || Float.isNaN(x[idx])))) {
                                    best = x[idx];
                                    bestIdx = idx;
                                }
                            }
                        }
                        int o = ((n * d.c() + c) * P + p) * Q + q;
                        y[o] = best;
                        argmax[o] = bestIdx;
                    }
                }
            }
        }
    }

    @Override
    public void maxPool2dJvp(float[] dy, float[] dx, int[] argmax, PoolDims d) {
        int len = d.outputSize();
        for (int o = 0; o < len; o++) {
            dy[o] = dx[argmax[o]];
        }
    }

    @Override
    public void maxPool2dVjp(float[] gx, float[] gy, int[] argmax, PoolDims d) {
        java.util.Arrays.fill(gx, 0, d.inputSize(), 0f);
        int len = d.outputSize();
        for (int o = 0; o < len; o++) {
            gx[argmax[o]] += gy[o];
        }
    }

    @Override
    public void avgPool2dForward(float[] y, float[] x, PoolDims d) {
        int P = d.p(), Q = d.q();
        float inv = 1f / (d.kh() * d.kw());
        for (int n = 0; n < d.n(); n++) {
            for (int c = 0; c < d.c(); c++) {
                int plane = (n * d.c() + c) * d.h() * d.w();
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float acc = 0f;
                        for (int r = 0; r < d.kh(); r++) {
                            int ih = p * d.stride() - d.pad() + r;
                            if (ih < 0 || ih >= d.h()) {
                                continue;
                            }
                            for (int s = 0; s < d.kw(); s++) {
                                int iw = q * d.stride() - d.pad() + s;
                                if (iw >= 0 && iw < d.w()) {
                                    acc += x[plane + ih * d.w() + iw];
                                }
                            }
                        }
                        y[((n * d.c() + c) * P + p) * Q + q] = acc * inv;
                    }
                }
            }
        }
    }

    @Override
    public void avgPool2dVjp(float[] gx, float[] gy, PoolDims d) {
        java.util.Arrays.fill(gx, 0, d.inputSize(), 0f);
        int P = d.p(), Q = d.q();
        float inv = 1f / (d.kh() * d.kw());
        for (int n = 0; n < d.n(); n++) {
            for (int c = 0; c < d.c(); c++) {
                int plane = (n * d.c() + c) * d.h() * d.w();
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float g = gy[((n * d.c() + c) * P + p) * Q + q] * inv;
                        for (int r = 0; r < d.kh(); r++) {
                            int ih = p * d.stride() - d.pad() + r;
                            if (ih < 0 || ih >= d.h()) {
                                continue;
                            }
                            for (int s = 0; s < d.kw(); s++) {
                                int iw = q * d.stride() - d.pad() + s;
                                if (iw >= 0 && iw < d.w()) {
                                    gx[plane + ih * d.w() + iw] += g;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- the contract's reductions ---------------------------------------------------------------------

    /**
     * Sum of a[off .. off+len) in float: 16 partial sums (element i of the whole 16-blocks to partial
     * i mod 16), combined pairwise p[j] += p[j + 8], += p[j + 4], += p[j + 2], += p[j + 1], then the
     * remaining len mod 16 elements added in order.
     */
    static float sum16(float[] a, int off, int len) {
        float[] p = new float[16];
        int blocks = len / 16 * 16, i = 0;
        for (; i < blocks; i++) {
            p[i % 16] += a[off + i];
        }
        for (int half = 8; half >= 1; half /= 2) {
            for (int j = 0; j < half; j++) {
                p[j] += p[j + half];
            }
        }
        float t = p[0];
        for (; i < len; i++) {
            t += a[off + i];
        }
        return t;
    }

    /**
     * A double sum over [off, off+len) with 8 partials, combined and followed by the tail as in
     * {@link #sum16}; each term is fused into its partial: fma(a, 1, p) (b == null), fma(a, b, p) or, with
     * {@code deviations}, fma(a - mu, a - mu, p).
     */
    static double sum8(float[] a, float[] b, int off, int len, double mu, boolean deviations) {
        double[] p = new double[8];
        int blocks = len / 8 * 8, i = 0;
        for (; i < len; i++) {
            double u = deviations ? a[off + i] - mu : a[off + i];
            double v = deviations ? u : b == null ? 1.0 : b[off + i];
            if (i < blocks) {
                p[i % 8] = Math.fma(u, v, p[i % 8]);
            } else {
                if (i == blocks) {
                    for (int half = 4; half >= 1; half /= 2) {
                        for (int j = 0; j < half; j++) {
                            p[j] += p[j + half];
                        }
                    }
                }
                p[0] = Math.fma(u, v, p[0]);
            }
        }
        if (blocks == len) {
            for (int half = 4; half >= 1; half /= 2) {
                for (int j = 0; j < half; j++) {
                    p[j] += p[j + half];
                }
            }
        }
        return p[0];
    }
}
