package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchMap;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;

/**
 * {@link RegOps} on host arrays, the reference arithmetic: the host kernels' loops (nn's
 * {@code SoftmaxCrossEntropy} for the loss gradient) with double row products (linalg's {@link Norms#dot}),
 * and the network is nn's {@link Layer#linearize} with {@link TangentGradient} (buffers wrapped, not copied).
 * Every other backend runs {@link KernelRegOps}.
 */
final class HostRegOps implements RegOps<float[], double[], int[]> {
    static final HostRegOps INSTANCE = new HostRegOps();
    /** The host kernels' reference loops (the same in every host implementation). */
    private static final Kernels K = new ScalarKernels();

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
        K.addScaled(out, a, s, b, len);
    }

    @Override
    public void scale(float[] out, float[] a, float c, int len) {
        K.scale(out, c, a, len);
    }

    @Override
    public void scaleDouble(float[] out, float[] a, double c, int len) {
        K.scaleDouble(out, c, a, len);
    }

    @Override
    public void qPowerGrad(float[] out, float[] a, double coef, double q, int len) {
        K.qPowerGrad(out, a, coef, q, len);
    }

    /** Double scalars: the host's iterations keep their row norms and products in double. */
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

    @Override
    public void softmaxGradRows(float[] out, float[] z, int[] labels, int rows, int cols) {
        K.softmaxGradRows(out, z, labels, rows, cols);
    }

    @Override
    public void softmaxHessianRows(float[] h, float[] s, float[] w, int[] labels, int rows, int cols, double coef) {
        K.softmaxHessianRows(h, s, w, labels, rows, cols, coef);
    }
}
