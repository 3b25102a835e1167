package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.optim.KernelUpdateOps;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.robust.attack.PgaBackend;
import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainEngine;

/**
 * Training on the OpenCL device ({@code train --backend opencl}; library use: {@code trainer.runOn(DeviceTrainOps.runners(
 * OpenCl.shared()))}): robust's {@link PlacedTrainOps} on a model placed on {@code OpenClOps}, with the
 * kernel contract's optimizer updates ({@link KernelUpdateOps}), PGA ({@link PgaBackend#placed}) and iteration
 * row operations ({@link PlacedBatchOps}).
 */
public final class DeviceTrainOps {
    private DeviceTrainOps() {
    }

    /**
     * The training engine of a device model ({@link PlacedTrainOps#engine}); closing its ops closes the model.
     *
     * @throws IllegalArgumentException for a null argument, a model not on an OpenCL device or a parameter of
     *                                  the optimizer that the model does not hold
     */
    public static TrainEngine<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> engine(
            PlacedModel<DeviceTensor, DeviceInts> model, Optimizer optimizer) {
        if (model == null || optimizer == null) {
            throw new IllegalArgumentException("device training needs a device model and an optimizer");
        }
        OpenCl cl = DeviceNetworks.runtime(model);
        return new PlacedTrainOps<>(model, optimizer, KernelUpdateOps.on(cl.ops()), () -> PgaBackend.placed(model),
                PlacedBatchOps.of(model)).engine();
    }

    /**
     * The runners on {@code cl} for {@link dev.opnorm.robust.train.Trainer#runOn}: each run gets a device copy of
     * its model and {@link StepRunner#of} on its engine (closing the runner frees the copy and brings the
     * optimizer state back).
     *
     * @throws IllegalArgumentException (when the Trainer calls it) for a method or model the device cannot run,
     *                                  naming it
     */
    public static StepRunner.Factory runners(OpenCl cl) {
        if (cl == null) {
            throw new IllegalArgumentException("device training needs an OpenCL runtime");
        }
        return (net, method, optimizer) -> {
            PlacedModel<DeviceTensor, DeviceInts> m = new PlacedModel<>(cl.ops(), net);
            TrainEngine<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> e;
            try {
                e = engine(m, optimizer);
            } catch (RuntimeException ex) {
                m.close();
                throw ex;
            }
            try {
                return StepRunner.of(e, method, optimizer);
            } catch (RuntimeException ex) {
                e.ops().close();
                throw ex;
            }
        };
    }
}
