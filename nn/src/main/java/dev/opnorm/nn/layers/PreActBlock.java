package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The pre-activation residual block of wide ResNets (Zagoruyko & Komodakis 2016, "BasicBlock" of the
 * common PyTorch WRN code), without dropout:
 * <pre>
 *   a   = relu1(bn1(x))
 *   out = conv2(relu2(bn2(conv1(a))))   conv1: 3x3, stride s; conv2: 3x3, stride 1; no biases
 *   y   = out + x                       when in == out channels (and s == 1): identity shortcut
 *   y   = out + convShortcut(a)         otherwise: 1x1 conv, stride s, on the pre-activated input
 * </pre>
 * BatchNorms have affine parameters. Children (and state_dict names): bn1, relu1, conv1, bn2,
 * relu2, conv2, convShortcut. The Jacobian follows the same graph: the main path's chain plus the
 * shortcut's, with the two branches meeting again in relu1/bn1 on the way back (vjpAll is one sweep).
 */
public final class PreActBlock extends AbstractLayer {
    private final int inChannels;
    private final int outChannels;
    private final int stride;
    private final BatchNorm2d bn1;
    private final ReLU relu1;
    private final Conv2d conv1;
    private final BatchNorm2d bn2;
    private final ReLU relu2;
    private final Conv2d conv2;
    private final Conv2d convShortcut; // null for the identity shortcut
    private final List<AbstractLayer> children;
    private final List<Param> params;
    private final List<Param> buffers;

    public PreActBlock(String name, int inChannels, int outChannels, int stride) {
        this(name, inChannels, outChannels, stride, Engine.kernels());
    }

