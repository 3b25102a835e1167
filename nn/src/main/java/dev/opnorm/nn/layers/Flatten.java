package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;

/**
 * (n, c, h, w) -> (n, c*h*w, 1, 1), PyTorch's {@code nn.Flatten()}: NCHW order is kept, so the data
 * do not move; the Jacobian is the identity. The output is a copy (never an alias of the input).
 */
public final class Flatten extends AbstractLayer {

    public Flatten(String name) {
        this(name, Engine.kernels());
    }

    public Flatten(String name, Kernels kernels) {
        super(name, kernels);
    }

    @Override
    public Shape outputShape(Shape in) {
        return Shape.features(in.n(), in.perExample());
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        return new Tensor(out, java.util.Arrays.copyOf(x.data, out.size()));
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        int size = out.size();
        return new Linearized<F>(this, b, in, out, mode) {
            {
                F y = tensor(out);
                b.ops().copy(y, x, size);
                setOutput(y);
            }

            @Override
            public void jvp(F dx, F dy) {
                backend.ops().copy(dy, dx, size);
            }

            @Override
            public void vjp(F gy, F gx, Grads<F> grads) {
                if (gx != null) {
                    backend.ops().copy(gx, gy, size);
                }
            }
        };
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return ChainBounds.reshape(this);
    }
}
