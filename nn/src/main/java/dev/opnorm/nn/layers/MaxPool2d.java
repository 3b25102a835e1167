package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.PoolDims;

/**
 * Max pooling over square windows, PyTorch's {@code nn.MaxPool2d(kernel, stride, padding)} (padding
 * counts as -infinity). The Jacobian selects the window's maximum (the first in row-major order on
 * ties), so the linearization keeps the argmax indices: JVP is a gather, VJP a scatter-add.
 */
public final class MaxPool2d extends AbstractLayer {
    private final int kernel;
    private final int stride;
    private final int pad;

    /** kernel x kernel windows with stride = kernel and no padding (PyTorch's default). */
    public MaxPool2d(String name, int kernel) {
        this(name, kernel, kernel, 0, Engine.kernels());
    }

    public MaxPool2d(String name, int kernel, int stride, int pad, Kernels kernels) {
        super(name, kernels);
        if (kernel <= 0 || stride <= 0 || pad < 0 || 2 * pad > kernel) {
            throw new IllegalArgumentException("MaxPool2d '" + name + "': bad configuration kernel=" + kernel
                    + " stride=" + stride + " pad=" + pad);
        }
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return pad;
    }

    @Override
    public Shape outputShape(Shape in) {
        if (in.h() + 2 * pad < kernel || in.w() + 2 * pad < kernel) {
            throw error("window " + kernel + "x" + kernel + " with padding " + pad + " does not fit input shape " + in);
        }
        return new Shape(in.n(), in.c(), (in.h() + 2 * pad - kernel) / stride + 1, (in.w() + 2 * pad - kernel) / stride + 1);
    }

    private PoolDims dims(Shape in) {
        return new PoolDims(in.n(), in.c(), in.h(), in.w(), kernel, kernel, stride, pad);
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        Tensor y = new Tensor(out);
        kernels.maxPool2dForward(y.data, new int[out.size()], x.data, dims(x.shape));
        return y;
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        return new Lin<>(b, x, in, mode, out);
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    /** Max pooling's linearization: a gather of each window's maximum (the kernels' tie rule). */
    private final class Lin<F, I> extends Linearized<F> {
        private final Backend<F, I> b;
        private final I argmax; // (n, c, p, q) flat input index of each window's maximum
        private final PoolDims d;
        private boolean released;

        Lin(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
            super(MaxPool2d.this, b, in, out, mode);
            this.b = b;
            d = dims(in);
            F y = tensor(out);
            argmax = b.ints(out.size());
            b.ops().maxPool2dForward(y, argmax, x, d);
            setOutput(y);
        }

        /**
         * A window's state is the input position its JVP gathers from, read through the JVP itself (so
         * it follows whatever index layout the kernels keep): a ramp 1, 2, ... per example reveals it.
         */
        @Override
        public ActivationSite activationSite() {
            int per = inShape().perExample();
            float[] probe = new float[inShape().size()];
            for (int j = 0; j < probe.length; j++) {
                // per-example indices stay far below 2^24, exact in float
                probe[j] = j % per + 1;
            }
            float[] out = new float[outShape().size()];
            F dProbe = b.ops().upload(probe, inShape());
            F dOut = b.tensor(outShape());
            try {
                jvp(dProbe, dOut);
                b.ops().download(dOut, out, out.length);
            } finally {
                b.give(dOut);
                b.ops().release(dProbe);
            }
            int[] states = new int[out.length];
            for (int j = 0; j < out.length; j++) {
                states[j] = (int) out[j];
            }
            return new ActivationSite(qualifiedName(), ActivationSite.Kind.SELECTED_INDEX, outShape().perExample(),
                    states);
        }

        @Override
        public void jvp(F dx, F dy) {
            b.ops().maxPool2dJvp(dy, dx, argmax, d);
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            if (gx != null) {
                b.ops().maxPool2dVjp(gx, gy, argmax, d);
            }
        }

        @Override
        public void close() {
            super.close();
            if (!released) {
                released = true;
                b.giveInts(argmax);
            }
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new MaxPoolBounds(this);
    }
}
