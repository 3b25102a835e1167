package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;

/**
 * y = max(x, 0) elementwise. The Jacobian is the diagonal 0/1 mask [x > 0]; ReLU'(0) = 0 (x > 0
 * strict), the same predicate in forward, jvp and vjp on every backend. The linearization keeps only
 * the output y: y > 0 exactly where x > 0, so y is the mask.
 */
public final class ReLU extends AbstractLayer {

    public ReLU(String name) {
        this(name, Engine.kernels());
    }

    public ReLU(String name, Kernels kernels) {
        super(name, kernels);
    }

    @Override
    public Shape outputShape(Shape in) {
        return in;
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        Tensor y = new Tensor(out);
        kernels.relu(y.data, x.data, out.size());
        return y;
    }

    @Override
    protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
        return new Lin(x.shape, forwardImpl(x, out), mode);
    }

    /** ReLU's linearization: the output y, which is also the mask (y > 0 exactly where x > 0). */
    private final class Lin extends AbstractLinearization {
        private final Tensor y;

        Lin(Shape in, Tensor y, BnMode mode) {
            super(describe(), in, y.shape, mode);
            this.y = y;
        }

        /** Unit j is on where y > 0: exactly where the JVP passes a tangent (ReLU'(0) = 0). */
        @Override
        public ActivationSite activationSite() {
            float[] v = y.data;
            int[] states = new int[y.shape.size()];
            for (int j = 0; j < states.length; j++) {
                states[j] = v[j] > 0 ? 1 : 0;
            }
            return new ActivationSite(qualifiedName(), ActivationSite.Kind.ON_OFF, y.shape.perExample(), states);
        }

        @Override
        public Tensor output() {
            return y;
        }

        @Override
        protected void jvpImpl(float[] dx, float[] dy) {
            kernels.reluMask(dy, dx, y.data, y.shape.size());
        }

        @Override
        protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
            if (gx != null) {
                kernels.reluMask(gx, gy, y.data, y.shape.size());
            }
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new ReluBounds(this);
    }
}
