package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.robust.reg.TangentChain;
import dev.opnorm.robust.reg.TangentGradient;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link DeviceModel} linearized at an input batch x on the device: the device twin of
 * {@link dev.opnorm.nn.layers.Linearization} for a whole network. The forward pass ran at construction
 * and every residual (ReLU outputs as masks, BatchNorm xhat / coefficients / batch statistics, max-pool
 * argmax, saved layer inputs) stays on the device; {@link #jvp}, {@link #vjp}, {@link #vjpParams} and
 * {@link #vjpAll} only enqueue kernels (no transfer, no waiting), so they can be chained into power
 * iterations and training steps that move nothing but scalars.
 *
 * <p>Conventions as the host interface: jvp / vjp OVERWRITE their output, vjpParams ACCUMULATES (+=)
 * into the {@link DeviceGrads}; inputs are not modified; an output must not be its input. Tensors may
 * be longer than the shape needs. The parameters are read when kernels run: an optimizer step on the
 * device makes the linearization stale, as on the host. Not thread safe; {@link #close()} gives the
 * residuals back to the model's buffer pool (do not use {@link #output()} after it) and frees the input
 * when {@link DeviceModel#linearize(dev.opnorm.nn.Tensor, BnMode)} uploaded it.
 */
public final class DeviceLinearization implements AutoCloseable {
    private final DeviceModel model;
    private final OpenClOps ops;
    private final DeviceTensor x;
    private final BnMode mode;
    private final Shape outShape;
    private final List<DeviceNode.Step> steps;
    private final List<Layer> layers; // the layer of each step
    private final int maxSize;
    private DeviceTensor ping;
    private DeviceTensor pong;
    private boolean ownsInput;
    private boolean committed;
    private boolean closed;

    DeviceLinearization(DeviceModel model, List<DeviceNode> nodes, DeviceTensor x, BnMode mode, Shape outShape) {
        this.model = model;
        this.ops = model.ops();
        this.x = x;
        this.mode = mode;
        this.outShape = outShape;
        List<DeviceNode.Step> list = new ArrayList<>(nodes.size());
        DeviceTensor t = x;
        Shape s = x.shape();
        int max = s.size();
        try {
            for (DeviceNode node : nodes) {
                DeviceNode.Step step = node.linearize(ops, model.pool(), t, s, mode);
                list.add(step);
                t = step.y;
                s = step.out;
                max = Math.max(max, s.size());
            }
        } catch (RuntimeException e) {
            list.forEach(DeviceNode.Step::close);
            throw e;
        }
        this.steps = List.copyOf(list);
        List<Layer> ls = new ArrayList<>(nodes.size());
        nodes.forEach(nd -> ls.add(nd.layer));
        this.layers = List.copyOf(ls);
        this.maxSize = max;
    }

    void ownInput() {
        ownsInput = true;
    }

    public Shape inShape() {
        return x.shape();
    }

    public Shape outShape() {
        return outShape;
    }

    public BnMode mode() {
        return mode;
    }

    public DeviceModel model() {
        return model;
    }

    /** The input batch x (on the device). */
    public DeviceTensor input() {
        return x;
    }

    /** f(x) on the device; do not modify it. {@code output().download()} brings it back. */
    public DeviceTensor output() {
        checkOpen();
        return steps.get(steps.size() - 1).y;
    }

    /**
     * dy = J dx (forward mode), overwritten; dx has inShape().size() elements, dy outShape().size().
     *
     * @throws IllegalArgumentException when a tensor is null, too short, or dx == dy
     */
    public void jvp(DeviceTensor dx, DeviceTensor dy) {
        check("jvp", "dx", dx, inShape(), "dy", dy, outShape);
        DeviceTensor src = dx;
        int last = steps.size() - 1;
        for (int i = 0; i <= last; i++) {
            DeviceTensor dst = i == last ? dy : scratch(i);
            steps.get(i).jvp(ops, src, dst);
            src = dst;
        }
    }

    /** gx = J^T gy (reverse mode), overwritten. */
    public void vjp(DeviceTensor gy, DeviceTensor gx) {
        check("vjp", "gy", gy, outShape, "gx", gx, inShape());
        backward(gy, gx, null);
    }

    /** grads += (df/dp)^T gy for every parameter p (accumulated); the input gradient is not computed. */
    public void vjpParams(DeviceTensor gy, DeviceGrads grads) {
        if (grads == null) {
            throw new IllegalArgumentException("vjpParams needs a DeviceGrads");
        }
        check("vjpParams", "gy", gy, outShape, null, null, null);
        backward(gy, null, grads);
    }

    /** One backward sweep: gx = J^T gy (overwritten) unless gx is null, grads += unless grads is null. */
    public void vjpAll(DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
        check("vjpAll", "gy", gy, outShape, gx == null ? null : "gx", gx, inShape());
        if (gx != null || grads != null) {
            backward(gy, gx, grads);
        }
    }

    private void backward(DeviceTensor gy, DeviceTensor gx, DeviceGrads grads) {
        DeviceTensor src = gy;
        for (int i = steps.size() - 1; i >= 0; i--) {
            DeviceTensor dst = i == 0 ? gx : scratch(i);
            steps.get(i).vjp(ops, src, dst, grads);
            src = dst;
        }
    }

    /**
     * grads += d/d theta {@code <cotangent, J(theta) tangent>}, summed over the batch (accumulated): robust's
     * {@code TangentGradient} (written once) on this linearization's steps. For conv, linear, ReLU, max / avg
     * pooling, flatten and EVAL BatchNorm every Jacobian factor is a weight matrix, a fixed diagonal scale or a
     * fixed 0/1 selection, so with t_l the tangent entering layer l and c_l the cotangent at its output
     * d/dW_l = c_l (x) t_l (the weight-gradient kernels with t_l as the input) and, for affine BN,
     * d/dgamma_l = sum over (n, h, w) of c_l t_l / sqrt(running_var + eps). Everything is enqueued on the
     * device: no transfer.
     *
     * @param tangent   inShape().size() elements, not modified
     * @param cotangent outShape().size() elements, not modified; not the tangent
     * @throws IllegalArgumentException for a TRAIN-mode linearization, null or short tensors, or a layer with
     *                                  parameters and no rule (a PreActBlock; its name is given)
     */
    public void tangentGradient(DeviceTensor tangent, DeviceTensor cotangent, DeviceGrads grads) {
        if (mode != BnMode.EVAL) {
            throw new IllegalArgumentException("TangentGradient needs an EVAL-mode linearization (TRAIN-mode BatchNorm "
                    + "makes J depend on the parameters through the batch statistics)");
        }
        if (grads == null) {
            throw new IllegalArgumentException("TangentGradient needs a DeviceGrads");
        }
        check("TangentGradient", "tangent", tangent, inShape(), "cotangent", cotangent, outShape);
        TangentGradient.accumulate(tangentChain(), tangent, cotangent, grads);
    }

    /**
     * This linearization's steps as robust's {@link TangentChain}: the steps' JVP, VJP and tangent-gradient
     * kernels; tangents in pooled buffers, cotangents in the ping-pong scratch. The rules are those of conv,
     * linear and BatchNorm (a residual block has parameters but none).
     */
    private TangentChain<DeviceTensor, DeviceGrads> tangentChain() {
        DevicePool pool = model.pool();
        return new TangentChain<>() {
            @Override
            public int links() {
                return steps.size();
            }

            @Override
            public boolean hasParams(int i) {
                return !layers.get(i).params().isEmpty();
            }

            @Override
            public boolean hasRule(int i) {
                Layer l = layers.get(i);
                return l instanceof Conv2d || l instanceof Linear || l instanceof BatchNorm2d;
            }

            @Override
            public String describe(int i) {
                Layer l = layers.get(i);
                return "'" + l.qualifiedName() + "' (" + l.getClass().getSimpleName() + ")";
            }

            @Override
            public DeviceTensor tangentOut(int i) {
                return pool.tensor(steps.get(i).out);
            }

            @Override
            public void release(DeviceTensor v) {
                pool.give(v);
            }

            @Override
            public void jvp(int i, DeviceTensor in, DeviceTensor out) {
                steps.get(i).jvp(ops, in, out);
            }

            @Override
            public DeviceTensor cotangentBelow(int i, DeviceTensor g) {
                DeviceTensor below = scratch(i); // g is scratch(i + 1) or the cotangent: never the same
                steps.get(i).vjp(ops, g, below, null);
                return below;
            }

            @Override
            public void accumulate(int i, DeviceTensor t, DeviceTensor g, DeviceGrads grads) {
                steps.get(i).tangentGrad(ops, g, t, grads);
            }
        };
    }

    /**
     * Folds the TRAIN batch statistics into the BatchNorm running statistics on the device (momentum),
     * as the host commit. Nothing happens in EVAL mode.
     *
     * @throws IllegalStateException when called a second time
     */
    public void commit() {
        checkOpen();
        if (committed) {
            throw new IllegalStateException("commit() called twice on one device linearization");
        }
        committed = true;
        for (DeviceNode.Step s : steps) {
            s.commit(ops);
        }
    }

    /**
     * The block-diagonal batch of per-example Jacobians (EVAL mode only) on device buffers: apply is
     * {@link #jvp}, applyTranspose {@link #vjp}, nothing moves. With {@link DeviceModel#batchOps()} it runs
     * linalg's batched power method and (p,q) iteration on the device, e.g.
     * {@code OperatorNorm.estimate(lin.asBatchMap(), lin.model().batchOps(), p, q, options, null, false)}.
     *
     * @throws IllegalArgumentException in TRAIN mode (the batch statistics couple the examples)
     */
    public BatchMap<DeviceTensor> asBatchMap() {
        if (mode != BnMode.EVAL) {
            throw new IllegalArgumentException("the per-example iterations need an EVAL linearization: in TRAIN mode "
                    + "the batch statistics couple the examples");
        }
        checkOpen();
        Shape in = inShape();
        return new BatchMap<>() {
            @Override
            public int batch() {
                return in.n();
            }

            @Override
            public int inDim() {
                return in.perExample();
            }

            @Override
            public int outDim() {
                return outShape.perExample();
            }

            @Override
            public void apply(DeviceTensor v, DeviceTensor out) {
                jvp(v, out);
            }

            @Override
            public void applyTranspose(DeviceTensor u, DeviceTensor out) {
                vjp(u, out);
            }
        };
    }

    /**
     * The block-diagonal batch of per-example Jacobians (EVAL mode only) as a host
     * {@link BatchLinearMap}: each apply / applyTranspose uploads the vector, runs the jvp / vjp on the
     * device and downloads the result (two transfers per call), so the host iterations drive the device
     * map through host arrays. {@link #asBatchMap()} keeps the vectors on the device instead.
     *
     * @throws IllegalArgumentException in TRAIN mode (the batch statistics couple the examples)
     */
    public BatchLinearMap asBatchLinearMap() {
        if (mode != BnMode.EVAL) {
            throw new IllegalArgumentException("asBatchLinearMap needs an EVAL linearization: in TRAIN mode the "
                    + "batch statistics couple the examples");
        }
        checkOpen();
        OpenCl cl = ops.runtime();
        Shape in = inShape();
        return new BatchLinearMap() {
            private DeviceTensor dIn;
            private DeviceTensor dOut;

            @Override
            public int batch() {
                return in.n();
            }

            @Override
            public int inDim() {
                return in.perExample();
            }

            @Override
            public int outDim() {
                return outShape.perExample();
            }

            @Override
            public void apply(float[] v, float[] out) {
                buffers();
                dIn.upload(v, 0, 0, in.size());
                jvp(dIn, dOut);
                dOut.download(out, 0, 0, outShape.size());
            }

            @Override
            public void applyTranspose(float[] u, float[] out) {
                buffers();
                dOut.upload(u, 0, 0, outShape.size());
                vjp(dOut, dIn);
                dIn.download(out, 0, 0, in.size());
            }

            private void buffers() {
                if (dIn == null) {
                    dIn = DeviceTensor.allocate(cl, in);
                    dOut = DeviceTensor.allocate(cl, outShape);
                    mapBuffers.add(dIn);
                    mapBuffers.add(dOut);
                }
            }
        };
    }

    private final List<DeviceTensor> mapBuffers = new ArrayList<>();

    /** The i-th step's intermediate buffer: ping-pong, so no step's input is its output. */
    private DeviceTensor scratch(int i) {
        checkOpen();
        if (ping == null) {
            ping = model.pool().tensor(Shape.features(1, maxSize));
            pong = model.pool().tensor(Shape.features(1, maxSize));
        }
        return (i & 1) == 0 ? ping : pong;
    }

    private void check(String op, String aName, DeviceTensor a, Shape aShape, String bName, DeviceTensor b,
                       Shape bShape) {
        checkOpen();
        if (a == null) {
            throw new IllegalArgumentException(op + ": " + aName + " must not be null");
        }
        if (a.length() < aShape.size()) {
            throw new IllegalArgumentException(op + ": " + aName + " " + a + " is shorter than shape " + aShape);
        }
        if (bName == null) {
            return;
        }
        if (b == null) {
            throw new IllegalArgumentException(op + ": " + bName + " must not be null");
        }
        if (b.length() < bShape.size()) {
            throw new IllegalArgumentException(op + ": " + bName + " " + b + " is shorter than shape " + bShape);
        }
        if (a == b) {
            throw new IllegalArgumentException(op + ": " + aName + " and " + bName + " must not be the same tensor");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("device linearization is closed");
        }
        model.checkOpen();
    }

    /** Frees the residuals, the scratch buffers and (when it uploaded it) the input. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        steps.forEach(DeviceNode.Step::close); // the buffers go back to the model's pool
        if (ping != null) {
            model.pool().give(ping);
            model.pool().give(pong);
        }
        mapBuffers.forEach(DeviceTensor::close);
        if (ownsInput) {
            x.close();
        }
    }
}
