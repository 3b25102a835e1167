package dev.opnorm.tests;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.AbstractLayer;
import dev.opnorm.nn.layers.AbstractLinearization;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;

import java.util.ArrayList;
import java.util.List;

/**
 * The tangent network of a piecewise-linear network at x: the linear map v -> J_f(x) v written as a network
 * of its own, so that d(J v)/d(theta) comes from ordinary parameter VJPs. Inside the activation cell of x,
 * J = W_L M_{L-1} ... M_1 W_1 (M the frozen ReLU masks, pooling selections and EVAL-BatchNorm scalings), so:
 * every conv / linear layer becomes a bias-free copy with the same weights (biases do not enter J), and
 * every other leaf becomes its own linearization at x, frozen (a parameter-free linear layer). Child names are
 * kept, so the copy's parameter names equal the original's weight names.
 *
 * <p>This is an independent route to the gradient of the d.d. operator norm regularizer lambda eps ||J v||_q
 * (v fixed): it never evaluates f at a perturbed point, unlike the AT term it is compared with.
 */
final class TangentNetwork {
    private TangentNetwork() {
    }

    /** The tangent network of {@code net} at x (BatchNorm EVAL). */
    static Sequential of(Sequential net, Tensor x) {
        Tensor[] t = {x};
        return (Sequential) copy(net, t);
    }

    private static Layer copy(Layer layer, Tensor[] t) {
        if (layer instanceof Sequential s) {
            List<Layer> children = new ArrayList<>();
            for (Layer c : s.children()) {
                children.add(copy(c, t));
            }
            return new Sequential(s.name(), children);
        }
        Linearization lin = layer.linearize(t[0], BnMode.EVAL);
        t[0] = lin.output();
        if (layer instanceof Conv2d c) {
            Conv2d d = new Conv2d(c.name(), c.inChannels(), c.outChannels(), c.kernelHeight(), c.kernelWidth(),
                    c.stride(), c.padding(), false, c.kernels());
            System.arraycopy(c.weight().value, 0, d.weight().value, 0, c.weight().size());
            return d;
        }
        if (layer instanceof Linear l) {
            Linear d = new Linear(l.name(), l.inFeatures(), l.outFeatures(), false, l.kernels());
            System.arraycopy(l.weight().value, 0, d.weight().value, 0, l.weight().size());
            return d;
        }
        if (!layer.params().isEmpty()) {
            throw new IllegalArgumentException("tangent network: layer " + layer.qualifiedName()
                    + " has parameters but is neither Conv2d nor Linear");
        }
        return new Frozen(layer.name(), lin);
    }

    /** A parameter-free linear layer: the given linearization's J, applied to any batch of the same shape. */
    private static final class Frozen extends AbstractLayer {
        private final Linearization j;

        Frozen(String name, Linearization j) {
            super(name);
            this.j = j;
        }

        @Override
        public Shape outputShape(Shape in) {
            if (!in.equals(j.inShape())) {
                throw new IllegalArgumentException("frozen " + name() + ": input " + in + ", expected " + j.inShape());
            }
            return j.outShape();
        }

        @Override
        protected Tensor forwardImpl(Tensor x, Shape out) {
            Tensor y = new Tensor(out);
            j.jvp(x.data, y.data);
            return y;
        }

        @Override
        protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
            Tensor y = forwardImpl(x, out);
            return new AbstractLinearization("frozen " + name(), x.shape, out, mode) {
                @Override
                public Tensor output() {
                    return y;
                }

                @Override
                protected void jvpImpl(float[] dx, float[] dy) {
                    j.jvp(dx, dy);
                }

                @Override
                protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
                    if (gx != null) {
                        j.vjp(gy, gx);
                    }
                }
            };
        }
    }
}
