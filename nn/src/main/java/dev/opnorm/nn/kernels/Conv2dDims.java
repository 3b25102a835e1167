package dev.opnorm.nn.kernels;

/**
 * Dimensions of a 2-D convolution (cross-correlation, as in PyTorch): input (n, c, h, w), weights
 * (k, c, r, s), symmetric zero padding {@code pad}, equal {@code stride} in both directions; output
 * (n, k, p, q).
 */
public record Conv2dDims(int n, int c, int h, int w, int k, int r, int s, int stride, int pad) {
    public Conv2dDims {
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0 || k <= 0 || r <= 0 || s <= 0 || stride <= 0 || pad < 0) {
            throw new IllegalArgumentException("bad conv2d dims " + describe(n, c, h, w, k, r, s, stride, pad));
        }
        if (h + 2 * pad < r || w + 2 * pad < s) {
            throw new IllegalArgumentException("conv2d kernel " + r + "x" + s + " larger than padded input "
                    + (h + 2 * pad) + "x" + (w + 2 * pad) + " in " + describe(n, c, h, w, k, r, s, stride, pad));
        }
    }

    /** Output height. */
    public int p() {
        return (h + 2 * pad - r) / stride + 1;
    }

    /** Output width. */
    public int q() {
        return (w + 2 * pad - s) / stride + 1;
    }

    public int inputSize() {
        return n * c * h * w;
    }

    public int outputSize() {
        return n * k * p() * q();
    }

    public int weightSize() {
        return k * c * r * s;
    }

    /** Multiply-adds times two of one forward pass: 2*N*K*C*R*S*P*Q. */
    public double flops() {
        return 2.0 * n * k * c * r * s * p() * q();
    }

    private static String describe(int n, int c, int h, int w, int k, int r, int s, int stride, int pad) {
        return "(input " + n + "x" + c + "x" + h + "x" + w + ", weight " + k + "x" + c + "x" + r + "x" + s
                + ", stride " + stride + ", pad " + pad + ")";
    }

    @Override
    public String toString() {
        return describe(n, c, h, w, k, r, s, stride, pad);
    }
}
