package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * An independent double-precision forward pass of the built-in layers, for finite differences of
 * whole networks: in double a central difference with a step of 1e-6 is accurate to ~1e-9 and
 * almost never crosses a ReLU kink or a pooling tie, so it checks the float JVP and parameter
 * gradients of a deep network to ~1e-4, where a float difference cannot tell round-off and kinks
 * from errors. Written from the definitions (PyTorch semantics), not from the layer code.
 *
 * <p>The parameters and BN buffers are copied to double at construction; {@link #param} gives the
 * double copy of a parameter, which a test may perturb.
 */
public final class DoubleReference {
    private final Map<float[], double[]> values = new IdentityHashMap<>(); // float storage -> double copy

    public DoubleReference(Layer root) {
        for (Param p : root.params()) {
            values.put(p.value, toDouble(p.value));
        }
        for (Param p : root.buffers()) {
            values.put(p.value, toDouble(p.value));
        }
    }

    /** A batch in double with its NCHW shape. */
    public record D(Shape shape, double[] data) {
        public static D of(Tensor t) {
            return new D(t.shape, toDouble(t.data));
        }
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** The double copy of p (same storage for renamed views). */
    public double[] param(Param p) {
        double[] d = values.get(p.value);
        if (d == null) {
            throw new IllegalArgumentException("not a parameter of the reference's network: " + p);
        }
        return d;
    }

    private double[] v(Param p) {
        return p == null ? null : param(p);
    }

    /** f(x) in double, BN in the given mode (running statistics are never updated). */
    public D forward(Layer layer, D x, BnMode mode) {
        if (layer instanceof Sequential s) {
            D t = x;
            for (Layer c : s.children()) {
                t = forward(c, t, mode);
            }
            return t;
        }
        if (layer instanceof PreActBlock b) {
            D a = forward(b.children().get(1), forward(b.bn1(), x, mode), mode);
            D out = forward(b.conv2(), forward(b.children().get(4), forward(b.bn2(), forward(b.conv1(), a, mode), mode),
                    mode), mode);
            D shortcut = b.identityShortcut() ? x : forward(b.convShortcut(), a, mode);
            double[] y = out.data().clone();
            for (int i = 0; i < y.length; i++) {
                y[i] += shortcut.data()[i];
            }
            return new D(out.shape(), y);
        }
        if (layer instanceof Conv2d c) {
            return conv(x, v(c.weight()), v(c.bias()), c.outChannels(), c.kernelHeight(), c.kernelWidth(),
                    c.stride(), c.padding());
        }
        if (layer instanceof BatchNorm2d b) {
            return batchNorm(b, x, mode);
        }
        if (layer instanceof ReLU) {
            double[] y = new double[x.data.length];
            for (int i = 0; i < y.length; i++) {
                y[i] = x.data[i] > 0 ? x.data[i] : 0;
            }
            return new D(x.shape, y);
        }
        if (layer instanceof MaxPool2d m) {
            return pool(x, m.kernel(), m.stride(), m.padding(), true);
        }
        if (layer instanceof AvgPool2d a) {
            return a.isGlobal() ? globalAvg(x) : pool(x, a.kernel(), a.stride(), a.padding(), false);
        }
        if (layer instanceof Flatten) {
            return new D(Shape.features(x.shape.n(), x.shape.perExample()), x.data.clone());
        }
        if (layer instanceof Linear l) {
            int n = x.shape.n(), in = l.inFeatures(), out = l.outFeatures();
            double[] w = v(l.weight()), b = v(l.bias()), y = new double[n * out];
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double s = b == null ? 0 : b[o];
                    for (int k = 0; k < in; k++) {
                        s += x.data[i * in + k] * w[o * in + k];
                    }
                    y[i * out + o] = s;
                }
            }
            return new D(Shape.features(n, out), y);
        }
        throw new IllegalArgumentException("no double reference for " + layer.getClass().getSimpleName());
    }

    static D conv(D x, double[] w, double[] b, int k, int r, int s, int stride, int pad) {
        Shape in = x.shape;
        int c = in.c(), h = in.h(), wd = in.w();
        int p = (h + 2 * pad - r) / stride + 1, q = (wd + 2 * pad - s) / stride + 1;
        Shape out = new Shape(in.n(), k, p, q);
        double[] y = new double[out.size()];
        for (int n = 0; n < in.n(); n++) {
            for (int ko = 0; ko < k; ko++) {
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < q; j++) {
                        double acc = b == null ? 0 : b[ko];
                        for (int ci = 0; ci < c; ci++) {
                            for (int ri = 0; ri < r; ri++) {
                                for (int si = 0; si < s; si++) {
                                    int yy = i * stride - pad + ri, xx = j * stride - pad + si;
                                    if (yy >= 0 && yy < h && xx >= 0 && xx < wd) {
                                        acc += w[((ko * c + ci) * r + ri) * s + si] * x.data[in.at(n, ci, yy, xx)];
                                    }
                                }
                            }
                        }
                        y[out.at(n, ko, i, j)] = acc;
                    }
                }
            }
        }
        return new D(out, y);
    }

    private D batchNorm(BatchNorm2d bn, D x, BnMode mode) {
        Shape s = x.shape;
        int hw = s.h() * s.w(), c = s.c();
        double[] gamma = v(bn.weight()), beta = v(bn.bias());
        double[] y = new double[x.data.length];
        for (int ch = 0; ch < c; ch++) {
            double mean, var;
            if (mode == BnMode.EVAL) {
                mean = v(bn.runningMean())[ch];
                var = v(bn.runningVar())[ch];
            } else {
                double sum = 0;
                for (int n = 0; n < s.n(); n++) {
                    for (int i = 0; i < hw; i++) {
                        sum += x.data[(n * c + ch) * hw + i];
                    }
                }
                mean = sum / (s.n() * hw);
                double ss = 0;
                for (int n = 0; n < s.n(); n++) {
                    for (int i = 0; i < hw; i++) {
                        double d = x.data[(n * c + ch) * hw + i] - mean;
                        ss += d * d;
                    }
                }
                var = ss / (s.n() * hw);
            }
            double inv = 1 / Math.sqrt(var + 1e-5);
            double g = gamma == null ? 1 : gamma[ch], bb = beta == null ? 0 : beta[ch];
            for (int n = 0; n < s.n(); n++) {
                for (int i = 0; i < hw; i++) {
                    int j = (n * c + ch) * hw + i;
                    y[j] = g * (x.data[j] - mean) * inv + bb;
                }
            }
        }
        return new D(s, y);
    }

    static D pool(D x, int k, int stride, int pad, boolean max) {
        Shape in = x.shape;
        int p = (in.h() + 2 * pad - k) / stride + 1, q = (in.w() + 2 * pad - k) / stride + 1;
        Shape out = new Shape(in.n(), in.c(), p, q);
        double[] y = new double[out.size()];
        for (int n = 0; n < in.n(); n++) {
            for (int c = 0; c < in.c(); c++) {
                for (int i = 0; i < p; i++) {
                    for (int j = 0; j < q; j++) {
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        for (int r = 0; r < k; r++) {
                            for (int s = 0; s < k; s++) {
                                int yy = i * stride - pad + r, xx = j * stride - pad + s;
                                if (yy >= 0 && yy < in.h() && xx >= 0 && xx < in.w()) {
                                    double val = x.data[in.at(n, c, yy, xx)];
                                    acc = max ? Math.max(acc, val) : acc + val;
                                }
                            }
                        }
                        y[out.at(n, c, i, j)] = max ? acc : acc / (k * k);
                    }
                }
            }
        }
        return new D(out, y);
    }

    static D globalAvg(D x) {
        Shape in = x.shape;
        int hw = in.h() * in.w();
        double[] y = new double[in.n() * in.c()];
        for (int i = 0; i < y.length; i++) {
            double s = 0;
            for (int j = 0; j < hw; j++) {
                s += x.data[i * hw + j];
            }
            y[i] = s / hw;
        }
        return new D(Shape.features(in.n(), in.c()), y);
    }
}
