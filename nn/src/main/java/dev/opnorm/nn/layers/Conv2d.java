package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.init.PyTorchInit;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;

import java.util.List;
import java.util.SplittableRandom;

/**
 * 2-D convolution (cross-correlation, as PyTorch's {@code nn.Conv2d}): y = conv(x, W) + b with
 * weights W (outChannels, inChannels, kh, kw), optional bias b (outChannels), equal stride and
 * symmetric zero padding in both directions. Linear in x: the JVP is the convolution without bias,
 * the VJP the transposed convolution; parameter gradients gW += gy (x) x, gb += sum gy.
 * Parameters "weight" and "bias" (PyTorch state_dict keys).
 */
public final class Conv2d extends AbstractLayer {
    private final int inChannels;
    private final int outChannels;
    private final int kh;
    private final int kw;
    private final int stride;
    private final int pad;
    private final Param weight; // (outChannels, inChannels, kh, kw)
    private final Param bias;   // (outChannels) or null

    /** A square-kernel conv with the default kernels; parameters start at zero until {@link #initParameters}. */
    public Conv2d(String name, int inChannels, int outChannels, int kernel, int stride, int pad, boolean bias) {
        this(name, inChannels, outChannels, kernel, kernel, stride, pad, bias, Engine.kernels());
    }

    /** A kh x kw conv computed with the given kernels. */
    public Conv2d(String name, int inChannels, int outChannels, int kh, int kw, int stride, int pad, boolean bias,
                  Kernels kernels) {
        super(name, kernels);
        if (inChannels <= 0 || outChannels <= 0 || kh <= 0 || kw <= 0 || stride <= 0 || pad < 0) {
            throw new IllegalArgumentException("Conv2d '" + name + "': bad configuration in=" + inChannels
                    + " out=" + outChannels + " kernel=" + kh + "x" + kw + " stride=" + stride + " pad=" + pad);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kh = kh;
        this.kw = kw;
        this.stride = stride;
        this.pad = pad;
        this.weight = new Param("weight", new float[outChannels * inChannels * kh * kw], outChannels, inChannels, kh, kw);
        this.bias = bias ? new Param("bias", new float[outChannels], outChannels) : null;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int kernelHeight() {
        return kh;
    }

    public int kernelWidth() {
        return kw;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return pad;
    }

    /** The weight parameter (outChannels, inChannels, kh, kw). */
    public Param weight() {
        return weight;
    }

    /** The bias parameter, or null for a conv without bias. */
    public Param bias() {
        return bias;
    }

    @Override
    public Shape outputShape(Shape in) {
        if (in.c() != inChannels) {
            throw error("expects " + inChannels + " input channels, got input shape " + in);
        }
        if (in.h() + 2 * pad < kh || in.w() + 2 * pad < kw) {
            throw error("kernel " + kh + "x" + kw + " with padding " + pad + " does not fit input shape " + in);
        }
        return new Shape(in.n(), outChannels, (in.h() + 2 * pad - kh) / stride + 1, (in.w() + 2 * pad - kw) / stride + 1);
    }

    private Conv2dDims dims(Shape in) {
        return new Conv2dDims(in.n(), inChannels, in.h(), in.w(), outChannels, kh, kw, stride, pad);
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        Tensor y = new Tensor(out);
        kernels.conv2dForward(y.data, x.data, weight.value, bias == null ? null : bias.value, dims(x.shape));
        return y;
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        return new Lin<>(b, x, in, out, mode);
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    @Override
    public List<Param> params() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }

    @Override
    public void initParameters(SplittableRandom rnd) {
        PyTorchInit.weightAndBias(weight.value, bias == null ? null : bias.value, inChannels * kh * kw, rnd);
    }

    /**
     * The kernel as an outChannels x (inChannels*kh*kw) matrix; its operator on an input shape is the
     * convolution there (bias excluded), whose norm differs from the matrix's.
     */
    @Override
    public List<LinearWeight> linearWeights() {
        return List.of(new LinearWeight() {
            @Override
            public Layer layer() {
                return Conv2d.this;
            }

            @Override
            public Param weight() {
                return weight;
            }

            @Override
            public int rows() {
                return outChannels;
            }

            @Override
            public int cols() {
                return inChannels * kh * kw;
            }

            @Override
            public boolean actsAsMatrix() {
                return false;
            }

            @Override
            public WeightOperator operatorOn(Shape in) {
                Shape one = in.withBatch(1);
                return new ConvOperator(one, outputShape(one));
            }
        });
    }

    /** The convolution without bias on one example: A(W) x = conv(x, W). */
    private final class ConvOperator implements WeightOperator {
        private final Shape in;
        private final Shape out;
        private final Conv2dDims d;

        ConvOperator(Shape in, Shape out) {
            this.in = in;
            this.out = out;
            this.d = dims(in);
        }

        @Override
        public Shape inShape() {
            return in;
        }

        @Override
        public Shape outShape() {
            return out;
        }

        @Override
        public void apply(float[] x, float[] y) {
            kernels.conv2dForward(y, x, weight.value, null, d);
        }

        @Override
        public void applyTranspose(float[] y, float[] x) {
            kernels.conv2dVjpInput(x, y, weight.value, d);
        }

        @Override
        public void accumulateWeightGradient(float[] gW, float[] y, float[] x) {
            // <y, conv(x; W)> is linear in W: its gradient is the weight VJP with cotangent y at input x
            kernels.conv2dVjpWeight(gW, y, x, d);
        }

        @Override
        public Conv2dDims convDims() {
            return d;
        }
    }

    private final class Lin<F> extends Linearized<F> {
        private final F x;      // (n, inChannels, h, w) saved input, for the weight gradient
        private final F w;
        private final F b;      // null without bias
        private final Conv2dDims d;

        Lin(Backend<F, ?> be, F x, Shape in, Shape out, BnMode mode) {
            super(Conv2d.this, be, in, out, mode);
            this.x = x;
            this.w = be.param(weight);
            this.b = be.paramOrNull(bias);
            this.d = dims(in);
            F y = tensor(out);
            be.ops().conv2dForward(y, x, w, b, d);
            setOutput(y);
        }

        @Override
        public void jvp(F dx, F dy) {
            backend.ops().conv2dForward(dy, dx, w, null, d);
        }

        @Override
        public boolean hasTangentRule() {
            return true;
        }

        /** J = conv(., W) is linear in W: d/dW {@code <g, J t>} is the weight VJP with t as the input. */
        @Override
        public void tangentRule(F t, F g, Grads<F> grads) {
            backend.ops().conv2dVjpWeight(grads.of(weight), g, t, d);
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            if (gx != null) {
                backend.ops().conv2dVjpInput(gx, gy, w, d);
            }
            if (grads != null) {
                backend.ops().conv2dVjpWeight(grads.of(weight), gy, x, d);
                if (bias != null) {
                    backend.ops().conv2dVjpBias(grads.of(bias), gy, d);
                }
            }
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new Conv2dBounds(this);
    }
}
