package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;

/**
 * The standard training step (softmax cross-entropy, SGD with momentum as {@code nn.optim.Sgd}) with
 * everything on the device: a {@link DeviceTrainer} with {@link DeviceStandardMethod} and the device
 * {@link Sgd} update. Forward with BatchNorm in TRAIN mode, loss and its gradient, backward with
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

    private static final Rng UNUSED = new Rng(0); // standard training draws nothing

    private final DeviceTrainer trainer;

    public DeviceSgdTrainer(DeviceModel model, Sgd.Config config) {
        if (model == null || config == null) {
            throw new IllegalArgumentException("DeviceSgdTrainer needs a model and an SGD configuration");
        }
        this.trainer = new DeviceTrainer(model, new DeviceStandardMethod(),
                DeviceOptimizer.of(model, new Sgd(model.params(), config)));
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
        return checked(trainer.step(x, labels, UNUSED));
    }

    /**
     * One step on a batch already on the device. A bad label (outside [0, classes)) or a non-finite logit
     * is reported as an IllegalArgumentException; that step then changed nothing.
     */
    public StepResult step(DeviceTensor x, DeviceInts labels) {
        return checked(trainer.step(x, labels, UNUSED));
    }

    private static StepResult checked(DeviceStepResult r) {
        if (!r.finite()) {
            throw new IllegalArgumentException("training step: loss is " + r.loss()
                    + " (a label outside [0, classes) or a non-finite logit); no update was applied");
        }
        return new StepResult(r.loss(), r.correct(), r.counted());
    }

    /** The device gradients of the last step (for tests and diagnostics). */
    public DeviceGrads gradients() {
        return trainer.gradients();
    }

    @Override
    public void close() {
        trainer.close();
    }
}
