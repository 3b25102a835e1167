package dev.opnorm.api;

import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.robust.train.OptimizerSpec;
import dev.opnorm.robust.train.ScheduleSpec;
import dev.opnorm.robust.train.TrainConfig;
import dev.opnorm.robust.train.Trainer;
import dev.opnorm.robust.train.TrainingMethod;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Trains a model in place with one of the paper's {@link Methods}:
 *
 * <pre>{@code
 * Trainer.Result r = Training.of(model).method(Methods.ddSnr()).data(train, test).epochs(2).fit();
 * }</pre>
 *
 * <p>Defaults: standard training, 1 epoch, batch 32 (the last partial batch of an epoch is dropped), SGD with
 * learning rate 0.05, momentum 0.9, weight decay 5e-4 and a cosine schedule per step, no augmentation, seed 0,
 * no checkpoint, silent. The model's current weights are the starting point (they are not re-initialized),
 * BatchNorm runs in TRAIN mode and its running statistics are updated. Deterministic: one seed gives
 * bit-identical weights on any thread count. This is a thin layer over {@link Trainer} and {@link TrainConfig},
 * which offer resume, step listeners and every other setting.
 *
 * <p>Instances are immutable (setters return copies); {@link #fit()} modifies the model's parameters and buffers,
 * so nothing else may use the model while it runs.
 */
public final class Training {
    private final Layer model;
    private final TrainingMethod method;
    private final Dataset train;
    private final Dataset test;
    private final int epochs;
    private final int batchSize;
    private final long seed;
    private final OptimizerSpec optimizer;
    private final Path checkpoint;
    private final PrintStream log;

    private Training(Layer model, TrainingMethod method, Dataset train, Dataset test, int epochs, int batchSize,
            long seed, OptimizerSpec optimizer, Path checkpoint, PrintStream log) {
        this.model = model;
        this.method = method;
        this.train = train;
        this.test = test;
        this.epochs = epochs;
        this.batchSize = batchSize;
        this.seed = seed;
        this.optimizer = optimizer;
        this.checkpoint = checkpoint;
        this.log = log;
    }

    /**
     * Training of {@code model} with the defaults.
     *
     * @param model the network to train (in place)
     * @return the settings
     * @throws IllegalArgumentException for a null model
     */
    public static Training of(Layer model) {
        if (model == null) {
            throw new IllegalArgumentException("Training.of: model must not be null");
        }
        return new Training(model, Methods.standard(), null, null, 1, 32, 0, OptimizerSpec.sgd(0.05, 0.9, 5e-4), null,
                null);
    }

    /**
     * The objective (default {@link Methods#standard()}).
     *
     * @param method from {@link Methods}, or any {@link TrainingMethod}
     * @return a copy with this method
     * @throws IllegalArgumentException for null
     */
    public Training method(TrainingMethod method) {
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, log);
    }

    /**
     * The data: images scaled to the model's input domain, labels in [0, classes).
     *
     * @param train training set (at least one batch)
     * @param test  set for the clean accuracy after every epoch, or null
     * @return a copy with these data
     * @throws IllegalArgumentException for a null training set
     */
    public Training data(Dataset train, Dataset test) {
        if (train == null) {
            throw new IllegalArgumentException("training data must not be null");
        }
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, log);
    }

    /**
     * Passes over the training set (default 1).
     *
     * @param epochs >= 1
     * @return a copy with this many epochs
     * @throws IllegalArgumentException for epochs &lt; 1
     */
    public Training epochs(int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, log);
    }

    /**
     * Examples per step (default 32).
     *
     * @param batchSize >= 2 (TRAIN-mode BatchNorm needs two examples)
     * @return a copy with this batch size
     * @throws IllegalArgumentException for batchSize &lt; 2
     */
    public Training batchSize(int batchSize) {
        if (batchSize < 2) {
            throw new IllegalArgumentException("batch size must be >= 2, got " + batchSize);
        }
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, log);
    }

    /**
     * The seed of the shuffling, attack starts and power-iteration starts (default 0).
     *
     * @param seed any value
     * @return a copy with this seed
     */
    public Training seed(long seed) {
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, log);
    }

    /**
     * The optimizer (default SGD, learning rate 0.05, momentum 0.9, weight decay 5e-4).
     *
     * @param optimizer e.g. {@code OptimizerSpec.adam(1e-3, 0)}
     * @return a copy with this optimizer
     * @throws IllegalArgumentException for null
     */
    public Training optimizer(OptimizerSpec optimizer) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must not be null");
        }
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, log);
    }

    /**
     * Write a checkpoint (weights, optimizer state, position, configuration) to this file at every epoch end,
     * atomically; readable by {@link Checkpoints}.
     *
     * @param file the .safetensors file, or null for none (default)
     * @return a copy with this checkpoint file
     */
    public Training checkpointTo(Path file) {
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, file, log);
    }

    /**
     * Progress and per-epoch lines go to {@code out} (default: silent).
     *
     * @param out a stream, or null for silence
     * @return a copy that logs there
     */
    public Training log(PrintStream out) {
        return new Training(model, method, train, test, epochs, batchSize, seed, optimizer, checkpoint, out);
    }

    /**
     * Runs the training.
     *
     * @return per-epoch loss and accuracies, the number of steps, the checkpoint file
     * @throws IllegalStateException    when no training data were given
     * @throws IllegalArgumentException when the data do not fit the model or hold less than one batch
     * @throws IOException              when a checkpoint cannot be written
     */
    public Trainer.Result fit() throws IOException {
        if (train == null) {
            throw new IllegalStateException("no training data: call data(train, test) before fit()");
        }
        TrainConfig config = TrainConfig.defaults(train, seed).withEpochs(epochs).withBatchSize(batchSize)
                .withOptimizer(optimizer).withSchedule(ScheduleSpec.cosinePerStep(0, 0)).withAugmentation(0, false)
                .withInitialize(false);
        return new Trainer(model, train, test, method, config).checkpointTo(checkpoint).log(log).fit();
    }
}
