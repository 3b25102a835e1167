package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.PoolDims;

/**
 * Average pooling, PyTorch's {@code nn.AvgPool2d(kernel, stride, padding)} with count_include_pad;
 * or, built with {@link #global}, global average pooling (n, c, h, w) -> (n, c, 1, 1) over whatever
 * spatial size arrives. Linear: the JVP is the forward pass, the VJP spreads each cotangent evenly.
 */
public final class AvgPool2d extends AbstractLayer {
    private final int kernel;   // 0 for global pooling
    private final int stride;
    private final int pad;

    /** kernel x kernel windows with stride = kernel and no padding. */
    public AvgPool2d(String name, int kernel) {
        this(name, kernel, kernel, 0, Engine.kernels());
    }

    public AvgPool2d(String name, int kernel, int stride, int pad, Kernels kernels) {
        super(name, kernels);
        if (kernel <= 0 || stride <= 0 || pad < 0 || 2 * pad > kernel) {
            throw new IllegalArgumentException("AvgPool2d '" + name + "': bad configuration kernel=" + kernel
                    + " stride=" + stride + " pad=" + pad);
        }
        this.kernel = kernel;
        this.stride = stride;
        this.pad = pad;
    }

    private AvgPool2d(String name, Kernels kernels) {
        super(name, kernels);
        this.kernel = 0;
        this.stride = 1;
        this.pad = 0;
    }

    /** Global average pooling: the mean over the whole h x w plane of each channel. */
    public static AvgPool2d global(String name, Kernels kernels) {
        return new AvgPool2d(name, kernels);
    }

    /** Global average pooling with the default kernels. */
    public static AvgPool2d global(String name) {
        return new AvgPool2d(name, Engine.kernels());
    }

    /** True for global pooling. */
    public boolean isGlobal() {
        return kernel == 0;
    }

    /** Window size, 0 for global pooling. */
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
        if (isGlobal()) {
            return Shape.features(in.n(), in.c());
        }
        if (in.h() + 2 * pad < kernel || in.w() + 2 * pad < kernel) {
            throw error("window " + kernel + "x" + kernel + " with padding " + pad + " does not fit input shape " + in);
        }
        return new Shape(in.n(), in.c(), (in.h() + 2 * pad - kernel) / stride + 1, (in.w() + 2 * pad - kernel) / stride + 1);
    }

    private PoolDims dims(Shape in) {
        return isGlobal()
                ? new PoolDims(in.n(), in.c(), in.h(), in.w(), in.h(), in.w(), 1, 0)
                : new PoolDims(in.n(), in.c(), in.h(), in.w(), kernel, kernel, stride, pad);
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        Tensor y = new Tensor(out);
        kernels.avgPool2dForward(y.data, x.data, dims(x.shape));
        return y;
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        PoolDims d = dims(in);
        return new Linearized<F>(this, b, in, out, mode) {
            {
                F y = tensor(out);
                b.ops().avgPool2dForward(y, x, d);
                setOutput(y);
            }

            @Override
            public void jvp(F dx, F dy) {
                backend.ops().avgPool2dForward(dy, dx, d);
            }

            @Override
            public void vjp(F gy, F gx, Grads<F> grads) {
                if (gx != null) {
                    backend.ops().avgPool2dVjp(gx, gy, d);
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
        return new AvgPoolBounds(this);
    }
}
