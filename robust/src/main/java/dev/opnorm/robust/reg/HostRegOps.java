package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;

/**
 * {@link RegOps} on host arrays, the reference arithmetic: each operation is the plain loop over the
 * elements, and the network is nn's {@link Layer#linearize} (buffers wrapped, not copied).
 */
final class HostRegOps implements RegOps<float[]> {
    static final HostRegOps INSTANCE = new HostRegOps();

    private HostRegOps() {
    }

    static RegNetwork<float[], ParamGrads> network(Layer model) {
        return (x, shape, mode) -> linearized(model.linearize(new Tensor(shape, x), mode));
    }

    static RegNetwork.Linearized<float[], ParamGrads> linearized(Linearization lin) {
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
    public void scale(float[] out, float[] a, double c, int len) {
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
}
