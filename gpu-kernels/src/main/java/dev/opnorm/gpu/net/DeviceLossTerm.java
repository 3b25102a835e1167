package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceTensor;

/**
 * An extra term of a device training step's loss (a regularizer such as
 * {@link DeviceRegOps#term}),
 * called by the trainer after the cross-entropy backward pass and before the optimizer update and the
 * BatchNorm commit, as the host {@code Objective} calls its regularizers.
 */
@FunctionalInterface
public interface DeviceLossTerm {
    /**
     * Adds this term's parameter gradient into {@code grads} (accumulated, +=) and returns its value.
     *
     * @param train the step's TRAIN-mode linearization at exactly x (f(x) need not be recomputed); do
     *              not commit or close it
     * @param x     the clean batch on the device; not modified
     */
    double accumulate(PlacedLinearization<DeviceTensor> train, DeviceTensor x, Gradients<DeviceTensor> grads);
}
