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
    protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
        Tensor y = forwardImpl(x, out);
        int size = out.size();
        return new AbstractLinearization(describe(), x.shape, out, mode) {
            @Override
            public Tensor output() {
                return y;
            }

            @Override
            protected void jvpImpl(float[] dx, float[] dy) {
                System.arraycopy(dx, 0, dy, 0, size);
            }

            @Override
            protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
                if (gx != null) {
                    System.arraycopy(gy, 0, gx, 0, size);
                }
            }
        };
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return ChainBounds.reshape(this);
    }
}
