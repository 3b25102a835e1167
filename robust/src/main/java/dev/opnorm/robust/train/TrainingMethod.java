package dev.opnorm.robust.train;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.util.Rng;

import java.util.List;
import java.util.Map;

/**
 * How one training step turns a batch into a loss and parameter gradients: standard training,
 * adversarial training, regularized training (see {@link Objective} for the implementations).
 */
public interface TrainingMethod {
    /** A short identifier, e.g. "standard", "at", "dd-snr-sos". */
    String name();

    /**
     * One step's loss on a batch: the gradient of the returned loss is ACCUMULATED (+=) into grads, and
     * BatchNorm running statistics are folded in (once per step, {@code Linearization.commit()}) at the end.
     * A step whose loss is not finite returns a NaN/Inf {@link StepResult#loss()} and must not have
     * committed statistics; its gradients are then meaningless.
     *
     * @param model  the network (parameters are read, not changed)
     * @param x      (n, c, h, w) the (augmented) batch; not modified
     * @param labels n labels
     * @param rng    this step's generator (attack starts, power-iteration starts); the method may draw from it
     */
    StepResult step(Layer model, Tensor x, int[] labels, Rng rng, ParamGrads grads);

    /** State that a checkpoint must keep for an exact resume (e.g. regularizer vectors); default none. */
    default List<Param> state() {
        return List.of();
    }

    /** The settings, for the run's configuration record (JSON-compatible values). */
    Map<String, Object> config();
}
