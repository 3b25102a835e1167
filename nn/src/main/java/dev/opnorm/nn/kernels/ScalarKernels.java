package dev.opnorm.nn.kernels;

/**
 * The reference implementation of {@link Kernels}: plain loops in the order of the definitions, no
 * SIMD, no threads, no blocking. Every other implementation is tested against this one; keep it
 * obviously correct rather than fast. Sums over many terms (BatchNorm statistics) use double.
 */
public final class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void conv2dForward(float[] y, float[] x, float[] w, float[] b, Conv2dDims d) {
        int P = d.p(), Q = d.q();
        for (int n = 0; n < d.n(); n++) {
            for (int k = 0; k < d.k(); k++) {
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float acc = b == null ? 0f : b[k];
                        for (int c = 0; c < d.c(); c++) {
                            for (int r = 0; r < d.r(); r++) {
                                int ih = p * d.stride() - d.pad() + r;
                                if (ih < 0 || ih >= d.h()) {
                                    continue;
                                }
                                for (int s = 0; s < d.s(); s++) {
                                    int iw = q * d.stride() - d.pad() + s;
                                    if (iw < 0 || iw >= d.w()) {
                                        continue;
                                    }
                                    acc += w[((k * d.c() + c) * d.r() + r) * d.s() + s]
                                            * x[((n * d.c() + c) * d.h() + ih) * d.w() + iw];
                                }
                            }
                        }
                        y[((n * d.k() + k) * P + p) * Q + q] = acc;
                    }
                }
            }
        }
    }

    @Override
    public void conv2dVjpInput(float[] gx, float[] gy, float[] w, Conv2dDims d) {
        java.util.Arrays.fill(gx, 0, d.inputSize(), 0f);
        int P = d.p(), Q = d.q();
        for (int n = 0; n < d.n(); n++) {
            for (int k = 0; k < d.k(); k++) {
                for (int p = 0; p < P; p++) {
                    for (int q = 0; q < Q; q++) {
                        float g = gy[((n * d.k() + k) * P + p) * Q + q];
                        for (int c = 0; c < d.c(); c++) {
                            for (int r = 0; r < d.r(); r++) {
                                int ih = p * d.stride() - d.pad() + r;
                                if (ih < 0 || ih >= d.h()) {
                                    continue;
                                }
                                for (int s = 0; s < d.s(); s++) {
                                    int iw = q * d.stride() - d.pad() + s;
                                    if (iw < 0 || iw >= d.w()) {
                                        continue;
                                    }
                                    gx[((n * d.c() + c) * d.h() + ih) * d.w() + iw] +=
                                            g * w[((k * d.c() + c) * d.r() + r) * d.s() + s];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Override
    public void conv2dVjpWeight(float[] gw, float[] gy, float[] x, Conv2dDims d) {
        int P = d.p(), Q = d.q();
        for (int k = 0; k < d.k(); k++) {
            for (int c = 0; c < d.c(); c++) {
                for (int r = 0; r < d.r(); r++) {
                    for (int s = 0; s < d.s(); s++) {
                        float acc = 0f;
                        for (int n = 0; n < d.n(); n++) {
                            for (int p = 0; p < P; p++) {
                                int ih = p * d.stride() - d.pad() + r;
                                if (ih < 0 || ih >= d.h()) {
                                    continue;
                                }
                                for (int q = 0; q < Q; q++) {
                                    int iw = q * d.stride() - d.pad() + s;
                                    if (iw < 0 || iw >= d.w()) {
                                        continue;
                                    }
                                    acc += gy[((n * d.k() + k) * P + p) * Q + q]
                                            * x[((n * d.c() + c) * d.h() + ih) * d.w() + iw];
                                }
                            }
                        }
                        gw[((k * d.c() + c) * d.r() + r) * d.s() + s] += acc;
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
                for (int i = 0; i < pq; i++) {
                    acc += gy[(n * d.k() + k) * pq + i];
                }
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
                float acc = 0f;
                for (int l = 0; l < k; l++) {
                    float av = transA ? a[aOff + l * lda + i] : a[aOff + i * lda + l];
                    float bv = transB ? b[bOff + j * ldb + l] : b[bOff + l * ldb + j];
                    acc += av * bv;
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * acc : alpha * acc + beta * c[ci];
            }
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
                for (int i = 0; i < hw; i++) {
                    s += x[(b * c + ch) * hw + i];
                }
            }
            double mu = s / count;
            double ss = 0;
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < hw; i++) {
                    double dv = x[(b * c + ch) * hw + i] - mu;
                    ss += dv * dv;
                }
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
                for (int i = 0; i < hw; i++) {
                    int j = (b * c + ch) * hw + i;
                    s1 += in[j];
                    s2 += (double) in[j] * xhat[j];
                }
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
                for (int i = 0; i < hw; i++) {
                    int j = (bi * c + ch) * hw + i;
                    s1 += a[j];
                    if (b != null) {
                        s2 += (double) a[j] * b[j];
                    }
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
}
