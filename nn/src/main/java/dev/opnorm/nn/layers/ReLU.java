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
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        return new Lin<>(b, x, in, mode);
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    /** ReLU's linearization: the output y, which is also the mask (y > 0 exactly where x > 0). */
    private final class Lin<F> extends Linearized<F> {
        private final F y;
        private final int len;

        Lin(Backend<F, ?> b, F x, Shape in, BnMode mode) {
            super(ReLU.this, b, in, in, mode);
            len = in.size();
            y = tensor(in);
            b.ops().relu(y, x, len);
            setOutput(y);
        }

        /** Unit j is on where y > 0: exactly where the JVP passes a tangent (ReLU'(0) = 0). */
        @Override
        public ActivationSite activationSite() {
            float[] v = new float[len];
            backend.ops().download(y, v, len);
            int[] states = new int[len];
            for (int j = 0; j < states.length; j++) {
                states[j] = v[j] > 0 ? 1 : 0;
            }
            return new ActivationSite(qualifiedName(), ActivationSite.Kind.ON_OFF, inShape().perExample(), states);
        }

        @Override
        public void jvp(F dx, F dy) {
            backend.ops().reluMask(dy, dx, y, len);
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            if (gx != null) {
                backend.ops().reluMask(gx, gy, y, len);
            }
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new ReluBounds(this);
    }
}
