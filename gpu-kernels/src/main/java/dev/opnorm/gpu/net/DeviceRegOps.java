package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.BufferPool;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.reg.RegEngine;
import dev.opnorm.robust.reg.RegNetwork;
import dev.opnorm.robust.reg.RegOps;
import dev.opnorm.robust.reg.TangentGradient;
import dev.opnorm.robust.reg.Regularizer;
import dev.opnorm.robust.train.TrainNetwork;
import dev.opnorm.robust.train.TrainOps;

/**
 * robust's {@link RegOps} on the device, and the engine ({@link #engine}) that runs robust's data-dependent
 * regularizers (written once: {@code DdOperatorNorm}, {@code DdSpectralNorm}, {@code InputGradient}) on a
 * {@link PlacedModel}: its linearizations as the network (tangent gradients by
 * robust's {@link TangentGradient} on its parts), its {@link PlacedBatchOps} for the iterations, row norms and
 * reads, and these kernels for the rest. Everything stays on the device except what the algorithms read: the
 * start vectors go up once, the iterations read their per-example norms, and each penalty reads one float
 * per example (the sigma^2 form also sends its B cotangent coefficients up). Buffers come from the model's
 * pool and go back to it. Not thread safe (as the model).
 */
public final class DeviceRegOps implements RegOps<DeviceTensor, DeviceTensor, DeviceInts> {
    private final PlacedModel<DeviceTensor, DeviceInts> model;

    private DeviceRegOps(PlacedModel<DeviceTensor, DeviceInts> model) {
        this.model = model;
    }

    /** The regularizer engine of a device model: its linearizations, its batch operations and these operations. */
    public static RegEngine<DeviceTensor, DeviceTensor, DeviceInts, Gradients<DeviceTensor>> engine(PlacedModel<DeviceTensor, DeviceInts> model) {
        if (model == null) {
            throw new IllegalArgumentException("the device regularizers need a device model");
        }
        model.checkOpen();
        RegNetwork<DeviceTensor, Gradients<DeviceTensor>> net = (x, shape, mode) -> {
            if (!x.shape().equals(shape)) {
                throw new IllegalArgumentException("regularizer input " + x + " does not have the shape " + shape);
            }
            return linearized(model.linearize(x, shape, mode), true);
        };
        return new RegEngine<>(net, PlacedBatchOps.of(model), new DeviceRegOps(model));
    }

    /**
     * A training step's linearization as the engine sees it (closing the view leaves it open: the step owns
     * it), or null for null.
     *
     * @param x the batch the regularizer is called with
     * @throws IllegalArgumentException when lin is not at exactly x
     */
    public static RegNetwork.Linearized<DeviceTensor, Gradients<DeviceTensor>> train(PlacedLinearization<DeviceTensor> lin, DeviceTensor x) {
        if (lin == null) {
            return null;
        }
        if (lin.input() != x) {
            throw new IllegalArgumentException("the step's linearization at " + lin.inShape()
                    + " is not at the regularizer's batch " + x);
        }
        return view(lin);
    }

    /** A device linearization as the engine sees it, or null for null; closing the view leaves it open. */
    public static RegNetwork.Linearized<DeviceTensor, Gradients<DeviceTensor>> view(PlacedLinearization<DeviceTensor> lin) {
        return lin == null ? null : linearized(lin, false);
    }

