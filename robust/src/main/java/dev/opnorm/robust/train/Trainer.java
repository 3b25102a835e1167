package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.checkpoint.Json;
import dev.opnorm.nn.checkpoint.TrainingState;
import dev.opnorm.nn.data.CropFlip;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.MiniBatches;
import dev.opnorm.nn.data.Shuffle;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.optim.LrSchedule;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Progress;
import dev.opnorm.nn.util.Rng;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a model with a {@link TrainingMethod}: epochs of shuffled mini-batches (last partial batch dropped),
 * optional crop/flip augmentation, an optimizer with a learning-rate schedule, BatchNorm running statistics
 * committed once per step (by the method), clean test accuracy after every epoch, a progress line (loss,
 * accuracy, images/s, ETA), and checkpoints.
 *
 * <p><b>Determinism and resume.</b> Everything random is a pure function of the seed and the position: the
 * order of epoch e is {@code Shuffle.epochOrder(n, root.fork("shuffle"), e)}, example i's augmentation in epoch
 * e uses {@code root.fork("augment").fork(e).fork(i)}, step s's method randomness (attack and power-iteration
 * starts) uses {@code root.fork("step").fork(s)}, the initialization {@code root.fork("init")}, with
 * {@code root = new Rng(seed)}. The kernels are deterministic for any thread count. A checkpoint holds the
 * parameters, BatchNorm buffers, the method's state (e.g. global SNR vectors), the optimizer state, the
 * epoch and step, the root RNG state and the full configuration as JSON; so a run resumed from a checkpoint
 * (written at an epoch end or every N steps inside an epoch) ends with weights bit-identical to an
 * uninterrupted run. Resuming checks that the checkpoint's configuration equals this trainer's.
 *
 * <p><b>Divergence.</b> A NaN or infinite loss stops the run with a {@link TrainingDivergedException} before
 * the optimizer applies the step; a parameter made non-finite by an update stops it right after that update,
 * before any checkpoint is written. The
 * checkpoint file therefore always holds the last good state (files are written atomically: temporary file,
 * then rename).
 *
 * <p><b>Where the steps run.</b> A {@link StepRunner} does the work on the parameters (step, update,
 * finiteness check, evaluation); by default the host's ({@code PlacedTrainOps.runners(PlacedModel::host)}).
 * {@link #runOn} plugs in another (e.g.
 * the OpenCL device's): the loop above, the data order, augmentation, schedule, checkpoint format and resume
 * stay this class's, whichever runner steps.
 */
public final class Trainer {
    /** Called after every optimizer step (for logging or tests). */
    @FunctionalInterface
    public interface StepListener {
        /**
         * @param epoch  the current epoch (0-based)
         * @param step   the number of steps taken so far (the step just done is step - 1)
         * @param result the step's loss breakdown
         */
        void afterStep(long epoch, long step, StepResult result);
    }

    /**
     * Called at the end of every epoch, after its test accuracy and just before its checkpoint is written, so
     * what the listener writes (metrics, a weights file) is never behind the checkpoint: a crash between the two
     * makes a resumed run redo the epoch and call the listener again with the same values.
     */
    @FunctionalInterface
    public interface EpochListener {
        /**
         * @param stats the epoch's summary (its test accuracy included)
         * @throws IOException when the listener's own output cannot be written; it stops {@link #fit()}
         */
        void afterEpoch(EpochStats stats) throws IOException;
    }

    /**
     * One epoch's summary.
     *
     * @param epoch         the epoch (1-based: 1 = the first)
     * @param steps         steps run in this process for this epoch (fewer after a mid-epoch resume)
     * @param meanLoss      mean training loss of those steps
     * @param trainAccuracy clean accuracy on those training batches (before each step's update)
     * @param testAccuracy  clean test accuracy after the epoch (NaN without a test set)
     * @param learningRate  the learning rate of the epoch's last step
     */
    public record EpochStats(long epoch, long steps, double meanLoss, double trainAccuracy, double testAccuracy,
                             double learningRate) {
    }

    /** What {@link #fit()} did: the epochs run, the total number of steps, the checkpoint file (or null). */
    public record Result(List<EpochStats> epochs, long steps, Path checkpoint) {
        public Result {
            epochs = List.copyOf(epochs);
        }
    }

    private final Layer model;
    private final Dataset train;
    private final Dataset test;
    private final TrainingMethod method;
    private final TrainConfig config;
    private final Optimizer optimizer;
    private final Rng root;
    private StepRunner runner;
    private Path checkpoint;
    private PrintStream log = System.out;
    private StepListener listener;
    private EpochListener epochListener;
    private long stopAfterEpoch = Long.MAX_VALUE;
    private volatile boolean stopRequested;
    private boolean interrupted;
    private long epoch;
    private long step;
    private boolean started;
    private Path lastGood;
    private long lastGoodEpoch;
    private long lastGoodStep;

    /**
     * @param model  the network; its parameters are trained in place
     * @param train  training data (at least one batch)
     * @param test   data for the per-epoch clean accuracy, or null
     * @param method the objective
     * @param config the run's settings
     * @throws IllegalArgumentException when the data do not fit the model or hold less than one batch
     */
    public Trainer(Layer model, Dataset train, Dataset test, TrainingMethod method, TrainConfig config) {
        if (model == null || train == null || method == null || config == null) {
            throw new IllegalArgumentException("trainer: model, training data, method and config must not be null");
        }
        if (train.size() < config.batchSize()) {
            throw new IllegalArgumentException("trainer: " + train.name() + " has " + train.size()
                    + " examples, fewer than one batch of " + config.batchSize());
        }
        checkFits(model, train);
        if (test != null) {
            checkFits(model, test);
        }
        this.model = model;
        this.train = train;
        this.test = test;
        this.method = method;
        this.config = config;
        this.optimizer = config.optimizer().create(model.params());
        this.root = new Rng(config.seed());
        this.runner = PlacedTrainOps.runners(PlacedModel::host).create(model, method, optimizer);
    }

    /**
     * Runs the steps, updates and evaluations through the runner {@code factory} makes for this trainer's
     * model, method and optimizer (instead of the host's). Call before {@link #resumeFrom} and
     * {@link #fit()}.
     *
     * @throws IllegalArgumentException for a null factory or a factory that returns null
     */
    public Trainer runOn(StepRunner.Factory factory) {
        if (factory == null) {
            throw new IllegalArgumentException("trainer: the step runner factory must not be null");
        }
        StepRunner r = factory.create(model, method, optimizer);
        if (r == null) {
            throw new IllegalArgumentException("trainer: the step runner factory returned null");
        }
        this.runner = r;
        return this;
    }

    /** The runner that executes the steps. */
    public StepRunner runner() {
        return runner;
    }

    private static void checkFits(Layer model, Dataset data) {
        Shape out = model.outputShape(data.images().shape.withBatch(1));
        if (out.perExample() != data.classes()) {
            throw new IllegalArgumentException("trainer: the model has " + out.perExample() + " outputs, "
                    + data.name() + " has " + data.classes() + " classes");
        }
    }

    /** Writes checkpoints to {@code file} (atomically replaced each time); null = no checkpoints. */
    public Trainer checkpointTo(Path file) {
        this.checkpoint = file;
        return this;
    }

    /** Progress and epoch lines go to {@code out}; null = silent. Default System.out. */
    public Trainer log(PrintStream out) {
        this.log = out;
        return this;
    }

    /** Calls {@code l} after every step. */
    public Trainer onStep(StepListener l) {
        this.listener = l;
        return this;
    }

    /** Calls {@code l} at the end of every epoch, just before the epoch's checkpoint is written. */
    public Trainer onEpoch(EpochListener l) {
        this.epochListener = l;
        return this;
    }

    /**
     * Makes {@link #fit()} return once epoch {@code epochs} (1-based) is done and checkpointed, even when the
     * configuration has more; a later {@link #resumeFrom} continues the run exactly (a run split into several invocations).
     *
     * @throws IllegalArgumentException for epochs &lt; 1
     */
    public Trainer stopAfterEpoch(long epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("stop after epoch must be >= 1, got " + epochs);
        }
        this.stopAfterEpoch = epochs;
        return this;
    }

    /**
     * Asks a running {@link #fit()} (in any thread, e.g. a JVM shutdown hook) to stop at the next step boundary:
     * it writes a checkpoint of that position (when one is configured) and returns; {@link #interrupted()} then
     * tells. The step in progress finishes first, so the checkpoint never holds half an update.
     */
    public void requestStop() {
        stopRequested = true;
    }

    /** Whether the last {@link #fit()} returned early because of {@link #requestStop()}. */
    public boolean interrupted() {
        return interrupted;
    }

    /** The optimizer (its state is part of checkpoints). */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** Steps taken so far. */
    public long step() {
        return step;
    }

    /** The next epoch to run (0-based). */
    public long epoch() {
        return epoch;
    }

    /**
     * Restores the state of a checkpoint written by a trainer with the same configuration: parameters,
     * buffers, the method's state, the optimizer state and the position. {@link #fit()} then continues.
     *
     * @throws IOException              when the file cannot be read or is not a valid checkpoint
     * @throws IllegalArgumentException when the checkpoint belongs to another configuration, model or method
     *                                  (the message shows both configurations or lists the mismatching tensors)
     */
    public Trainer resumeFrom(Path file) throws IOException {
        Checkpoint ck = Checkpoint.load(file);
        String stored = ck.config().orElseThrow(() -> new IllegalArgumentException(file
                + ": not a training checkpoint (no configuration)"));
        String mine = configJson();
        if (!stored.equals(mine)) {
            throw new IllegalArgumentException(file + " was written by a run with another configuration; resuming "
                    + "it would not reproduce that run. Differences (checkpoint vs this run): "
                    + String.join("; ", configDifferences(stored, mine)));
        }
        TrainingState ts = ck.training().orElseThrow(() -> new IllegalArgumentException(file
                + ": checkpoint has no training position"));
        long[] rootState = ts.rngState("root");
        if (rootState == null || !Arrays.equals(rootState, root.state())) {
            throw new IllegalArgumentException(file + ": the root RNG state does not belong to seed " + config.seed());
        }
        long spe = stepsPerEpoch();
        if (ts.epoch() > config.epochs() || ts.step() < ts.epoch() * spe || ts.step() > (ts.epoch() + 1) * spe) {
            throw new IllegalArgumentException(file + ": position epoch " + ts.epoch() + ", step " + ts.step()
                    + " is impossible with " + spe + " steps per epoch and " + config.epochs() + " epochs");
        }
        ck.loadInto(allTensors(), true);
        optimizer.importState(ck.optimizer().orElseThrow(() -> new IllegalArgumentException(file
                + ": checkpoint has no optimizer state")));
        epoch = ts.epoch();
        step = ts.step();
        started = true;
        lastGood = file;
        lastGoodEpoch = epoch;
        lastGoodStep = step;
        return this;
    }

    /**
     * The entries in which two configuration JSON texts differ, as "path: a vs b" (path like
     * "trainer.batch_size" or "model.params[3]"), at most 10 of them; the whole texts when one does not parse.
     */
    static List<String> configDifferences(String a, String b) {
        List<String> out = new ArrayList<>();
        try {
            diff("", Json.parse(a), Json.parse(b), out);
        } catch (Json.JsonException e) {
            return List.of("checkpoint " + a, "this run " + b);
        }
        if (out.size() > 10) {
            int more = out.size() - 10;
            out = new ArrayList<>(out.subList(0, 10));
            out.add("... " + more + " more");
        }
        return out.isEmpty() ? List.of("(same values, different text) checkpoint " + a + ", this run " + b) : out;
    }

    private static void diff(String path, Object a, Object b, List<String> out) {
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            java.util.Set<Object> keys = new java.util.LinkedHashSet<>(ma.keySet());
            keys.addAll(mb.keySet());
            for (Object k : keys) {
                String p = path.isEmpty() ? String.valueOf(k) : path + "." + k;
                if (!ma.containsKey(k) || !mb.containsKey(k)) {
                    out.add(p + ": " + (ma.containsKey(k) ? Json.write(ma.get(k)) : "absent") + " vs "
                            + (mb.containsKey(k) ? Json.write(mb.get(k)) : "absent"));
                } else {
                    diff(p, ma.get(k), mb.get(k), out);
                }
            }
        } else if (a instanceof List<?> la && b instanceof List<?> lb && la.size() == lb.size()) {
            for (int i = 0; i < la.size(); i++) {
                diff(path + "[" + i + "]", la.get(i), lb.get(i), out);
            }
        } else if (!java.util.Objects.equals(a, b)) {
            out.add((path.isEmpty() ? "configuration" : path) + ": " + Json.write(a) + " vs " + Json.write(b));
        }
    }

    private long stepsPerEpoch() {
        return train.size() / config.batchSize();
    }

    private List<Param> allTensors() {
        List<Param> all = new ArrayList<>(model.params());
        all.addAll(model.buffers());
        all.addAll(method.state());
        return all;
    }

    /**
     * The run's complete configuration as JSON: the trainer settings, the method, the model's tensor names and
     * shapes, and the data sets. Stored in every checkpoint.
     */
    public String configJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trainer", config.toMap());
        m.put("method", method.config());
        Map<String, Object> mod = new LinkedHashMap<>();
        mod.put("params", describe(model.params()));
        mod.put("buffers", describe(model.buffers()));
        m.put("model", mod);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("train", describe(train));
        if (test != null) {
            data.put("test", describe(test));
        }
        m.put("data", data);
        return Json.write(m);
    }

    private static List<Object> describe(List<Param> ps) {
        List<Object> out = new ArrayList<>();
        for (Param p : ps) {
            out.add(p.name() + Arrays.toString(p.dims()));
        }
        return out;
    }

    private static Map<String, Object> describe(Dataset d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", d.name());
        m.put("shape", d.images().shape.toString());
        m.put("classes", (long) d.classes());
        m.put("domain", d.domain().toString());
        return m;
    }

    /**
     * Trains until the configured number of epochs (from the resumed position, if any), or until the epoch set by
     * {@link #stopAfterEpoch}.
     *
     * @throws TrainingDivergedException when the loss or a parameter becomes NaN/Inf
     * @throws IOException               when a checkpoint cannot be written
     */
    public Result fit() throws IOException {
        long spe = stepsPerEpoch();
        int b = config.batchSize();
        long total = config.schedule().perStep() ? spe * config.epochs() : config.epochs();
        LrSchedule schedule = config.schedule().create(config.optimizer().lr(), total);
        if (!started) {
            if (config.initialize()) {
                model.initParameters(new SplittableRandom(root.fork("init").nextLong()));
            }
            started = true;
        }
        runner.load();
        Rng shuffle = root.fork("shuffle"), augment = root.fork("augment"), steps = root.fork("step");
        CropFlip aug = config.cropPadding() > 0 || config.horizontalFlip()
                ? new CropFlip(config.cropPadding(), config.horizontalFlip(), train.domain().low()) : null;
        Shape bs = train.images().shape.withBatch(b);
        Tensor raw = new Tensor(bs);
        Tensor x = aug == null ? raw : new Tensor(bs);
        int[] y = new int[b];
        List<EpochStats> history = new ArrayList<>();
        while (epoch < config.epochs() && epoch < stopAfterEpoch) {
            MiniBatches batches = new MiniBatches(Shuffle.epochOrder(train.size(), shuffle, epoch), b, false);
            int first = (int) (step - epoch * spe);
            Progress progress = log == null ? null
                    : Progress.start("epoch " + (epoch + 1) + "/" + config.epochs(), spe * b, "img", log);
            if (progress != null) {
                progress.update((long) first * b);
            }
            double lossSum = 0, lr = Double.NaN;
            long correct = 0, counted = 0, done = 0;
            for (int i = first; i < spe; i++) {
                if (stopRequested) {
                    // a step boundary: the state is consistent, so checkpoint it and let the caller exit
                    save(epoch);
                    interrupted = true;
                    if (log != null) {
                        log.printf(Locale.ROOT, "%nstopped on request in epoch %d/%d at step %d; checkpoint written%n",
                                epoch + 1, config.epochs(), step);
                    }
                    return new Result(history, step, checkpoint);
                }
                batches.gather(i, train, raw, y);
                if (aug != null) {
                    aug.apply(raw, x, batches.indices(i), augment.fork(epoch));
                }
                lr = schedule.at(config.schedule().perStep() ? step : epoch);
                StepResult r = runner.step(x, y, steps.fork(step), lr);
                if (!r.finite()) {
                    throw diverged("the loss is " + r.loss() + " [" + r.breakdown() + "]", false);
                }
                step++;
                checkParametersFinite();
                done++;
                lossSum += r.loss();
                correct += r.correct();
                counted += r.counted();
                if (progress != null) {
                    progress.field("loss", lossSum / done).field("acc", (double) correct / counted).field("lr", lr)
                            .advance(b);
                }
                if (listener != null) {
                    listener.afterStep(epoch, step, r);
                }
                if (config.checkpointEverySteps() > 0 && step % config.checkpointEverySteps() == 0 && i < spe - 1) {
                    save(epoch);
                }
            }
            if (progress != null) {
                progress.finish();
            }
            double testAcc = test == null ? Double.NaN : accuracy(test);
            runner.store(); // the epoch listener reads the host model
            epoch++;
            EpochStats stats = new EpochStats(epoch, done, done == 0 ? Double.NaN : lossSum / done,
                    counted == 0 ? Double.NaN : (double) correct / counted, testAcc, lr);
            if (epochListener != null) {
                epochListener.afterEpoch(stats);
            }
            save(epoch);
            history.add(stats);
            if (log != null) {
                String test = Double.isNaN(testAcc) ? "not evaluated" : String.format(Locale.ROOT, "%.4f", testAcc);
                log.printf(Locale.ROOT, "epoch %d/%d: loss %.4f, train accuracy %.4f, test accuracy %s (%s)%n",
                        epoch, config.epochs(), stats.meanLoss(), stats.trainAccuracy(), test, method.name());
            }
        }
        return new Result(history, step, checkpoint);
    }

    /**
     * Clean accuracy of the model on {@code data} (BatchNorm in EVAL mode), in batches of evalBatchSize,
     * computed by the runner (on the device for a device runner).
     */
    public double accuracy(Dataset data) {
        int n = data.size(), e = config.evalBatchSize(), correct = 0;
        for (int from = 0; from < n; from += e) {
            correct += runner.correct(data, from, Math.min(e, n - from));
        }
        return (double) correct / n;
    }

    /** Stops the run when an update produced a NaN/Inf parameter (a finite loss with an exploding step). */
    private void checkParametersFinite() {
        String bad = runner.nonFiniteParameter();
        if (bad != null) {
            throw diverged(bad + " after the update", true);
        }
    }

    private void save(long atEpoch) throws IOException {
        if (checkpoint == null) {
            return;
        }
        runner.store();
        List<Param> buffers = new ArrayList<>(model.buffers());
        buffers.addAll(method.state());
        Checkpoint.of(model.params(), buffers)
                .withOptimizer(optimizer.exportState())
                .withTraining(TrainingState.of(atEpoch, step, Map.of("root", root)))
                .withConfig(configJson())
                .save(checkpoint);
        lastGood = checkpoint;
        lastGoodEpoch = atEpoch;
        lastGoodStep = step;
    }

    /** @param applied whether the failing step's update was applied in memory (a non-finite parameter) */
    private TrainingDivergedException diverged(String what, boolean applied) {
        long failing = applied ? step - 1 : step;
        String where = lastGood == null
                ? "No checkpoint was written" + (checkpoint == null ? " (none configured)." : " yet.")
                : "The last good checkpoint is " + lastGood + " (epoch " + lastGoodEpoch + ", step " + lastGoodStep
                  + "); it was not overwritten.";
        return new TrainingDivergedException(String.format(Locale.ROOT,
                "training diverged in epoch %d at step %d (0-based; the %d steps before it were fine): %s. %s %s "
                        + "Lower the learning rate or the regularization strength, then start again or resume.",
                epoch + 1, failing, failing, what,
                applied ? "Nothing was saved after this step." : "This step's update was not applied.", where),
                epoch, failing, lastGood);
    }
}
