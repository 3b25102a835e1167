package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.RegEngine;
import dev.opnorm.robust.reg.RegNetwork;
import dev.opnorm.robust.reg.RegOps;

/**
 * robust's {@link RegOps} on the device, and the engine ({@link #engine}) that runs robust's data-dependent
 * regularizers (written once) on a {@link DeviceModel}: its linearizations as the network, its
 * {@link DeviceBatchOps} for the (p,q) iteration, row norms and reads, these elementwise kernels for the rest.
 * With it {@code DdOperatorNorm.accumulate} keeps x + eps v, both forward passes, d = f(x + eps v) - f(x) and
 * its gradient on the device: the start vectors go up once, the (p,q) iteration reads its per-example norms,
 * and the penalty reads ||d_i||_q (one float per example). Buffers come from the model's pool and go back to
 * it. Not thread safe (as the model).
 */
public final class DeviceRegOps implements RegOps<DeviceTensor> {
    private final DeviceModel model;

    private DeviceRegOps(DeviceModel model) {
        this.model = model;
    }

    /** The regularizer engine of a device model: its linearizations, its batch operations and these operations. */
    public static RegEngine<DeviceTensor, DeviceTensor, DeviceGrads> engine(DeviceModel model) {
        if (model == null) {
            throw new IllegalArgumentException("the device regularizers need a device model");
        }
        model.checkOpen();
        RegNetwork<DeviceTensor, DeviceGrads> net = (x, shape, mode) -> {
            if (!x.shape().equals(shape)) {
                throw new IllegalArgumentException("regularizer input " + x + " does not have the shape " + shape);
            }
            return linearized(model.linearize(x, mode), true);
        };
        return new RegEngine<>(net, model.batchOps(), new DeviceRegOps(model));
    }

    /**
     * A training step's linearization as the engine sees it (closing the view leaves it open: the step owns
     * it), or null for null.
     *
     * @param x the batch the regularizer is called with
     * @throws IllegalArgumentException when lin is not at exactly x
     */
    public static RegNetwork.Linearized<DeviceTensor, DeviceGrads> train(DeviceLinearization lin, DeviceTensor x) {
        if (lin == null) {
            return null;
        }
        if (lin.input() != x) {
            throw new IllegalArgumentException("the step's linearization at " + lin.inShape()
                    + " is not at the regularizer's batch " + x);
        }
        return linearized(lin, false);
    }

    private static RegNetwork.Linearized<DeviceTensor, DeviceGrads> linearized(DeviceLinearization lin, boolean owned) {
        return new RegNetwork.Linearized<>() {
            @Override
            public BnMode mode() {
                return lin.mode();
            }

            @Override
            public DeviceTensor output() {
                return lin.output();
            }

            @Override
            public Shape outputShape() {
                return lin.outShape();
            }

            @Override
            public BatchMap<DeviceTensor> asBatchMap() {
                return lin.asBatchMap();
            }

            @Override
            public void vjpParams(DeviceTensor gy, DeviceGrads grads) {
                lin.vjpParams(gy, grads);
            }

            @Override
            public void close() {
                if (owned) {
                    lin.close();
                }
            }
        };
    }

    /**
     * {@code r} as a regularizer of a {@link DeviceObjective}: robust's {@code DdOperatorNorm.accumulate} on
     * {@link #engine}, reusing the step's TRAIN linearization for f(x) when it is at x.
     */
    public static DeviceObjective.Regularizer regularizer(DdOperatorNorm r) {
        if (r == null) {
            throw new IllegalArgumentException("a device regularizer needs a regularizer");
        }
        return new DeviceObjective.Regularizer() {
            @Override
            public String name() {
                return r.name();
            }

            @Override
            public double accumulate(DeviceModel model, DeviceTensor x, DeviceInts labels, long seed,
                                     DeviceLinearization train, DeviceGrads grads) {
                return r.accumulate(engine(model), x, x.shape(), seed, train(train, x), grads);
            }
        };
    }

    /**
     * {@code r} as a {@link DeviceLossTerm} of a training step with the given seed (the step's TRAIN
     * linearization is reused for f(x) in TRAIN penalty mode).
     */
    public static DeviceLossTerm term(DdOperatorNorm r, DeviceModel model, long seed) {
        if (r == null) {
            throw new IllegalArgumentException("a device loss term needs a regularizer");
        }
        return (train, x, grads) -> r.accumulate(engine(model), x, x.shape(), seed, train(train, x), grads);
    }

    @Override
    public DeviceTensor allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(DeviceTensor t) {
        if (t == null) {
            return;
        }
        if (model.isOpen()) {
            model.pool().give(t);
        } else {
            t.close();
        }
    }

    @Override
    public void addScaled(DeviceTensor out, DeviceTensor a, float s, DeviceTensor b, int len) {
        OpenClOps ops = model.ops();
        if (out == b && out != a) {
            ops.scale(out, s, b, len);   // s * b rounded to float, then a + it: the same as a + s * b unfused
            ops.add(out, a, out, len);
        } else {
            ops.copy(out, a, len);
            ops.axpy(out, s, b, len);
        }
    }

    @Override
    public void scale(DeviceTensor out, DeviceTensor a, double c, int len) {
        model.ops().scaleDouble(out, c, a, len);
    }

    @Override
    public void qPowerGrad(DeviceTensor out, DeviceTensor a, double coef, double q, int len) {
        model.ops().qPowerGrad(out, a, coef, q, len);
    }
}