    private static RegNetwork.Linearized<DeviceTensor, Gradients<DeviceTensor>> linearized(PlacedLinearization<DeviceTensor> lin, boolean owned) {
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
            public void vjpParams(DeviceTensor gy, Gradients<DeviceTensor> grads) {
                lin.vjpParams(gy, grads);
            }

            @Override
            public void tangentGradient(DeviceTensor tangent, DeviceTensor cotangent, Gradients<DeviceTensor> grads) {
                TangentGradient.accumulate(lin, tangent, cotangent, grads);
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
     * {@code r} as a regularizer of a training step on {@code model}: robust's own {@code accumulate} on
     * {@link #engine} (a {@code DdOperatorNorm} reuses the step's TRAIN linearization for f(x) when it is at x;
     * an {@code InputGradient} takes the step's labels).
     *
     * @throws IllegalArgumentException for a regularizer that does not run on a {@link RegEngine} (the message
     *                                  names it)
     */
    public static TrainOps.Term<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> regularizer(
            Regularizer r, PlacedModel<DeviceTensor, DeviceInts> model) {
        if (r == null || model == null) {
            throw new IllegalArgumentException("a device regularizer needs a regularizer and a device model");
        }
        if (!(r instanceof DdOperatorNorm || r instanceof DdSpectralNorm || r instanceof InputGradient)) {
            throw new IllegalArgumentException("regularizer " + r.name() + " (" + r.getClass().getSimpleName()
                    + ") has no device implementation");
        }
        return new TrainOps.Term<>() {
            @Override
            public String name() {
                return r.name();
            }

            @Override
            public double accumulate(DeviceTensor x, Shape s, DeviceInts labels, long seed,
                                     TrainNetwork.Pass<DeviceTensor, Gradients<DeviceTensor>> train,
                                     Gradients<DeviceTensor> grads) {
                var e = engine(model);
                if (r instanceof DdOperatorNorm dd) {
                    return dd.accumulate(e, x, s, seed, train(DeviceTrainOps.linearization(train), x), grads);
                }
                if (r instanceof DdSpectralNorm sn) {
                    return sn.accumulate(e, x, s, seed, grads);
                }
                return ((InputGradient) r).accumulate(e, x, s, labels, grads);
            }
        };
    }

    @Override
    public DeviceTensor allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(DeviceTensor t) {
        model.pool().give(t);
    }

    @Override
    public void addScaled(DeviceTensor out, DeviceTensor a, float s, DeviceTensor b, int len) {
        OpenClOps ops = DeviceNetworks.ops(model);
        if (out == b && out != a) {
            ops.scale(out, s, b, len);   // s * b rounded to float, then a + it: the same as a + s * b unfused
            ops.add(out, a, out, len);
        } else {
            ops.copy(out, a, len);
            ops.axpy(out, s, b, len);
        }
    }

    @Override
    public void scale(DeviceTensor out, DeviceTensor a, float c, int len) {
        DeviceNetworks.ops(model).scale(out, c, a, len);
    }

    @Override
    public void scaleDouble(DeviceTensor out, DeviceTensor a, double c, int len) {
        DeviceNetworks.ops(model).scaleDouble(out, c, a, len);
    }

    @Override
    public void qPowerGrad(DeviceTensor out, DeviceTensor a, double coef, double q, int len) {
        DeviceNetworks.ops(model).qPowerGrad(out, a, coef, q, len);
    }

    @Override
    public void dotRows(DeviceTensor out, DeviceTensor a, DeviceTensor b, int rows, int cols) {
        DeviceNetworks.ops(model).dotRows(out, 0, a, b, rows, cols);
    }

    /** One upload of the rows' coefficients; the rows are scaled as channels (the examples as channels). */
    @Override
    public void scaleRows(DeviceTensor out, DeviceTensor a, float[] c, int rows, int cols) {
        model.checkOpen();
        DeviceTensor coef = model.pool().tensor(Shape.features(1, rows));
        try {
            coef.upload(c, 0, 0, rows);
            DeviceNetworks.ops(model).channelAffine(out, a, coef, null, 1, rows, cols);
        } finally {
            model.pool().give(coef);
        }
    }

    /** The kernel's per-example loss and correct flags go to pooled scratch; a bad label gives NaN rows. */
    @Override
    public void softmaxGradRows(DeviceTensor out, DeviceTensor z, DeviceInts labels, int rows, int cols) {
        model.checkOpen();
        BufferPool<DeviceTensor, DeviceInts> pool = model.pool();
        DeviceTensor loss = pool.tensor(Shape.features(1, rows)), correct = pool.tensor(Shape.features(1, rows));
        try {
            DeviceNetworks.ops(model).softmaxXentRows(out, loss, correct, z, labels, rows, cols);
            DeviceNetworks.ops(model).scale(out, (float) rows, out, rows * cols);
        } finally {
            pool.give(loss);
            pool.give(correct);
        }
    }

    @Override
    public void softmaxHessianRows(DeviceTensor h, DeviceTensor s, DeviceTensor w, DeviceInts labels, int rows,
                                   int cols, double coef) {
        DeviceNetworks.ops(model).softmaxHessianRows(h, s, w, labels, rows, cols, coef);
    }
}