    public PreActBlock(String name, int inChannels, int outChannels, int stride, Kernels kernels) {
        super(name, kernels);
        if (inChannels <= 0 || outChannels <= 0 || stride <= 0) {
            throw new IllegalArgumentException("PreActBlock '" + name + "': bad configuration in=" + inChannels
                    + " out=" + outChannels + " stride=" + stride);
        }
        if (inChannels == outChannels && stride != 1) {
            // the WRN code has no such block: an identity shortcut cannot change the resolution
            throw new IllegalArgumentException("PreActBlock '" + name + "': identity shortcut (in == out = "
                    + inChannels + ") needs stride 1, got " + stride);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.stride = stride;
        bn1 = new BatchNorm2d("bn1", inChannels, true, kernels);
        relu1 = new ReLU("relu1", kernels);
        conv1 = new Conv2d("conv1", inChannels, outChannels, 3, 3, stride, 1, false, kernels);
        bn2 = new BatchNorm2d("bn2", outChannels, true, kernels);
        relu2 = new ReLU("relu2", kernels);
        conv2 = new Conv2d("conv2", outChannels, outChannels, 3, 3, 1, 1, false, kernels);
        convShortcut = inChannels == outChannels ? null
                : new Conv2d("convShortcut", inChannels, outChannels, 1, 1, stride, 0, false, kernels);
        List<AbstractLayer> c = new ArrayList<>(List.of(bn1, relu1, conv1, bn2, relu2, conv2));
        if (convShortcut != null) {
            c.add(convShortcut);
        }
        children = Collections.unmodifiableList(c);
        for (AbstractLayer l : children) {
            l.attachTo(this);
        }
        params = prefixed(children, false);
        buffers = prefixed(children, true);
    }

    /**
     * The sub-layers in state_dict order (convShortcut last, when present). They are not a chain (the
     * shortcut adds a path), so {@link #chain()} is the block itself.
     */
    @Override
    public List<Layer> children() {
        return List.copyOf(children);
    }

    /** True when the shortcut is the identity. */
    public boolean identityShortcut() {
        return convShortcut == null;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int stride() {
        return stride;
    }

    public BatchNorm2d bn1() {
        return bn1;
    }

    public Conv2d conv1() {
        return conv1;
    }

    public BatchNorm2d bn2() {
        return bn2;
    }

    public Conv2d conv2() {
        return conv2;
    }

    /** The 1x1 shortcut conv, or null for the identity shortcut. */
    public Conv2d convShortcut() {
        return convShortcut;
    }

    @Override
    public Shape outputShape(Shape in) {
        Shape a = relu1.outputShape(bn1.outputShape(in));
        Shape out = conv2.outputShape(relu2.outputShape(bn2.outputShape(conv1.outputShape(a))));
        Shape shortcut = convShortcut == null ? in : convShortcut.outputShape(a);
        if (!out.equals(shortcut)) {
            throw error("main path gives " + out + " but the shortcut " + shortcut + " for input shape " + in);
        }
        return out;
    }

    @Override
    protected boolean checksFiniteInput() {
        return false; // bn1 checks and names itself
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape outShape) {
        Tensor a = relu1.forward(bn1.forward(x));
        Tensor out = conv2.forward(relu2.forward(bn2.forward(conv1.forward(a))));
        Tensor s = convShortcut == null ? x : convShortcut.forward(a);
        kernels.add(out.data, out.data, s.data, out.shape.size());
        return out;
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        return new Lin<>(b, x, in, mode, out);
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    /** The children's parameters under "child.name" keys; the same Param objects on every call. */
    @Override
    public List<Param> params() {
        return params;
    }

    /** The children's buffers under "child.name" keys; the same Param objects on every call. */
    @Override
    public List<Param> buffers() {
        return buffers;
    }

    /** Children's params (or buffers) renamed with the child's name as prefix, computed once. */
    private static List<Param> prefixed(List<? extends Layer> children, boolean buffers) {
        List<Param> out = new ArrayList<>();
        for (Layer c : children) {
            for (Param p : buffers ? c.buffers() : c.params()) {
                out.add(p.renamed(c.name() + "." + p.name()));
            }
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void initParameters(SplittableRandom rnd) {
        for (Layer c : children) {
            c.initParameters(rnd);
        }
    }

    private final class Lin<F> extends Linearized<F> {
        private final List<Linearized<F>> parts = new ArrayList<>();
        private Linearized<F> bn1L, relu1L, conv1L, bn2L, relu2L, conv2L, shortL; // shortL null: identity
        private final int inSize;
        private final int outSize;
        // scratch, made on first use: tangents of the input size (a, bn1 output) and of the inner size
        private F inA;    // (n, in, h, w)
        private F inB;    // (n, in, h, w)
        private F midA;   // (n, out, h/s, w/s)
        private F midB;   // (n, out, h/s, w/s)
        private F shortBuf; // (n, out, h/s, w/s) shortcut tangent, null for identity
        Lin(Backend<F, ?> b, F x, Shape in, BnMode mode, Shape outShape) {
            super(PreActBlock.this, b, in, outShape, mode);
            try {
                bn1L = part(bn1.linearizeOn(b, x, in, mode));
                relu1L = part(relu1.linearizeOn(b, bn1L.output(), bn1L.outShape(), mode));
                F a = relu1L.output();
                conv1L = part(conv1.linearizeOn(b, a, relu1L.outShape(), mode));
                bn2L = part(bn2.linearizeOn(b, conv1L.output(), conv1L.outShape(), mode));
                relu2L = part(relu2.linearizeOn(b, bn2L.output(), bn2L.outShape(), mode));
                conv2L = part(conv2.linearizeOn(b, relu2L.output(), relu2L.outShape(), mode));
                shortL = convShortcut == null ? null : part(convShortcut.linearizeOn(b, a, relu1L.outShape(), mode));
            } catch (RuntimeException e) {
                parts.forEach(Linearized::close);
                throw e;
            }
            inSize = in.size();
            outSize = outShape.size();
            F y = tensor(outShape);
            b.ops().add(y, conv2L.output(), shortL == null ? x : shortL.output(), outSize);
            setOutput(y);
        }

        private Linearized<F> part(Linearized<F> l) {
            parts.add(l);
            return l;
        }

        private void scratch() {
            if (inA == null) {
                inA = tensor(inShape());
                inB = tensor(inShape());
                midA = tensor(outShape());
                midB = tensor(outShape());
                shortBuf = shortL == null ? null : tensor(outShape());
            }
        }

        @Override
        public void jvp(F dx, F dy) {
            scratch();
            bn1L.jvp(dx, inA);
            relu1L.jvp(inA, inB);                 // da
            conv1L.jvp(inB, midA);
            bn2L.jvp(midA, midB);
            relu2L.jvp(midB, midA);
            conv2L.jvp(midA, dy);                 // main path
            if (shortL == null) {
                backend.ops().add(dy, dy, dx, outSize); // + dx (identity shortcut)
            } else {
                shortL.jvp(inB, shortBuf);
                backend.ops().add(dy, dy, shortBuf, outSize);
            }
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            scratch();
            // main path back to a: ga = conv1^T bn2^T relu2^T conv2^T gy
            conv2L.vjp(gy, midA, grads);
            relu2L.vjp(midA, midB, null);
            bn2L.vjp(midB, midA, grads);
            conv1L.vjp(midA, inA, grads);
            if (shortL != null) {
                // ga += convShortcut^T gy: both branches start from a
                shortL.vjp(gy, inB, grads);
                backend.ops().add(inA, inA, inB, inSize);
            }
            relu1L.vjp(inA, inB, null);
            if (gx == null && grads == null) {
                return;
            }
            bn1L.vjp(inB, gx, grads);             // gx may be null: bn1's parameter gradients only
            if (gx != null && shortL == null) {
                backend.ops().add(gx, gx, gy, inSize); // + gy (identity shortcut)
            }
        }

        @Override
        public void commit() {
            bn1L.commit();
            bn2L.commit();
        }

        /** bn1, relu1, conv1, bn2, relu2, conv2 and, when present, the shortcut conv. */
        @Override
        public List<Linearized<F>> parts() {
            return parts;
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new PreActBlockBounds(this, bn1, relu1, List.of(conv1, bn2, relu2, conv2), convShortcut);
    }
}
