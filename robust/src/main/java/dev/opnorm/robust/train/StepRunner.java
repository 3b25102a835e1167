package dev.opnorm.robust.train;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;

/**
 * Where a {@link Trainer}'s steps run: the pluggable part of the training loop. The {@link Trainer} keeps
 * everything else (epochs, batch order, augmentation, learning-rate schedule, progress, evaluation schedule,
 * checkpoints, resume, divergence stops) and calls a runner for the work that touches the parameters.
 * {@link #of} is the runner written once over a {@link TrainEngine} ({@link PlacedTrainOps#runners}): on the
 * host placed model (the {@link Trainer}'s default) the parameters are the host objects themselves; on a
 * device the parameters and gradients stay on the accelerator and are copied to the host objects only in
 * {@link #store()}, and the optimizer's state moves there ({@link Optimizer#moveTo}).
 *
 * <p>The host objects (the model's parameters and buffers, the method's state) are the truth whenever the
 * trainer reads or writes them: it calls {@link #load()} after changing them (a fresh initialization, a
 * resume) and {@link #store()} before reading them (checkpoints, the epoch listener). The optimizer's
 * state is read and written only through {@link Optimizer#exportState()} / {@link Optimizer#importState},
 * which transfer it from / to whichever backend holds it.
 */
public interface StepRunner extends AutoCloseable {
    /** Makes a runner for a trainer's model, method and optimizer (the trainer's own instances). */
    @FunctionalInterface
    interface Factory {
        StepRunner create(Layer model, TrainingMethod method, Optimizer optimizer);
    }

    /** The host objects changed (initialization, resume): copy them to where the steps run. */
    void load();

    /**
     * One step at learning rate lr: the method's loss and gradient at (x, labels) with this step's rng, then,
     * only when the loss is finite, the optimizer update. A non-finite loss is returned as is, with nothing
     * changed (no update, no BatchNorm statistics).
     *
     * @param x      (n, c, h, w) the (augmented) batch; not modified
     * @param labels n labels
     */
    StepResult step(Tensor x, int[] labels, Rng rng, double lr);

    /**
     * After a step that applied an update: a description of the first parameter (in model order) that holds
     * a NaN/Inf, e.g. "parameter fc.weight became NaN", or null when all are finite.
     */
    String nonFiniteParameter();

    /** Copies the parameters, buffers and method state back into the host objects. */
    void store();

    /** Examples [from, from + count) of data that the model classifies correctly, BatchNorm in EVAL mode. */
    int correct(Dataset data, int from, int count);

    /** Frees what the runner holds on its backend (nothing on the host); default: nothing. */
    @Override
    default void close() {
    }

    /**
     * The runner on an engine (written once): its steps, updates and evaluations run on the engine's backend;
     * the runner is {@link AutoCloseable} and closing it closes the engine's operations.
     *
     * @throws IllegalArgumentException for a method the engine cannot run (named)
     */
    static <V, L, G> StepRunner of(TrainEngine<V, L, G> engine, TrainingMethod method, Optimizer optimizer) {
        return new EngineStepRunner<>(engine, method, optimizer);
    }
}
