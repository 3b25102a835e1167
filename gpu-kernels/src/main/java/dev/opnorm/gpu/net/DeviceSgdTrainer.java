package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.optim.Sgd;

import java.util.List;

/**
 * The standard training step (softmax cross-entropy, SGD with momentum as {@code nn.optim.Sgd}) with
 * everything on the device: forward with BatchNorm in TRAIN mode, loss and its gradient, backward with
 * parameter gradients, the SGD update of every parameter and the BatchNorm running-statistics update.
 * The step's only transfer (with the batch already on the device) is one download of two floats, the
 * mean loss and the number of correct predictions. The host reference is
 * {@code lin = net.linearize(x, TRAIN); SoftmaxCrossEntropy.lossAndGradient(...); lin.vjpParams(g,
 * grads); sgd.step(grads); lin.commit()} with fresh gradients each step.
 *
 * <p>The parameters live in the {@link DeviceModel}: call {@link DeviceModel#downloadParameters()} to
 * bring them to the host (checkpoints, host evaluation). Momentum buffers stay on the device. Not
 * thread safe; {@link #close()} frees the gradients, momentum buffers and loss scratch.
 */
public final class DeviceSgdTrainer implements AutoCloseable {
    /** Loss and accuracy count of one step. */
    public record StepResult(double loss, int correct, int batch) {
    }

    private final DeviceModel model;
    private final Sgd.Config config;
    private final List<Param> params;
    private final DeviceTensor[] momentum;
    private final DeviceGrads grads;
    private double lr;
    private DeviceTensor grad;
    private DeviceTensor lossRow;
    private DeviceTensor correct;
    private final DeviceTensor result;
    private DeviceInts labelBuffer;
    private DeviceTensor inputBuffer;

    public DeviceSgdTrainer(DeviceModel model, Sgd.Config config) {
        if (model == null || config == null) {
            throw new IllegalArgumentException("DeviceSgdTrainer needs a model and an SGD configuration");
        }
        this.model = model;
        this.config = config;
        this.params = model.params();
        this.momentum = new DeviceTensor[params.size()];
        this.grads = new DeviceGrads(model.runtime());
        this.result = DeviceTensor.allocate(model.runtime(), 2);
        setLearningRate(config.lr());
    }

    public double learningRate() {
        return lr;
    }

    /** The learning rate of the following steps (>= 0, finite), e.g. from an LrSchedule. */
    public void setLearningRate(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("sgd: learning rate must be finite and >= 0, got " + lr);
        }
        this.lr = lr;
    }

    /**
     * One step on a host batch: uploads x and labels (two uploads, into buffers reused across steps of
     * the same batch size), then {@link #step(DeviceTensor, DeviceInts)}.
     *
     * @throws IllegalArgumentException for a label outside [0, classes) or a label count != batch
     */
    public StepResult step(Tensor x, int[] labels) {
        return step(x, labels, null);
    }

    /**
     * As {@link #step(Tensor, int[])} with an extra loss term (e.g. a {@link DeviceDdRegularizer}), or none
     * when {@code extra} is null: see {@link #step(DeviceTensor, DeviceInts, DeviceLossTerm)}.
     */
    public StepResult step(Tensor x, int[] labels, DeviceLossTerm extra) {
        Shape out = model.outputShape(x.shape);
        int n = x.shape.n(), k = out.perExample();
        if (labels == null || labels.length != n) {
            throw new IllegalArgumentException("training step: " + (labels == null ? "no" : labels.length)
                    + " labels for a batch of " + n);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("training step: label " + labels[i] + " of example " + i
                        + " outside [0, " + k + ")");
            }
        }
        OpenCl cl = model.runtime();
        if (inputBuffer == null || !inputBuffer.shape().equals(x.shape)) {
            if (inputBuffer != null) {
                inputBuffer.close();
                labelBuffer.close();
            }
            inputBuffer = DeviceTensor.allocate(cl, x.shape);
            labelBuffer = DeviceInts.allocate(cl, n);
        }
        inputBuffer.upload(x.data);
        labelBuffer.upload(labels);
        return step(inputBuffer, labelBuffer, extra);
    }

    /**
     * One step on a batch already on the device (labels must be in [0, classes): a bad label or a
     * non-finite logit is reported as an IllegalArgumentException after the step, whose update then
     * has already happened with a meaningless gradient).
     */
    public StepResult step(DeviceTensor x, DeviceInts labels) {
        return step(x, labels, null);
    }

    /**
     * One step whose loss is the cross-entropy plus {@code extra} (null: none): the term adds its
     * gradient after the cross-entropy's backward pass, before the update and the BatchNorm commit (the
     * host {@code Objective}'s order); the returned loss is the sum. The term's own transfers come on top
     * of the step's one download.
     */
    public StepResult step(DeviceTensor x, DeviceInts labels, DeviceLossTerm extra) {
        OpenCl cl = model.runtime();
        OpenClOps ops = cl.ops();
        int n = x.shape().n();
        if (labels.length() < n) {
            throw new IllegalArgumentException("training step: " + labels.length() + " labels for a batch of " + n);
        }
        double extraValue = 0;
        try (DeviceLinearization lin = model.linearize(x, BnMode.TRAIN)) {
            int k = lin.outShape().perExample();
            scratch(cl, n, k);
            ops.softmaxXentRows(grad, lossRow, correct, lin.output(), labels, n, k);
            ops.meanAndCount(result, lossRow, correct, n);
            grads.zero();
            lin.vjpParams(grad, grads);
            if (extra != null) {
                extraValue = extra.accumulate(lin, x, grads);
            }
            float wd = (float) config.weightDecay(), mom = (float) config.momentum(),
                    keep = (float) (1 - config.dampening()), negLr = (float) -lr;
            for (int i = 0; i < params.size(); i++) {
                Param p = params.get(i);
                boolean first = false;
                if (config.momentum() != 0 && momentum[i] == null) {
                    momentum[i] = DeviceTensor.allocate(cl, p.size());
                    first = true;
                }
                ops.sgdUpdate(model.value(p), grads.of(p), momentum[i], wd, mom, keep, negLr, first,
                        config.nesterov(), p.size());
            }
            lin.commit();
        }
        float[] r = result.download(); // the step's only transfer: loss and correct count
        if (!Float.isFinite(r[0])) {
            throw new IllegalArgumentException("training step: loss is " + r[0]
                    + " (a label outside [0, classes) or a non-finite logit)");
        }
        return new StepResult(r[0] + extraValue, Math.round(r[1]), n);
    }

    private void scratch(OpenCl cl, int n, int k) {
        if (grad == null || grad.length() < n * k || lossRow.length() < n) {
            if (grad != null) {
                grad.close();
                lossRow.close();
                correct.close();
            }
            grad = DeviceTensor.allocate(cl, new Shape(n, k, 1, 1));
            lossRow = DeviceTensor.allocate(cl, n);
            correct = DeviceTensor.allocate(cl, n);
        }
    }

    /** The device gradients of the last step (for tests and diagnostics). */
    public DeviceGrads gradients() {
        return grads;
    }

    @Override
    public void close() {
        grads.close();
        result.close();
        for (DeviceTensor m : momentum) {
            if (m != null) {
                m.close();
            }
        }
        for (DeviceTensor t : new DeviceTensor[]{grad, lossRow, correct, inputBuffer}) {
            if (t != null) {
                t.close();
            }
        }
        if (labelBuffer != null) {
            labelBuffer.close();
        }
    }
}
