package dev.opnorm.nn.kernels;

/**
 * Dimensions of a 2-D pooling window: input (n, c, h, w), window kh x kw, equal stride, symmetric
 * padding; output (n, c, p, q). Max pooling treats padding as -infinity, average pooling as zeros
 * counted in the divisor (PyTorch's count_include_pad=True).
 */
public record PoolDims(int n, int c, int h, int w, int kh, int kw, int stride, int pad) {
    public PoolDims {
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0 || stride <= 0 || pad < 0) {
            throw new IllegalArgumentException("bad pool dims " + describe(n, c, h, w, kh, kw, stride, pad));
        }
        if (2 * pad > kh || 2 * pad > kw) {
            throw new IllegalArgumentException("pool padding " + pad + " exceeds half the window in "
                    + describe(n, c, h, w, kh, kw, stride, pad));
        }
        if (h + 2 * pad < kh || w + 2 * pad < kw) {
            throw new IllegalArgumentException("pool window larger than padded input in "
                    + describe(n, c, h, w, kh, kw, stride, pad));
        }
    }

    public int p() {
        return (h + 2 * pad - kh) / stride + 1;
    }

    public int q() {
        return (w + 2 * pad - kw) / stride + 1;
    }

    public int inputSize() {
        return n * c * h * w;
    }

    public int outputSize() {
        return n * c * p() * q();
    }

    private static String describe(int n, int c, int h, int w, int kh, int kw, int stride, int pad) {
        return "(input " + n + "x" + c + "x" + h + "x" + w + ", window " + kh + "x" + kw + ", stride " + stride
                + ", pad " + pad + ")";
    }

    @Override
    public String toString() {
        return describe(n, c, h, w, kh, kw, stride, pad);
    }
}
