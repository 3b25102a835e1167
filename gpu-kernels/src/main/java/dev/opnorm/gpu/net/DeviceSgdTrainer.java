package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;

/**
 * The standard training step (softmax cross-entropy, SGD with momentum as {@code nn.optim.Sgd}) with
 * everything on the device: a {@link DeviceTrainer} with {@link DeviceStandardMethod} and the device
 * {@link Sgd} update (its state on the device). Forward with BatchNorm in TRAIN mode, loss and its
 * gradient, backward with parameter gradients, the SGD update of every parameter and the BatchNorm
 * running-statistics update.
 * The step's only transfer (with the batch already on the device) is one download of two floats, the
 * mean loss and the number of correct predictions. The host reference is
 * {@code lin = net.linearize(x, TRAIN); SoftmaxCrossEntropy.lossAndGradient(...); lin.vjpParams(g,
 * grads); sgd.step(grads); lin.commit()} with fresh gradients each step.
 *
 * <p>The parameters live in the {@link PlacedModel}: call {@link PlacedModel#downloadParameters()} to
 * bring them to the host (checkpoints, host evaluation). Momentum buffers stay on the device. Not
 * thread safe; {@link #close()} frees the gradients, momentum buffers and loss scratch.
 */
public final class DeviceSgdTrainer implements AutoCloseable {
    /** Loss and accuracy count of one step. */
    public record StepResult(double loss, int correct, int batch) {
    }

    private static final Rng UNUSED = new Rng(0); // standard training draws nothing

    private final DeviceTrainer trainer;
    private final WithExtra method;

    public DeviceSgdTrainer(PlacedModel<DeviceTensor, DeviceInts> model, Sgd.Config config) {
        if (model == null || config == null) {
            throw new IllegalArgumentException("DeviceSgdTrainer needs a model and an SGD configuration");
        }
        this.method = new WithExtra();
        this.trainer = new DeviceTrainer(model, method, new Sgd(model.params(), config));
    }

    /** Cross-entropy plus the extra term of the current step (none when null). */
    private static final class WithExtra implements DeviceMethod {
        private final DeviceStandardMethod ce = new DeviceStandardMethod();
        DeviceLossTerm extra;
        double extraValue;

        @Override
        public String name() {
            return "standard";
        }

        @Override
        public int scalars() {
            return ce.scalars();
        }

        @Override
        public PlacedLinearization<DeviceTensor> step(PlacedModel<DeviceTensor, DeviceInts> model, DeviceTensor x, DeviceInts labels, Rng rng,
                                        Gradients<DeviceTensor> grads, DeviceTensor out) {
            PlacedLinearization<DeviceTensor> lin = ce.step(model, x, labels, rng, grads, out);
            try {
                extraValue = extra == null ? 0 : extra.accumulate(lin, x, grads);
                return lin;
            } catch (RuntimeException e) {
                lin.close();
                throw e;
            }
        }

        @Override
        public DeviceStepResult decode(float[] scalars, int n) {
            DeviceStepResult r = ce.decode(scalars, n);
            return new DeviceStepResult(r.loss() + extraValue, r.cleanLoss(), 0, r.penalties(), r.correct(),
                    r.counted());
        }

        @Override
        public void close() {
            ce.close();
        }
    }

    public double learningRate() {
        return trainer.optimizer().learningRate();
    }

    /** The learning rate of the following steps (>= 0, finite), e.g. from an LrSchedule. */
    public void setLearningRate(double lr) {
        trainer.optimizer().setLearningRate(lr);
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
     * As {@link #step(Tensor, int[])} with an extra loss term (e.g. {@link DeviceRegOps#term}), or none
     * when {@code extra} is null: see {@link #step(DeviceTensor, DeviceInts, DeviceLossTerm)}.
     */
    public StepResult step(Tensor x, int[] labels, DeviceLossTerm extra) {
        method.extra = extra;
        try {
            return checked(trainer.step(x, labels, UNUSED));
        } finally {
            method.extra = null;
        }
    }

    /**
     * One step on a batch already on the device. A bad label (outside [0, classes)) or a non-finite logit
     * is reported as an IllegalArgumentException; that step then changed nothing.
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
        method.extra = extra;
        try {
            return checked(trainer.step(x, labels, UNUSED));
        } finally {
            method.extra = null;
        }
    }

    private static StepResult checked(DeviceStepResult r) {
        if (!r.finite()) {
            throw new IllegalArgumentException("training step: loss is " + r.loss()
                    + " (a label outside [0, classes) or a non-finite logit); no update was applied");
        }
        return new StepResult(r.loss(), r.correct(), r.counted());
    }

    /** The device gradients of the last step (for tests and diagnostics). */
    public Gradients<DeviceTensor> gradients() {
        return trainer.gradients();
    }

    @Override
    public void close() {
        trainer.close();
    }
}
