package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.nn.util.Rng;

/**
 * How one device training step turns a batch into a loss and parameter gradients, on the device: the
 * device analogue of {@code robust.train.TrainingMethod} (standard training here; adversarial training and
 * d.d. regularizers plug in the same way). {@link DeviceTrainer} runs it: zero the gradients, call
 * {@link #step}, download the method's {@link #scalars()} result floats (the step's one transfer),
 * {@link #decode} them, and only for a finite loss apply the optimizer update and commit the returned
 * linearization's BatchNorm statistics.
 *
 * <p>Implementations keep their scratch buffers between steps; {@link #close()} frees them.
 */
public interface DeviceMethod extends AutoCloseable {
    /** A short identifier, the host method's name, e.g. "standard". */
    String name();

    /** How many floats {@link #step} writes into its result buffer (at least the loss). */
    int scalars();

    /**
     * Enqueues one step on the batch: the gradient of the method's loss ACCUMULATED (+=) into grads, and
     * the step's scalars written into {@code out[0, scalars())}. Must not commit BatchNorm statistics: it
     * returns the TRAIN-mode linearization whose statistics the trainer commits once the loss is known to be
     * finite (the trainer closes it), or null when there are none.
     *
     * @param model  the network on the device (parameters read, not changed)
     * @param x      (n, c, h, w) the batch, not modified
     * @param labels at least n labels in [0, classes)
     * @param rng    this step's generator (the host trainer's step stream); the method may draw from it
     * @param grads  accumulated (+=)
     * @param out    at least {@link #scalars()} floats, overwritten
     */
    PlacedLinearization<DeviceTensor> step(PlacedModel<DeviceTensor, DeviceInts> model, DeviceTensor x, DeviceInts labels, Rng rng, Gradients<DeviceTensor> grads,
                             DeviceTensor out);

    /** The step's outcome from the downloaded scalars of a batch of n. */
    DeviceStepResult decode(float[] scalars, int n);

    /**
     * True when the method keeps state between steps on the device that mirrors the host method's
     * checkpointed {@code state()} (e.g. the persistent power-iteration vectors of the global spectral norm
     * regularizer), kept in step by {@link #downloadState()} / {@link #uploadState()}; default false.
     */
    default boolean mirrorsState() {
        return false;
    }

    /**
     * The host method's state arrays are the truth (after a resume or a host-side change): the device copy
     * is refreshed from them (now or before the next step); default: nothing.
     */
    default void uploadState() {
    }

    /** Copies the device state into the host method's state arrays (before a checkpoint); default: nothing. */
    default void downloadState() {
    }

    /** Frees the method's device buffers; default: none. */
    @Override
    default void close() {
    }
}
