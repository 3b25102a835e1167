package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceBuffer;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.PreActBlock;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A host {@link Layer} network mirrored on an OpenCL device: the chain of its layers (nested
 * {@link Sequential}s flattened) and a device copy of every parameter and buffer (BatchNorm running
 * statistics), uploaded once at construction. The device copy is the truth for everything run through
 * this object: after changing the host parameters (an optimizer step on the host, a checkpoint load)
 * call {@link #uploadParameters()}; after training on the device call {@link #downloadParameters()}
 * to bring the values back into the host {@link Param} arrays.
 *
 * <p>Supported layers: {@link Conv2d}, {@link BatchNorm2d} (EVAL and TRAIN, affine or not),
 * {@link ReLU}, {@link MaxPool2d}, {@link AvgPool2d} (windowed and global), {@link Flatten},
 * {@link Linear}, nested {@link Sequential} - the 7-layer CNN - and {@link PreActBlock} (the Wide ResNet). The maths of each layer is the host
 * layer's, step for step, with the same kernels ({@link OpenClOps}).
 *
 * <p>Activation and residual buffers of closed linearizations are pooled and reused by the next
 * ones ({@link #releaseBuffers()} frees them). Not thread safe. {@link #close()} frees everything.
 */
public final class DeviceModel implements AutoCloseable {
    private final OpenCl cl;
    private final Layer model;
    private final List<DeviceNode> nodes;
    private final Map<float[], DeviceTensor> values = new IdentityHashMap<>(); // by host storage
    private final List<Param> params;
    private final List<Param> buffers;
    private final DevicePool pool;
    private DeviceBatchOps batchOps;
    private boolean closed;

    /**
     * Mirrors {@code model} on {@code cl} (uploads every parameter and buffer once).
     *
     * @throws IllegalArgumentException naming the layer when the network contains a layer type the
     *                                  device path does not support
     */
    public DeviceModel(OpenCl cl, Layer model) {
        if (cl == null || model == null) {
            throw new IllegalArgumentException("DeviceModel needs a runtime and a model");
        }
        this.cl = cl;
        this.model = model;
        this.pool = new DevicePool(cl);
        this.params = model.params();
        this.buffers = model.buffers();
        List<DeviceNode> list = new ArrayList<>();
        for (Layer l : model.chain()) { // nested Sequentials expanded by the layers themselves
            list.add(node(l));          // checks every layer before anything is allocated on the device
        }
        for (Param p : params) {
            values.put(p.value, DeviceTensor.of(cl, p.value));
        }
        for (Param p : buffers) {
            values.put(p.value, DeviceTensor.of(cl, p.value));
        }
        for (DeviceNode node : list) {
            node.bind(this);
        }
        this.nodes = List.copyOf(list);
    }

    /** The device twin of one link of the model's chain. */
    private static DeviceNode node(Layer l) {
        if (l instanceof Conv2d c) {
            return new DeviceNode.ConvNode(c);
        } else if (l instanceof BatchNorm2d b) {
            return new DeviceNode.BnNode(b);
        } else if (l instanceof ReLU) {
            return new DeviceNode.ReluNode(l);
        } else if (l instanceof MaxPool2d m) {
            return new DeviceNode.MaxPoolNode(m);
        } else if (l instanceof AvgPool2d a) {
            return new DeviceNode.AvgPoolNode(a);
        } else if (l instanceof Flatten) {
            return new DeviceNode.FlattenNode(l);
        } else if (l instanceof Linear f) {
            return new DeviceNode.LinearNode(f);
        } else if (l instanceof PreActBlock b) {
            return new DeviceNode.BlockNode(b);
        }
        throw new IllegalArgumentException("layer '" + l.qualifiedName() + "' (" + l.getClass().getSimpleName()
                + ") has no device-resident implementation; supported: Conv2d, BatchNorm2d, ReLU, MaxPool2d, "
                + "AvgPool2d, Flatten, Linear, PreActBlock, Sequential");
    }

    /** The runtime everything lives on. */
    public OpenCl runtime() {
        return cl;
    }

    /** The host network this mirrors. */
    public Layer model() {
        return model;
    }

    /** The host network's parameters, in its order (the optimizer order). */
    public List<Param> params() {
        return params;
    }

    /** The device copy of a parameter or buffer of the model. */
    public DeviceTensor value(Param p) {
        checkOpen();
        DeviceTensor t = values.get(p.value);
        if (t == null) {
            throw new IllegalArgumentException("parameter " + p.name() + " does not belong to " + model.qualifiedName());
        }
        return t;
    }

    /** Copies every host parameter and buffer to the device (one upload each): after host-side changes. */
    public void uploadParameters() {
        checkOpen();
        for (Map.Entry<float[], DeviceTensor> e : values.entrySet()) {
            e.getValue().upload(e.getKey());
        }
    }

    /** Copies every device parameter and buffer back into the host Param arrays (one download each). */
    public void downloadParameters() {
        checkOpen();
        for (Map.Entry<float[], DeviceTensor> e : values.entrySet()) {
            e.getValue().download(e.getKey(), 0, 0, e.getKey().length);
        }
    }

    /** The output shape for an input of shape {@code in} (the host model's check and message). */
    public Shape outputShape(Shape in) {
        return model.outputShape(in);
    }

    /**
     * Forward pass on the device at {@code x} (referenced, not copied: leave it unchanged while the
     * linearization is used) in the given BatchNorm mode, keeping every residual on the device.
     *
     * @throws IllegalArgumentException when x does not fit the network (the host layers' messages)
     */
    public DeviceLinearization linearize(DeviceTensor x, BnMode mode) {
        checkOpen();
        if (x == null || mode == null) {
            throw new IllegalArgumentException("linearize needs an input and a BatchNorm mode");
        }
        Shape out = model.outputShape(x.shape()); // throws with the failing layer's name
        return new DeviceLinearization(this, nodes, x, mode, out);
    }

    /** Uploads {@code x} and linearizes there; the linearization owns (and closes) the uploaded copy. */
    public DeviceLinearization linearize(Tensor x, BnMode mode) {
        checkOpen();
        model.outputShape(x.shape);
        DeviceTensor dx = DeviceTensor.of(cl, x);
        try {
            DeviceLinearization lin = linearize(dx, mode);
            lin.ownInput();
            return lin;
        } catch (RuntimeException e) {
            dx.close();
            throw e;
        }
    }

    /**
     * Frees the activation and residual buffers that closed linearizations left for reuse (they are
     * otherwise kept until {@link #close()}, so that repeated steps allocate nothing).
     */
    public void releaseBuffers() {
        pool.clear();
    }

    DevicePool pool() {
        return pool;
    }

    /**
     * Gives a buffer taken from {@link #pool()} back for reuse; after {@link #close()} (the pool is gone) it is
     * freed instead. Null is ignored.
     */
    void giveBack(DeviceBuffer b) {
        if (b == null) {
            return;
        }
        if (isOpen()) {
            pool.give(b);
        } else {
            b.close();
        }
    }

    /**
     * The vector operations of linalg's batched power method and (p,q) iteration on this model's buffers:
     * with {@link DeviceLinearization#asBatchMap()} they run {@code PowerMethod.sigmaMax} and
     * {@code OperatorNorm.estimate} on the device.
     */
    public DeviceBatchOps batchOps() {
        checkOpen();
        if (batchOps == null) {
            batchOps = new DeviceBatchOps(this);
        }
        return batchOps;
    }

    OpenClOps ops() {
        return cl.ops();
    }

    boolean isOpen() {
        return !closed;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("DeviceModel of " + model.qualifiedName() + " is closed");
        }
    }

    /** Frees the device copies of parameters and buffers. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (batchOps != null) {
                batchOps.close();
            }
            values.values().forEach(DeviceTensor::close);
            pool.clear();
        }
    }
}
