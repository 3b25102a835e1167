package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainEngine;
import dev.opnorm.robust.train.TrainOps;
import dev.opnorm.robust.train.TrainingMethod;

/**
 * A training run on a device model for the tests: robust's runner ({@link StepRunner#of}) on
 * {@link PlacedTrainOps#engine(PlacedModel, Optimizer)}, and the same step on a batch that is already on the device (as the runner does it:
 * zero the gradients, the method's step, the optimizer update for a finite loss), so that a test can count
 * the transfers of a step without the batch's upload. Closing it closes the engine and the model.
 */
final class DeviceTraining implements AutoCloseable {
    final PlacedTrainOps<DeviceTensor, DeviceInts> ops;
    final StepRunner runner;
    private final TrainOps.Step<DeviceTensor, DeviceInts, Grads<DeviceTensor>> step;
    private final Optimizer optimizer;

    DeviceTraining(PlacedModel<DeviceTensor, DeviceInts> model, TrainingMethod method, Optimizer optimizer) {
        TrainEngine<DeviceTensor, DeviceInts, Grads<DeviceTensor>> e = PlacedTrainOps.engine(model, optimizer);
        this.ops = (PlacedTrainOps<DeviceTensor, DeviceInts>) e.ops();
        this.optimizer = optimizer;
        this.runner = StepRunner.of(e, method, optimizer);
        this.step = ops.step(method);
    }

    /** One step on a device batch (labels not checked: a bad one gives a NaN loss and no update). */
    StepResult step(DeviceTensor x, DeviceInts labels, Rng rng) {
        Grads<DeviceTensor> g = ops.gradients();
        ops.zero(g);
        StepResult r = step.step(x, x.shape(), labels, rng, g);
        if (r.finite()) {
            ops.update(optimizer, g);
        }
        return r;
    }

    @Override
    public void close() {
        step.close();
        runner.close();
    }
}
