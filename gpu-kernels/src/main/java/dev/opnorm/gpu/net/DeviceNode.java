package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceBuffer;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.PoolDims;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.PreActBlock;

import java.util.ArrayList;
import java.util.List;

/**
 * One layer of a {@link DeviceModel}: its forward pass on the device, producing a {@link Step} (the
 * layer linearized at its input) that holds the output and the residuals as device buffers. Each
 * node mirrors the host layer's linearization (same ops, same order, same residuals); comments name
 * the host class.
 */
abstract class DeviceNode {
    final Layer layer;

    DeviceNode(Layer layer) {
        this.layer = layer;
    }

    /** Looks up the device copies of the layer's parameters (after the model has uploaded them). */
    void bind(DeviceModel m) {
    }

    /** Forward at x (input shape in) in the given mode: output and residuals on the device. */
    abstract Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode);

    /** A layer linearized at its input: output y, residuals, jvp / vjp on device buffers. */
    abstract static class Step {
        final Shape in;
        final Shape out;
        final DeviceTensor x; // the input (owned by the previous step or the caller)
        DeviceTensor y;       // the output
        private final DevicePool pool;
        private final List<DeviceBuffer> owned = new ArrayList<>();

        Step(DevicePool pool, Shape in, Shape out, DeviceTensor x) {
            this.pool = pool;
            this.in = in;
            this.out = out;
            this.x = x;
        }

        <T extends DeviceBuffer> T own(T b) {
            owned.add(b);
            return b;
        }

        DeviceTensor tensor(OpenCl cl, Shape s) {
            return own(pool.tensor(s));
        }

        DeviceTensor vector(OpenCl cl, int len) {
            return own(pool.tensor(Shape.features(1, len)));
        }

        /** dy = J dx, overwritten. */
        abstract void jvp(OpenClOps ops, DeviceTensor dx, DeviceTensor dy);

        /** gx = J^T gy (overwritten) unless gx is null; grads += parameter gradients unless null. */
        abstract void vjp(OpenClOps ops, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads);

        /**
         * grads += d/d theta_layer of {@code <g, J_layer t>}, t the tangent entering the layer (the host
         * {@code TangentGradient} rule: the weight gradient with t as the input, BatchNorm EVAL gamma terms;
         * biases and shifts do not enter J). Nothing for parameter-free layers.
         */
        void tangentGrad(OpenClOps ops, DeviceTensor g, DeviceTensor t, DeviceGrads grads) {
        }

        /** The training side effects (BatchNorm running statistics); nothing by default. */
        void commit(OpenClOps ops) {
        }

        /** Gives every buffer of this step back to the model's pool. */
        void close() {
            owned.forEach(pool::give);
            owned.clear();
        }
    }

    // ---- Conv2d ---------------------------------------------------------------------------------------

    static final class ConvNode extends DeviceNode {
        private final Conv2d conv;
        private DeviceTensor w;
        private DeviceTensor b;

        ConvNode(Conv2d conv) {
            super(conv);
            this.conv = conv;
        }

        @Override
        void bind(DeviceModel m) {
            w = m.value(conv.weight());
            b = conv.bias() == null ? null : m.value(conv.bias());
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            Conv2dDims d = new Conv2dDims(in.n(), conv.inChannels(), in.h(), in.w(), conv.outChannels(),
                    conv.kernelHeight(), conv.kernelWidth(), conv.stride(), conv.padding());
            Step s = new Step(pool, in, conv.outputShape(in), x) {
                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.conv2dForward(dy, dx, w, null, d);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.conv2dVjpInput(gx, gy, w, d);
                    }
                    if (grads != null) {
                        o.conv2dVjpWeight(grads.of(conv.weight()), gy, this.x, d);
                        if (b != null) {
                            o.conv2dVjpBias(grads.of(conv.bias()), gy, d);
                        }
                    }
                }

                @Override
                void tangentGrad(OpenClOps o, DeviceTensor g, DeviceTensor t, DeviceGrads grads) {
                    o.conv2dVjpWeight(grads.of(conv.weight()), g, t, d);
                }
            };
            s.y = s.tensor(ops.runtime(), s.out);
            ops.conv2dForward(s.y, x, w, b, d);
            return s;
        }
    }

    // ---- BatchNorm2d ----------------------------------------------------------------------------------

    static final class BnNode extends DeviceNode {
        private final BatchNorm2d bn;
        private DeviceTensor gamma;
        private DeviceTensor beta;
        private DeviceTensor runningMean;
        private DeviceTensor runningVar;

        BnNode(BatchNorm2d bn) {
            super(bn);
            this.bn = bn;
        }

        @Override
        void bind(DeviceModel m) {
            gamma = bn.affine() ? m.value(bn.weight()) : null;
            beta = bn.affine() ? m.value(bn.bias()) : null;
            runningMean = m.value(bn.runningMean());
            runningVar = m.value(bn.runningVar());
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            Shape out = bn.outputShape(in);
            return mode == BnMode.EVAL ? eval(ops, pool, x, in, out) : train(ops, pool, x, in, out);
        }

        /** BatchNorm2d.EvalLin: a per-channel affine map with the running statistics (read now). */
        private Step eval(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, Shape out) {
            int n = in.n(), c = bn.channels(), hw = in.h() * in.w();
            OpenCl cl = ops.runtime();
            Step s = new Step(pool, in, out, x) {
                DeviceTensor inv = vector(cl, c), negMeanInv = vector(cl, c), scale = vector(cl, c),
                        shift = vector(cl, c);
                DeviceTensor xhat; // computed on the first parameter-gradient request, as the host does

                {
                    ops.bnCoefs(inv, negMeanInv, scale, shift, runningMean, runningVar, gamma, beta,
                            BatchNorm2d.EPS, c);
                    y = tensor(cl, out);
                    ops.channelAffine(y, x, scale, shift, n, c, hw);
                }

                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.channelAffine(dy, dx, scale, null, n, c, hw);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.channelAffine(gx, gy, scale, null, n, c, hw);
                    }
                    if (grads != null && gamma != null) {
                        if (xhat == null) {
                            xhat = tensor(cl, in);
                            o.channelAffine(xhat, this.x, inv, negMeanInv, n, c, hw);
                        }
                        o.channelSumsAccumulate(grads.of(bn.bias()), grads.of(bn.weight()), gy, xhat, n, c, hw);
                    }
                }

                DeviceTensor scaledTangent, unusedSums; // made on the first tangent-gradient request

                /** d/dgamma_c of {@code <g, diag(gamma / s) t>} = sum g * (t / s_c), s = sqrt(running_var + eps). */
                @Override
                void tangentGrad(OpenClOps o, DeviceTensor g, DeviceTensor t, DeviceGrads grads) {
                    if (gamma == null) {
                        return;
                    }
                    if (scaledTangent == null) {
                        scaledTangent = tensor(cl, in);
                        unusedSums = vector(cl, c);
                    }
                    o.channelAffine(scaledTangent, t, inv, null, n, c, hw);
                    o.channelSumsAccumulate(unusedSums, grads.of(bn.weight()), g, scaledTangent, n, c, hw);
                }
            };
            return s;
        }

        /** BatchNorm2d.TrainLin: batch statistics; the Jacobian couples the batch. */
        private Step train(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, Shape out) {
            int n = in.n(), c = bn.channels(), hw = in.h() * in.w();
            if ((long) n * hw < 2) {
                throw new IllegalArgumentException(bn.describe() + ": TRAIN mode needs more than one value per "
                        + "channel (batch statistics), got input shape " + in);
            }
            OpenCl cl = ops.runtime();
            return new Step(pool, in, out, x) {
                DeviceTensor mean = vector(cl, c), var = vector(cl, c), inv = vector(cl, c),
                        negMeanInv = vector(cl, c), coef = vector(cl, c), unusedShift = vector(cl, c),
                        xhat = tensor(cl, in);
                boolean committed;

                {
                    ops.channelMeanVar(mean, var, x, n, c, hw);
                    ops.bnCoefs(inv, negMeanInv, coef, unusedShift, mean, var, gamma, beta, BatchNorm2d.EPS, c);
                    ops.channelAffine(xhat, x, inv, negMeanInv, n, c, hw);
                    if (gamma != null) {
                        y = tensor(cl, out);
                        ops.channelAffine(y, xhat, gamma, beta, n, c, hw);
                    } else {
                        y = xhat;
                    }
                }

                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.bnTrainJacobian(dy, dx, xhat, coef, n, c, hw);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.bnTrainJacobian(gx, gy, xhat, coef, n, c, hw);
                    }
                    if (grads != null && gamma != null) {
                        o.channelSumsAccumulate(grads.of(bn.bias()), grads.of(bn.weight()), gy, xhat, n, c, hw);
                    }
                }

                @Override
                void commit(OpenClOps o) {
                    if (committed) {
                        throw new IllegalStateException(bn.describe() + ": commit() called twice on one TRAIN linearization");
                    }
                    committed = true;
                    double count = (double) n * hw;
                    o.bnRunningUpdate(runningMean, runningVar, mean, var, BatchNorm2d.MOMENTUM, count / (count - 1), c);
                }
            };
        }
    }

    // ---- parameter-free layers ------------------------------------------------------------------------

    static final class ReluNode extends DeviceNode {
        ReluNode(Layer relu) {
            super(relu);
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            int len = in.size();
            Step s = new Step(pool, in, in, x) {
                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.reluMask(dy, dx, y, len); // y > 0 exactly where x > 0: the output is the mask (ReLU.Lin)
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.reluMask(gx, gy, y, len);
                    }
                }
            };
            s.y = s.tensor(ops.runtime(), in);
            ops.relu(s.y, x, len);
            return s;
        }
    }

    static final class MaxPoolNode extends DeviceNode {
        private final MaxPool2d maxPool;

        MaxPoolNode(MaxPool2d maxPool) {
            super(maxPool);
            this.maxPool = maxPool;
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            PoolDims d = new PoolDims(in.n(), in.c(), in.h(), in.w(), maxPool.kernel(), maxPool.kernel(), maxPool.stride(),
                    maxPool.padding());
            Shape out = maxPool.outputShape(in);
            DeviceInts argmax = pool.ints(out.size());
            Step s = new Step(pool, in, out, x) {
                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.maxPool2dJvp(dy, dx, argmax, d);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.maxPool2dVjp(gx, gy, argmax, d);
                    }
                }
            };
            s.own(argmax);
            s.y = s.tensor(ops.runtime(), out);
            ops.maxPool2dForward(s.y, argmax, x, d);
            return s;
        }
    }

    static final class AvgPoolNode extends DeviceNode {
        private final AvgPool2d avgPool;

        AvgPoolNode(AvgPool2d avgPool) {
            super(avgPool);
            this.avgPool = avgPool;
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            PoolDims d = avgPool.isGlobal()
                    ? new PoolDims(in.n(), in.c(), in.h(), in.w(), in.h(), in.w(), 1, 0)
                    : new PoolDims(in.n(), in.c(), in.h(), in.w(), avgPool.kernel(), avgPool.kernel(), avgPool.stride(),
                    avgPool.padding());
            Step s = new Step(pool, in, avgPool.outputShape(in), x) {
                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.avgPool2dForward(dy, dx, d);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.avgPool2dVjp(gx, gy, d);
                    }
                }
            };
            s.y = s.tensor(ops.runtime(), s.out);
            ops.avgPool2dForward(s.y, x, d);
            return s;
        }
    }

    static final class FlattenNode extends DeviceNode {
        FlattenNode(Layer flatten) {
            super(flatten);
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            int len = in.size();
            Step s = new Step(pool, in, layer.outputShape(in), x) {
                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.copy(dy, dx, len);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.copy(gx, gy, len);
                    }
                }
            };
            s.y = s.tensor(ops.runtime(), s.out);
            ops.copy(s.y, x, len);
            return s;
        }
    }

    // ---- PreActBlock (WRN) ------------------------------------------------------------------------------

    /** PreActBlock.Lin: relu(bn1(x)) = a; conv2(relu(bn2(conv1(a)))) + (x or convShortcut(a)). */
    static final class BlockNode extends DeviceNode {
        private final DeviceNode bn1, relu1, conv1, bn2, relu2, conv2, shortcut; // shortcut null: identity

        BlockNode(PreActBlock b) {
            super(b);
            List<Layer> c = b.children(); // bn1, relu1, conv1, bn2, relu2, conv2[, convShortcut]
            bn1 = new BnNode(b.bn1());
            relu1 = new ReluNode(c.get(1));
            conv1 = new ConvNode(b.conv1());
            bn2 = new BnNode(b.bn2());
            relu2 = new ReluNode(c.get(4));
            conv2 = new ConvNode(b.conv2());
            shortcut = b.identityShortcut() ? null : new ConvNode(b.convShortcut());
        }

        @Override
        void bind(DeviceModel m) {
            for (DeviceNode n : new DeviceNode[]{bn1, relu1, conv1, bn2, relu2, conv2, shortcut}) {
                if (n != null) {
                    n.bind(m);
                }
            }
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            OpenCl cl = ops.runtime();
            List<Step> parts = new ArrayList<>();
            Step bn1L = add(parts, bn1.linearize(ops, pool, x, in, mode));
            Step relu1L = add(parts, relu1.linearize(ops, pool, bn1L.y, bn1L.out, mode));
            DeviceTensor a = relu1L.y;
            Step conv1L = add(parts, conv1.linearize(ops, pool, a, relu1L.out, mode));
            Step bn2L = add(parts, bn2.linearize(ops, pool, conv1L.y, conv1L.out, mode));
            Step relu2L = add(parts, relu2.linearize(ops, pool, bn2L.y, bn2L.out, mode));
            Step conv2L = add(parts, conv2.linearize(ops, pool, relu2L.y, relu2L.out, mode));
            Step shortL = shortcut == null ? null : add(parts, shortcut.linearize(ops, pool, a, relu1L.out, mode));
            Shape out = conv2L.out;
            int inSize = in.size(), outSize = out.size();
            Step s = new Step(pool, in, out, x) {
                // scratch as the host block: two input-sized, two inner-sized, one shortcut tangent
                final DeviceTensor inA = tensor(cl, in), inB = tensor(cl, in), midA = tensor(cl, out),
                        midB = tensor(cl, out), shortBuf = shortL == null ? null : tensor(cl, out);

                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    bn1L.jvp(o, dx, inA);
                    relu1L.jvp(o, inA, inB);                // da
                    conv1L.jvp(o, inB, midA);
                    bn2L.jvp(o, midA, midB);
                    relu2L.jvp(o, midB, midA);
                    conv2L.jvp(o, midA, dy);                // main path
                    if (shortL == null) {
                        o.add(dy, dy, dx, outSize);         // + dx (identity shortcut)
                    } else {
                        shortL.jvp(o, inB, shortBuf);
                        o.add(dy, dy, shortBuf, outSize);
                    }
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    conv2L.vjp(o, gy, midA, grads);
                    relu2L.vjp(o, midA, midB, null);
                    bn2L.vjp(o, midB, midA, grads);
                    conv1L.vjp(o, midA, inA, grads);
                    if (shortL != null) {
                        shortL.vjp(o, gy, inB, grads);      // ga += convShortcut^T gy
                        o.add(inA, inA, inB, inSize);
                    }
                    relu1L.vjp(o, inA, inB, null);
                    bn1L.vjp(o, inB, gx, grads);            // gx may be null: bn1's parameter gradients only
                    if (gx != null && shortL == null) {
                        o.add(gx, gx, gy, inSize);          // + gy (identity shortcut)
                    }
                }

                @Override
                void commit(OpenClOps o) {
                    bn1L.commit(o);
                    bn2L.commit(o);
                }

                @Override
                void close() {
                    super.close();
                    parts.forEach(Step::close);
                }
            };
            s.y = s.tensor(cl, out);
            ops.add(s.y, conv2L.y, shortL == null ? x : shortL.y, outSize);
            return s;
        }

        private static Step add(List<Step> parts, Step s) {
            parts.add(s);
            return s;
        }
    }

    // ---- Linear -----------------------------------------------------------------------------------------

    static final class LinearNode extends DeviceNode {
        private final Linear fc;
        private DeviceTensor w;
        private DeviceTensor b;

        LinearNode(Linear fc) {
            super(fc);
            this.fc = fc;
        }

        @Override
        void bind(DeviceModel m) {
            w = m.value(fc.weight());
            b = fc.bias() == null ? null : m.value(fc.bias());
        }

        @Override
        Step linearize(OpenClOps ops, DevicePool pool, DeviceTensor x, Shape in, BnMode mode) {
            int n = in.n(), fin = fc.inFeatures(), fout = fc.outFeatures();
            Step s = new Step(pool, in, fc.outputShape(in), x) {
                @Override
                void jvp(OpenClOps o, DeviceTensor dx, DeviceTensor dy) {
                    o.gemm(false, true, n, fout, fin, 1f, dx, 0, fin, w, 0, fin, 0f, dy, 0, fout);
                }

                @Override
                void vjp(OpenClOps o, DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
                    if (gx != null) {
                        o.gemm(false, false, n, fin, fout, 1f, gy, 0, fout, w, 0, fin, 0f, gx, 0, fin);
                    }
                    if (grads != null) {
                        o.gemm(true, false, fout, fin, n, 1f, gy, 0, fout, this.x, 0, fin, 1f,
                                grads.of(fc.weight()), 0, fin);
                        if (b != null) {
                            o.sumRowsAccumulate(grads.of(fc.bias()), gy, n, fout);
                        }
                    }
                }

                @Override
                void tangentGrad(OpenClOps o, DeviceTensor g, DeviceTensor t, DeviceGrads grads) {
                    o.gemm(true, false, fout, fin, n, 1f, g, 0, fout, t, 0, fin, 1f, grads.of(fc.weight()), 0, fin);
                }
            };
            s.y = s.tensor(ops.runtime(), s.out);
            ops.gemm(false, true, n, fout, fin, 1f, x, 0, fin, w, 0, fin, 0f, s.y, 0, fout);
            if (b != null) {
                ops.addRowBias(s.y, b, n, fout);
            }
            return s;
        }
    }
}
