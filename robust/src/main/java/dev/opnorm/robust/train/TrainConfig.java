package dev.opnorm.robust.train;

import dev.opnorm.nn.data.Dataset;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings of a training run. One seed fixes everything random: the weight initialization (stream
 * "init"), the example order of each epoch ("shuffle"), the augmentation of each example in each epoch
 * ("augment") and each step's attack and power-iteration starts ("step"), all forks of {@code new Rng(seed)}.
 *
 * @param seed                 the run's seed
 * @param epochs               epochs to train (>= 1)
 * @param batchSize            examples per step (>= 2: TRAIN-mode BatchNorm needs two); the last partial batch
 *                             of an epoch is dropped
 * @param optimizer            optimizer and base learning rate
 * @param schedule             learning-rate schedule
 * @param cropPadding          random-crop padding in pixels (0 = no crop); padding uses the domain's low value
 * @param horizontalFlip       random left-right flips
 * @param checkpointEverySteps also checkpoint every this many steps inside an epoch (0 = only at epoch ends)
 * @param evalBatchSize        batch size of the per-epoch clean test accuracy (>= 1)
 * @param initialize           re-initialize the model's parameters from the seed at the start of a fresh run
 *                             (false: keep the weights the model has)
 */
public record TrainConfig(long seed, int epochs, int batchSize, OptimizerSpec optimizer, ScheduleSpec schedule,
                          int cropPadding, boolean horizontalFlip, int checkpointEverySteps, int evalBatchSize,
                          boolean initialize) {
    public TrainConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 2) {
            throw new IllegalArgumentException("batch size must be >= 2 (TRAIN-mode BatchNorm), got " + batchSize);
        }
        if (optimizer == null || schedule == null) {
            throw new IllegalArgumentException("optimizer and schedule must not be null");
        }
        if (cropPadding < 0) {
            throw new IllegalArgumentException("crop padding must be >= 0, got " + cropPadding);
        }
        if (checkpointEverySteps < 0) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0 steps, got " + checkpointEverySteps);
        }
        if (evalBatchSize < 1) {
            throw new IllegalArgumentException("evaluation batch size must be >= 1, got " + evalBatchSize);
        }
    }

    /**
     * Defaults for a data set: 10 epochs, batch 128, SGD (lr 0.1, momentum 0.9, weight decay 5e-4), cosine
     * per step, checkpoints at epoch ends; augmentation (crop with padding 4 and flips) except for
     * Fashion-MNIST, whose images are not mirror-symmetric in meaning and are centred.
     */
    public static TrainConfig defaults(Dataset train, long seed) {
        boolean augment = !train.name().startsWith("fashion-mnist");
        return new TrainConfig(seed, 10, 128, OptimizerSpec.sgd(0.1, 0.9, 5e-4), ScheduleSpec.cosinePerStep(0, 0),
                augment ? 4 : 0, augment, 0, 256, true);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(s, epochs, batchSize, optimizer, schedule, cropPadding, horizontalFlip,
                checkpointEverySteps, evalBatchSize, initialize);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(seed, e, batchSize, optimizer, schedule, cropPadding, horizontalFlip,
                checkpointEverySteps, evalBatchSize, initialize);
    }

    public TrainConfig withBatchSize(int b) {
        return new TrainConfig(seed, epochs, b, optimizer, schedule, cropPadding, horizontalFlip,
                checkpointEverySteps, evalBatchSize, initialize);
    }

    public TrainConfig withOptimizer(OptimizerSpec o) {
        return new TrainConfig(seed, epochs, batchSize, o, schedule, cropPadding, horizontalFlip,
                checkpointEverySteps, evalBatchSize, initialize);
    }

    public TrainConfig withSchedule(ScheduleSpec s) {
        return new TrainConfig(seed, epochs, batchSize, optimizer, s, cropPadding, horizontalFlip,
                checkpointEverySteps, evalBatchSize, initialize);
    }

    public TrainConfig withAugmentation(int padding, boolean flip) {
        return new TrainConfig(seed, epochs, batchSize, optimizer, schedule, padding, flip, checkpointEverySteps,
                evalBatchSize, initialize);
    }

    public TrainConfig withCheckpointEverySteps(int n) {
        return new TrainConfig(seed, epochs, batchSize, optimizer, schedule, cropPadding, horizontalFlip, n,
                evalBatchSize, initialize);
    }

    public TrainConfig withEvalBatchSize(int n) {
        return new TrainConfig(seed, epochs, batchSize, optimizer, schedule, cropPadding, horizontalFlip,
                checkpointEverySteps, n, initialize);
    }

    public TrainConfig withInitialize(boolean init) {
        return new TrainConfig(seed, epochs, batchSize, optimizer, schedule, cropPadding, horizontalFlip,
                checkpointEverySteps, evalBatchSize, init);
    }

    /** The settings as JSON-compatible values. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", seed);
        m.put("epochs", (long) epochs);
        m.put("batch_size", (long) batchSize);
        m.put("drop_last", true);
        m.put("optimizer", optimizer.toMap());
        m.put("schedule", schedule.toMap());
        m.put("crop_padding", (long) cropPadding);
        m.put("horizontal_flip", horizontalFlip);
        m.put("checkpoint_every_steps", (long) checkpointEverySteps);
        m.put("eval_batch_size", (long) evalBatchSize);
        m.put("initialize", initialize);
        return m;
    }
}
