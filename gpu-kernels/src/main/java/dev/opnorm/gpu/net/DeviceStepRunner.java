package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainingMethod;

import java.util.Arrays;

/**
 * The {@link StepRunner} that trains on the OpenCL device ({@code train --backend opencl}; library use:
 * {@code new Trainer(model, train, test, method, config).runOn(DeviceStepRunner.on(OpenCl.shared()))}): the {@link dev.opnorm.robust.train.Trainer}'s
 * steps, optimizer updates, finiteness checks and evaluations run on the OpenCL device
 * ({@link DeviceTrainer} with the method's {@link DeviceMethod} and the trainer's own optimizer, whose
 * state lives on the device while this runner is open), everything else (batch order, augmentation on
 * the host, schedule, checkpoints, resume) stays the Trainer's. Per step: one upload of the batch and its
 * labels, one download of the method's scalars, one of the per-parameter NaN/Inf counts; per evaluation
 * batch: one upload, one download of the count. {@link #store()} downloads parameters and buffers only
 * when a step ran since the last store (with the method's mirrored state, e.g. the global spectral norm's
 * u, v); the optimizer state crosses only when the Trainer exports it into a checkpoint or imports it on
 * resume (one transfer per state buffer, straight from / to the device), and comes back to the host when
 * the runner closes.
 */
public final class DeviceStepRunner implements StepRunner, AutoCloseable {
    private final PlacedModel<DeviceTensor, DeviceInts> model;
    private final DeviceTrainer trainer;
    private boolean dirty;

    /**
     * @param method       the host method (its name, configuration and checkpointed state); state of its own
     *                     only when the device method mirrors it ({@link DeviceMethod#mirrorsState()}: e.g.
     *                     the global spectral norm's u, v, downloaded into the host arrays by {@link #store()}
     *                     and refreshed from them by {@link #load()})
     * @param deviceMethod its device implementation, owned by this runner
     * @throws IllegalArgumentException when the method keeps state, or the model has no device
     *                                  implementation (the message names it)
     */
    public DeviceStepRunner(OpenCl cl, Layer net, TrainingMethod method, Optimizer optimizer, DeviceMethod deviceMethod) {
        if (!method.state().isEmpty() && !deviceMethod.mirrorsState()) {
            deviceMethod.close();
            throw new IllegalArgumentException("method " + method.name() + " keeps state between steps ("
                    + method.state().get(0).name() + ", ...), which device training cannot update");
        }
        PlacedModel<DeviceTensor, DeviceInts> m = null;
        try {
            m = new PlacedModel<>(cl.ops(), net);
            this.trainer = new DeviceTrainer(m, deviceMethod, optimizer);
        } catch (RuntimeException e) {
            deviceMethod.close();
            if (m != null) {
                m.close();
            }
            throw e;
        }
        this.model = m;
    }

    @Override
    public void load() {
        model.uploadParameters();
        trainer.method().uploadState();
        dirty = false;
    }

    @Override
    public StepResult step(Tensor x, int[] labels, Rng rng, double lr) {
        trainer.optimizer().setLearningRate(lr);
        DeviceStepResult r = trainer.step(x, labels, rng);
        dirty |= r.finite();
        return new StepResult(r.loss(), r.cleanLoss(), r.adversarialLoss(), r.penalties(), r.correct(), r.counted());
    }

    @Override
    public String nonFiniteParameter() {
        return trainer.nonFiniteParameter();
    }

    @Override
    public void store() {
        if (dirty) {
            model.downloadParameters();
            trainer.method().downloadState();
            dirty = false;
        }
    }

    @Override
    public int correct(Dataset data, int from, int count) {
        return trainer.correct(data.images().slice(from, count), Arrays.copyOfRange(data.labels(), from, from + count));
    }

    /**
     * The factory for {@link dev.opnorm.robust.train.Trainer#runOn}: each training run gets a runner on
     * {@code cl} with the device twin of its method ({@link DeviceMethods#of}).
     *
     * @throws IllegalArgumentException (when the Trainer calls it) for a method or model the device cannot
     *                                  run, naming it
     */
    public static StepRunner.Factory on(OpenCl cl) {
        return (net, method, optimizer) -> new DeviceStepRunner(cl, net, method, optimizer, DeviceMethods.of(method));
    }

    /** The device's name, for the run's provenance. */
    public String device() {
        return DeviceNetworks.runtime(model).device().name;
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
