package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchMap;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;

import java.util.Arrays;

/**
 * {@link RegOps} on host arrays, the reference arithmetic: each operation is the plain loop over the
 * elements (linalg's {@link Norms#dot} for the row products, nn's {@link SoftmaxCrossEntropy} for the loss
 * gradient), and the network is nn's {@link Layer#linearize} with {@link TangentGradient} (buffers wrapped,
 * not copied).
 */
final class HostRegOps implements RegOps<float[], double[], int[]> {
    static final HostRegOps INSTANCE = new HostRegOps();

    private HostRegOps() {
    }

    static RegNetwork<float[], ParamGrads> network(Layer model) {
        return (x, shape, mode) -> linearized(model, model.linearize(new Tensor(shape, x), mode));
    }

    static RegNetwork.Linearized<float[], ParamGrads> linearized(Layer model, Linearization lin) {
        return new RegNetwork.Linearized<>() {
            @Override
            public BnMode mode() {
                return lin.mode();
            }

            @Override
            public float[] output() {
                return lin.output().data;
            }

            @Override
            public Shape outputShape() {
                return lin.outShape();
            }

            @Override
            public BatchMap<float[]> asBatchMap() {
                return lin.asBatchLinearMap();
            }

            @Override
            public void vjpParams(float[] gy, ParamGrads grads) {
                lin.vjpParams(gy, grads);
            }

            @Override
            public void tangentGradient(float[] tangent, float[] cotangent, ParamGrads grads) {
                TangentGradient.accumulate(model, lin, tangent, cotangent, grads);
            }

            @Override
            public void close() {
                // garbage collected
            }
        };
    }

    @Override
    public float[] allocate(Shape shape) {
        return new float[shape.size()];
    }

    @Override
    public void release(float[] v) {
        // garbage collected
    }

    @Override
    public void addScaled(float[] out, float[] a, float s, float[] b, int len) {
        for (int j = 0; j < len; j++) {
            out[j] = a[j] + s * b[j];
        }
    }

    @Override
    public void scale(float[] out, float[] a, float c, int len) {
        for (int j = 0; j < len; j++) {
            out[j] = c * a[j];
        }
    }

    @Override
    public void scaleDouble(float[] out, float[] a, double c, int len) {
        for (int j = 0; j < len; j++) {
            out[j] = (float) (c * a[j]);
        }
    }

    @Override
    public void qPowerGrad(float[] out, float[] a, double coef, double q, int len) {
        for (int j = 0; j < len; j++) {
            double d = a[j];
            out[j] = (float) (coef * Math.signum(d) * (q == 2 ? Math.abs(d) : StrictMath.pow(Math.abs(d), q - 1)));
        }
    }

    @Override
    public void dotRows(double[] out, float[] a, float[] b, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            out[r] = Norms.dot(a, r * cols, b, r * cols, cols);
        }
    }

    @Override
    public void scaleRows(float[] out, float[] a, float[] c, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            for (int j = r * cols; j < (r + 1) * cols; j++) {
                out[j] = c[r] * a[j];
            }
        }
    }

    /** A batch with a non-finite logit gives all NaN (nn's cross-entropy refuses it). */
    @Override
    public void softmaxGradRows(float[] out, float[] z, int[] labels, int rows, int cols) {
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
    public void softmaxHessianRows(float[] h, float[] s, float[] w, int[] labels, int rows, int cols, double coef) {
        for (int i = 0; i < rows; i++) {
            int off = i * cols;
            double pw = 0;
            for (int j = 0; j < cols; j++) {
                pw += prob(s, labels, i, j, cols) * w[off + j];
            }
            for (int j = 0; j < cols; j++) {
                h[off + j] = (float) (coef * prob(s, labels, i, j, cols) * (w[off + j] - pw));
            }
        }
    }

    /** softmax(f_i)_j recovered from s_i = softmax(f_i) - onehot(y_i). */
    private static double prob(float[] s, int[] y, int i, int j, int k) {
        return s[i * k + j] + (j == y[i] ? 1.0 : 0.0);
    }
}
