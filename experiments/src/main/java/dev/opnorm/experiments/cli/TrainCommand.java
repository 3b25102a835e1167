package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.checkpoint.Json;
import dev.opnorm.nn.data.Cifar10;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.data.Subsets;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.FiniteChecks;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.Models;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.train.MethodSpec;
import dev.opnorm.robust.train.MethodSpec.Kind;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.OptimizerSpec;
import dev.opnorm.robust.train.ScheduleSpec;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainConfig;
import dev.opnorm.robust.train.Trainer;
import dev.opnorm.robust.train.TrainingDivergedException;
import dev.opnorm.robust.train.TrainingMethod;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code opnorm train}: trains a network with one of the paper's methods ({@link Objective}: standard,
 * adversarial training, global / data-dependent norm regularization, the AT / d.d. SNR interpolation)
 * through {@link Trainer}, and writes into --out:
 * <ul>
 *   <li>{@value #MODEL_FILE}: the network's parameters and BatchNorm buffers only (the names of
 *       {@code model.params()} and {@code model.buffers()}), after every epoch; what {@code opnorm norm},
 *       {@code attack} and {@code eval} load with {@code --checkpoint} (and PyTorch with safetensors);</li>
 *   <li>{@value #STATE_FILE}: the Trainer's checkpoint (the same tensors plus the method's state, e.g. global
 *       SNR vectors, the optimizer state, position, RNG and configuration), at epoch ends and every
 *       --checkpoint-every steps; what --resume continues from;</li>
 *   <li>{@value #METRICS_FILE}: one row per epoch under its header row (provenance is in run.json);</li>
 *   <li>run.json: the resolved options and provenance, written at the start (status running) and the end.</li>
 * </ul>
 * Knobs that a method does not use are rejected (naming the flag and the methods that use it) rather than
 * silently ignored. Exit codes: 0 done, 2 bad flags or files, 3 training diverged (NaN/Inf), 143 interrupted by
 * SIGINT / SIGTERM after checkpointing (see {@link dev.opnorm.experiments.run.RunFolder#onShutdown}).
 */
@Command(name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Train a network: standard, adversarial training (Eq. 14, l_p PGA), global or",
                "data-dependent spectral / operator norm regularization, input-gradient",
                "regularization, or the AT <-> d.d. SNR interpolation (Fig. 7).",
                "",
                "Defaults: a quick Fashion-MNIST run. cnn7-w0.25, a stratified 5000-image",
                "training subset, 1000 test images, 2 epochs of batch 128, SGD (lr 0.05,",
                "momentum 0.9, weight decay 5e-4), cosine schedule, no augmentation: about",
                "1 CPU-minute for --method standard (4 minutes wall on 2 cores shared with",
                "other work). A step of AT (10 PGA steps) costs about 9 standard steps and",
                "one of dd-snr (10 power iterations) about 7 (CPU time, width 0.25, batch 128):",
                "give those methods fewer images or epochs for a quick run.",
                "",
                "Writes into --out (default runs/train-<method>):",
                "  " + TrainCommand.MODEL_FILE + "       the weights (params + BatchNorm buffers) after",
                "                          each epoch: norm/attack/eval --checkpoint load it",
                "  " + TrainCommand.STATE_FILE + "  the training state (+ optimizer, method state,",
                "                          position, RNG, config), for --resume",
                "  " + TrainCommand.METRICS_FILE + "             per epoch: steps, loss, clean/adv loss, regularizer,",
                "                          train/test accuracy, lr, images/s, seconds, CPU",
                "                          seconds (after a mid-epoch --resume: the steps since)",
                "  run.json                options and provenance, status (running, finished,",
                "                          interrupted, failed, ...)",
                "The folder is owned by this run while it runs (.opnorm.lock, with its pid); one",
                "that holds results is refused unless --resume (continue) or --force (start over).",
                "SIGINT / SIGTERM: the step in progress ends, the training state is checkpointed,",
                "run.json says interrupted; continue with the same options and --resume.",
                "Exit codes: 0 done, 2 bad flag or file, 3 the loss or a weight became NaN/Inf,",
                "4 out of memory, 143 interrupted (checkpoint written).",
                "",
                "--backend opencl: steps, optimizer updates (sgd, adam, rmsprop) and evaluation",
                "run on the OpenCL device (augmentation on the host, one upload per batch); the",
                "files are those of a CPU run. Device methods: standard, at, dd-snr, dd-snr-sq,",
                "dd-onr, input-grad, interp, global-snr, global-conv-norm (their u, v power-step",
                "state on the device, saved in and resumed from the checkpoint as on the CPU):",
                "every method; there is no CPU fallback.",
                "",
                "Methods and their knobs [defaults] (the catalogue MethodSpec, shared with the",
                "API and the reproduction); a knob the method does not use is an error:",
                "  standard          cross-entropy (CE)",
                "  at                clean-weight CE(x) + adv-weight CE(x*), x* = l_p PGA on",
                "                    adv-fraction of each batch (BatchNorm EVAL in the attack):",
                "                    --p [2] --eps [1.75 for p=2, 16/255 for p=inf]",
                "                    --attack-iterations [10] --clean-weight [1] --adv-weight [1]",
                "                    --adv-fraction [" + MethodSpec.DEFAULT_ADV_FRACTION + "]",
                "  global-snr        (lambda/2) sum_l sigma_l^2, conv kernels reshaped",
                "                    (Yoshida & Miyato): --lambda [3e-4] --power-iterations [1]",
                "  global-conv-norm  the same with each conv's true operator norm:",
                "                    --lambda [3e-4] --power-iterations [1]",
                "  dd-snr            (lambda/2) sigma(J_f(x))^2, power method (Eq. 7):",
                "                    --lambda [0.02] --power-iterations [10]",
                "  dd-snr-sq         sum of squares (lambda/2) ||f(x + eps v) - f(x)||_2^2:",
                "                    --eps [1.75] --lambda [0.02/eps^2] --power-iterations [10]",
                "                    --reg-bn [train]",
                "  dd-onr            d.d. (p,q) operator norm, lambda ||f(x + eps v) - f(x)||_q:",
                "                    --p [inf] --q [2] --eps [16/255 for p=inf, 1.75 for p=2]",
                "                    --lambda [1] --q-power --power-iterations [10] --reg-bn [train]",
                "  input-grad        (lambda/2) ||dCE/dx||_2^2: --lambda [1]",
                "  interp            CE + t adv-weight CE(x*) + dd-snr-sq of strength (1-t) lambda,",
                "                    l2 PGA with the same eps: --interp-t [0.5] --adv-weight [1]",
                "                    --lambda [0.02/eps^2] --eps [1.75] --attack-iterations [10]",
                "                    --power-iterations [10] --adv-fraction [" + MethodSpec.DEFAULT_ADV_FRACTION + "]",
                "                    --reg-bn [train]",
                ""},
        footer = {"", "Examples:",
                "  ./opnorm train                        standard training, quick defaults",
                "  ./opnorm train --method at --eps 1.75 l2 adversarial training",
                "  ./opnorm train --method dd-snr-sq --lambda 0.01   the paper's d.d. SNR",
                "  ./opnorm train --method at --resume   continue a killed run (runs/train-at)",
                "  ./opnorm norm --checkpoint runs/train-at/model.safetensors",
                "  ./opnorm train --dataset cifar10 --data DIR --model cnn7 --train-subset 0",
                "                 --epochs 50 --batch 128    the paper's setting (a long run)"})
public final class TrainCommand implements Callable<Integer> {
    /** The weights file, loadable by {@code norm --checkpoint}. */
    public static final String MODEL_FILE = "model.safetensors";
    /** The Trainer's checkpoint (training state), for --resume. */
    public static final String STATE_FILE = "checkpoint.safetensors";
    /** Per-epoch metrics. */
    public static final String METRICS_FILE = "metrics.csv";
    /** Columns of {@link #METRICS_FILE}. */
    public static final String METRICS_COLUMNS =
            "epoch,steps,loss,clean_loss,adv_loss,reg,train_acc,test_acc,lr,images_per_s,seconds,cpu_seconds";
    /** Exit code of a run whose loss or parameters became NaN/Inf. */
    public static final int EXIT_DIVERGED = 3;
    /** Exit code of a run stopped by SIGINT / SIGTERM after checkpointing (the shell's 128 + SIGTERM). */
    public static final int EXIT_INTERRUPTED = 143;
    /** How long a shutdown waits for the step in progress to end and the checkpoint to be written. */
    static final long STOP_WAIT_SECONDS = 60;

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    @Option(names = "--method", defaultValue = "standard", description = "Training method (see above). Default: ${DEFAULT-VALUE}.")
    String method;

    @Option(names = "--lambda", description = "Regularization strength (default per method, see above).")
    Double lambda;

    @Option(names = "--eps", description = "Attack radius (at, interp) or finite-difference step (dd-snr-sq, dd-onr), "
            + "in input units ([-1, 1] pixels). Default per method and --p, see above.")
    Double eps;

    @Option(names = "--p", description = "Attack norm (at: 1, 2 or inf) or input norm (dd-onr: >= 1 or inf). Default: "
            + "2 for at, inf for dd-onr.")
    String p;

    @Option(names = "--q", description = "Output norm of dd-onr: >= 1 or inf. Default: 2.")
    String q;

    @Option(names = "--q-power", description = "dd-onr: penalize (lambda/q) ||f(x + eps v) - f(x)||_q^q instead of the norm.")
    Boolean qPower;

    @Option(names = "--attack-iterations", description = "PGA steps per batch (at, interp), step size 2 eps / iterations. "
            + "Default: 10.")
    Integer attackIterations;

    @Option(names = "--power-iterations", description = "Power-method iterations per batch (d.d. methods; default 10) or "
            + "power steps per update (global methods; default 1).")
    Integer powerIterations;

    @Option(names = "--adv-fraction", description = "Fraction of each batch attacked (at, interp), in (0, 1]. Default: "
            + MethodSpec.DEFAULT_ADV_FRACTION + " (the reference code's share; the paper states none).")
    Double advFraction;

    @Option(names = "--clean-weight", description = "Weight of the clean cross-entropy (at). Default: 1.")
    Double cleanWeight;

    @Option(names = "--adv-weight", description = "Weight of the adversarial cross-entropy, Eq. 14's lambda (at; interp: "
            + "the AT end's weight). Default: 1.")
    Double advWeight;

    @Option(names = "--interp-t", description = "interp: t in [0, 1]; 1 = adversarial training, 0 = d.d. SNR. Default: 0.5.")
    Double interpT;

    @Option(names = "--reg-bn", description = "BatchNorm mode of the finite-difference passes (dd-snr-sq, dd-onr, interp): "
            + "train or eval. Default: train.")
    String regBn;

    @Option(names = "--model", defaultValue = "cnn7-w0.25",
            description = "Network: cnn7 (the paper's 7-layer CNN), cnn7-w<factor> (width factor, e.g. cnn7-w0.25), "
                    + "wrn-<depth>-<k>. Default: ${DEFAULT-VALUE}.")
    String modelSpec;

    @Option(names = "--dataset", defaultValue = "fashion-mnist",
            description = "fashion-mnist (padded to 32x32) or cifar10 (binary version; needs --data). Default: ${DEFAULT-VALUE}.")
    String dataset;

    @Option(names = "--data", description = "Folder with the data set's files (Fashion-MNIST default: /usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--train-subset", defaultValue = "5000", description = "Training images: a stratified subset drawn "
            + "from --seed (a multiple of 10, the classes); 0 = all. Default: ${DEFAULT-VALUE}.")
    int trainSubset;

    @Option(names = "--test-subset", defaultValue = "1000", description = "Test images for the per-epoch accuracy: a "
            + "stratified subset (a multiple of 10); 0 = all. Default: ${DEFAULT-VALUE}.")
    int testSubset;

    @Option(names = "--epochs", defaultValue = "2", description = "Epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--stop-after-epoch", description = "Stop once this epoch is done and checkpointed (the schedule "
            + "still spans --epochs); continue later with --resume.")
    Integer stopAfterEpoch;

    @Option(names = "--batch", defaultValue = "128", description = "Images per step (>= 2); the last partial batch of "
            + "an epoch is dropped. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--optimizer", defaultValue = "sgd", description = "sgd, adam or rmsprop. Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", description = "Base learning rate. Default: 0.05 (sgd), 1e-3 (adam), 1e-4 (rmsprop).")
    Double lr;

    @Option(names = "--momentum", description = "Momentum (sgd, rmsprop), in [0, 1). Default: 0.9 (sgd), 0 (rmsprop).")
    Double momentum;

    @Option(names = "--weight-decay", description = "L2 weight decay. Default: 5e-4 (sgd), 0 (adam, rmsprop).")
    Double weightDecay;

    @Option(names = "--schedule", defaultValue = "cosine", description = "Learning-rate schedule: constant, step "
            + "(x gamma at --milestones epochs) or cosine (per step, to 0). Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--milestones", split = ",", description = "step schedule: epochs (1-based counts done) after which "
            + "the rate is multiplied by --gamma, increasing. Default: half and three quarters of --epochs.")
    long[] milestones;

    @Option(names = "--gamma", description = "step schedule: factor at each milestone, in (0, 1]. Default: 0.1.")
    Double gamma;

    @Option(names = "--augment", negatable = true, description = "Random crop (padding 4) and horizontal flips. "
            + "Default: on for cifar10, off for fashion-mnist.")
    Boolean augment;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "Also save the training state every N steps "
            + "inside an epoch (0: at epoch ends only). Default: ${DEFAULT-VALUE}.")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue the run whose " + STATE_FILE + " is in --out (e.g. a killed "
            + "run); it must have been started with the same options. Without a state file the run starts fresh.")
    boolean resume;

    @Option(names = "--out", description = "Output folder, owned by this run while it runs (a lock file). One that "
            + "already holds results is refused unless --resume (continue its run) or --force (start over). Default: "
            + "runs/train-<method>.")
    Path out;

    @Option(names = "--force", description = "Start a fresh run in an --out that holds results, deleting the earlier "
            + "run's " + MODEL_FILE + ", " + STATE_FILE + " and " + METRICS_FILE + ".")
    boolean force;

    /**
     * Running sums of one epoch's steps (in this process), with wall-clock and process CPU time from the epoch's
     * start to its last step (the test evaluation excluded). CPU time counts all threads; on a machine shared
     * with other work it shows the cost of a step better than wall time does.
     */
    private static final class EpochSums {
        long steps;
        double loss, clean, adv, reg;
        long startNanos, lastStepNanos, startCpu, lastStepCpu;

        void reset() {
            steps = 0;
            loss = clean = adv = reg = 0;
            startNanos = lastStepNanos = System.nanoTime();
            startCpu = lastStepCpu = processCpuNanos();
        }

        void add(StepResult r) {
            steps++;
            loss += r.loss();
            clean += r.cleanLoss();
            adv += r.adversarialLoss();
            for (double v : r.penalties().values()) {
                reg += v;
            }
            lastStepNanos = System.nanoTime();
            lastStepCpu = processCpuNanos();
        }

        /** CPU seconds of the epoch's steps, NaN where the JVM cannot tell. */
        double cpuSeconds() {
            return startCpu < 0 || lastStepCpu < 0 ? Double.NaN : (lastStepCpu - startCpu) / 1e9;
        }

        private static long processCpuNanos() {
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                return os.getProcessCpuTime();
            }
            return -1;
        }
    }

    /**
     * The methods that --backend opencl trains on the device: all of them (the objective and the step are
     * written once, robust's Objective and step runner on the backend's engine).
     */
    static final Set<Kind> DEVICE_METHODS = EnumSet.allOf(Kind.class);

    /** Counted down when the command has written its last file: a shutdown hook waits for it. */
    private final java.util.concurrent.CountDownLatch settled = new java.util.concurrent.CountDownLatch(1);

    /** The step runner of the run (its backend's buffers, e.g. a device model), closed when the command ends. */
    private StepRunner runner;

    @Override
    public Integer call() throws IOException {
        try {
            return run();
        } finally {
            if (runner != null) {
                runner.close();
                runner = null;
            }
        }
    }

    private Integer run() throws IOException {
        MethodSpec methodSpec = methodSpec();
        Kind m = methodSpec.kind();
        require(epochs >= 1, "--epochs must be >= 1, got " + epochs);
        require(stopAfterEpoch == null || stopAfterEpoch >= 1, "--stop-after-epoch must be >= 1, got " + stopAfterEpoch);
        require(batch >= 2, "--batch must be >= 2 (TRAIN-mode BatchNorm needs two images), got " + batch);
        require(trainSubset >= 0 && trainSubset % 10 == 0, "--train-subset must be 0 (all) or a positive multiple of 10 "
                + "(the subset is stratified over the 10 classes), got " + trainSubset);
        require(testSubset >= 0 && testSubset % 10 == 0, "--test-subset must be 0 (all) or a positive multiple of 10 "
                + "(the subset is stratified over the 10 classes), got " + testSubset);
        require(checkpointEvery >= 0, "--checkpoint-every must be >= 0 steps, got " + checkpointEvery);
        OptimizerSpec opt = optimizerSpec();
        ScheduleSpec sched = scheduleSpec();
        String ds = dataset.trim().toLowerCase(Locale.ROOT);
        require(ds.equals("fashion-mnist") || ds.equals("cifar10"), "--dataset must be fashion-mnist or cifar10, got '"
                + dataset + "'");
        require(ds.equals("fashion-mnist") || data != null, "--data is required with --dataset cifar10 (the folder "
                + "with data_batch_1.bin ... test_batch.bin)");
        require(!(resume && force), "--resume and --force exclude each other: --resume continues the run in --out, "
                + "--force replaces it");
        Path outDir = out != null ? out : Path.of("runs", "train-" + m.id());
        // the folder is checked and owned before any data is read or any step runs
        try (RunFolder folder = RunFolder.claim(outDir, "--out", "train", resume ? RunFolder.Policy.RESUME
                : force ? RunFolder.Policy.REPLACE : RunFolder.Policy.REFUSE, STATE_FILE, spec.commandLine().getErr())) {
            if (force) {
                // a fresh run: nothing of the replaced one may survive a kill of this one
                for (String f : List.of(STATE_FILE, MODEL_FILE, METRICS_FILE)) {
                    Files.deleteIfExists(outDir.resolve(f));
                }
            }
            try {
                return train(methodSpec, opt, sched, ds, outDir, folder);
            } finally {
                settled.countDown();
            }
        }
    }

    private Integer train(MethodSpec methodSpec, OptimizerSpec opt, ScheduleSpec sched, String ds, Path outDir,
            RunFolder folder) throws IOException {
        Kind m = methodSpec.kind();
        Path stateFile = outDir.resolve(STATE_FILE);
        boolean resuming = resume && Files.isRegularFile(stateFile);
        ComputeBackend compute = engine.install();
        Kernels kernels = compute.kernels();
        FiniteChecks.setEnabled(true);
        PrintWriter outw = spec.commandLine().getOut();

        Path dataDir = ds.equals("cifar10") ? data : CliSupport.dataDir(data);
        Dataset train = load(ds, dataDir, true), test = load(ds, dataDir, false);
        train = subset(train, trainSubset, engine.seed, "train", "--train-subset");
        test = subset(test, testSubset, engine.seed, "test", "--test-subset");
        require(train.size() >= batch, "--batch " + batch + " exceeds the " + train.size() + " training images"
                + " (--train-subset)");
        boolean aug = augment != null ? augment : ds.equals("cifar10");

        Sequential model;
        try {
            model = Models.create(modelSpec, train.images().shape.c(), train.classes(), engine.seed, kernels);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model: " + e.getMessage() + CliSupport.heapHint(e.getMessage()));
        }
        // a step keeps each activation, its gradient and the backward pass's temporaries
        CliSupport.requireFits(model, train.images().shape, batch, 3, "--batch", modelSpec);
        TrainingMethod objective = methodSpec.objective(model, train.images().shape);
        TrainConfig cfg = new TrainConfig(engine.seed, epochs, batch, opt, sched, aug ? 4 : 0, aug, checkpointEvery,
                256, true);
        Trainer trainer = new Trainer(model, train, test, objective, cfg).checkpointTo(stateFile).log(System.err);
        runner = trainer.runOn(compute.training()).runner();
        String backendText = compute.trainingText();
        if (stopAfterEpoch != null) {
            trainer.stopAfterEpoch(stopAfterEpoch);
        }

        String modelText = modelSpec + " (" + model.params().size() + " parameter tensors)";
        RunManifest manifest = new RunManifest("train")
                .put("seed", engine.seed).put("backend", backendText).put("threads", engine.effectiveThreads())
                .put("method", objective.name()).put("model", modelSpec)
                .put("train_data", train.name() + " " + train.images().shape)
                .put("test_data", test.name() + " " + test.images().shape)
                .put("loss_bn_mode", "TRAIN").put("attack_bn_mode", "EVAL").put("eval_bn_mode", "EVAL")
                .option("method", m.id());
        manifest.option("objective", Json.write(objective.config()));
        manifest.option("model", modelSpec).option("dataset", ds).option("data", dataDir)
                .option("train_subset", trainSubset).option("test_subset", testSubset).option("epochs", epochs)
                .option("batch", batch).option("optimizer", opt.kind()).option("lr", opt.lr())
                .option("momentum", opt.momentum()).option("weight_decay", opt.weightDecay())
                .option("schedule", schedText(sched)).option("augment", aug)
                .option("checkpoint_every", checkpointEvery).option("resume", resume).option("out", outDir);
        List<String> rows = new ArrayList<>();
        long resumedAt = -1;
        if (resuming) {
            checkSameOptions(outDir, manifest);
            try {
                trainer.resumeFrom(stateFile);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--resume: " + e.getMessage());
            }
            resumedAt = trainer.step();
            rows.addAll(earlierRows(outDir.resolve(METRICS_FILE), trainer.epoch()));
            // epochs as the progress line counts them: "epoch 2/2" is the second, after 1 done
            if (trainer.epoch() >= epochs) {
                outw.printf(Locale.ROOT, "resuming %s: all %d epochs were done (step %d)%n", stateFile, epochs,
                        trainer.step());
            } else {
                outw.printf(Locale.ROOT, "resuming %s: %d of %d epochs done, continuing in epoch %d/%d at step %d%n",
                        stateFile, trainer.epoch(), epochs, trainer.epoch() + 1, epochs, trainer.step());
            }
        } else if (resume) {
            outw.println("no " + STATE_FILE + " in " + outDir + ": starting a fresh run");
        }
        if (stopAfterEpoch != null) {
            manifest.option("stop_after_epoch", stopAfterEpoch);
        }
        String header = METRICS_COLUMNS + "\n"; // provenance is in run.json; the CSV starts with its header row
        // only now, when the options are known to fit any earlier state there, is the folder touched
        manifest.input(dataDir).put("status", "running");
        // SIGINT / SIGTERM: the hook asks the trainer to stop at the next step boundary, where this thread
        // checkpoints and marks run.json; the hook waits for this command to end a bounded time, then the
        // folder is released
        folder.onShutdown(() -> {
            trainer.requestStop();
            try {
                if (!settled.await(STOP_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)) {
                    writeStatus(manifest, outDir, "interrupted: the step in progress did not end within "
                            + STOP_WAIT_SECONDS + " s; continue from the last checkpoint with --resume");
                }
            } catch (InterruptedException | IOException e) {
                System.err.println("opnorm: could not mark " + outDir.resolve("run.json") + " interrupted: " + e);
            }
        });
        writeStatus(manifest, outDir, "running");
        outw.printf(Locale.ROOT, "training %s with %s on %s (%d images, test %d), %d epoch(s) of batch %d, %s backend, "
                        + "%d threads%n", modelText, objective.name(), train.name(), train.size(), test.size(), epochs,
                batch, backendText, engine.effectiveThreads());
        outw.flush();

        EpochSums sums = new EpochSums();
        sums.reset();
        Sequential net = model;
        trainer.onStep((epoch, step, r) -> sums.add(r));
        trainer.onEpoch(stats -> {
            double seconds = (sums.lastStepNanos - sums.startNanos) / 1e9;
            long n = Math.max(1, sums.steps);
            rows.add(String.format(Locale.ROOT, "%d,%d,%.9g,%.9g,%.9g,%.9g,%.6f,%.6f,%.6g,%.2f,%.3f,%.3f",
                    stats.epoch(), stats.steps(), stats.meanLoss(), sums.clean / n, sums.adv / n, sums.reg / n,
                    stats.trainAccuracy(), stats.testAccuracy(), stats.learningRate(),
                    seconds > 0 ? sums.steps * (double) batch / seconds : Double.NaN, seconds, sums.cpuSeconds()));
            saveWeights(net, m, stats.epoch(), outDir);
            RunManifest.AtomicFiles.writeString(outDir.resolve(METRICS_FILE), header + String.join("\n", rows) + "\n");
            sums.reset();
        });

        long t0 = System.nanoTime();
        Trainer.Result result;
        try {
            result = trainer.fit();
            if (trainer.interrupted()) {
                writeStatus(manifest.put("epochs_done", trainer.epoch()).put("steps", trainer.step()), outDir,
                        "interrupted in epoch " + (trainer.epoch() + 1) + "/" + epochs + " at step " + trainer.step()
                                + "; checkpoint written: continue with --resume");
                spec.commandLine().getErr().println("interrupted: checkpoint " + stateFile + " written (epoch "
                        + (trainer.epoch() + 1) + "/" + epochs + ", step " + trainer.step() + "); continue with the same "
                        + "options and --resume");
                spec.commandLine().getErr().flush();
                return EXIT_INTERRUPTED;
            }
        } catch (TrainingDivergedException e) {
            manifest.put("status", "diverged: " + e.getMessage());
            manifest.write(outDir);
            spec.commandLine().getErr().println("error: " + e.getMessage());
            return EXIT_DIVERGED;
        } catch (IllegalArgumentException e) {
            // with FiniteChecks on, a layer that receives a NaN/Inf activation stops the step here
            String msg = "training stopped at step " + trainer.step() + " (epoch " + (trainer.epoch() + 1) + "): "
                    + e.getMessage() + ". The last checkpoint in " + outDir + " holds the last good state.";
            manifest.put("status", "stopped: " + msg);
            manifest.write(outDir);
            spec.commandLine().getErr().println("error: " + msg);
            return EXIT_DIVERGED;
        } catch (IOException | RuntimeException | Error e) {
            // a full disk, an unwritable checkpoint, out of memory: run.json must not stay "running"
            try {
                writeStatus(manifest, outDir, "failed: " + e);
            } catch (IOException | RuntimeException | OutOfMemoryError ignored) {
                // the disk may be full: the original error is the one to report
            }
            throw e;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        boolean done = trainer.epoch() >= epochs;
        // the weights of the last checkpoint, also when a resume found the run finished and nothing ran
        saveWeights(model, m, trainer.epoch(), outDir);
        double testAcc = trainer.accuracy(test);
        manifest.put("status", done ? "finished" : "stopped after epoch " + trainer.epoch() + " (--stop-after-epoch)")
                .put("epochs_done", trainer.epoch()).put("steps", result.steps())
                .put("resumed_at_step", resumedAt >= 0 ? (Object) resumedAt : null)
                .put("test_accuracy", String.format(Locale.ROOT, "%.6f", testAcc))
                .put("seconds", String.format(Locale.ROOT, "%.2f", seconds));
        if (Files.isRegularFile(outDir.resolve(METRICS_FILE))) {
            manifest.output(outDir, METRICS_FILE);
        }
        manifest.output(outDir, MODEL_FILE).output(outDir, STATE_FILE);
        manifest.write(outDir);

        outw.printf(Locale.ROOT, "%s: %d/%d epochs, %d steps, test accuracy %.4f on %d images, %.1f s%n",
                objective.name(), trainer.epoch(), epochs, result.steps(), testAcc, test.size(), seconds);
        if (!done) {
            outw.println("  stopped early (--stop-after-epoch); continue with the same options and --resume");
        }
        outw.println("  weights: " + outDir.resolve(MODEL_FILE) + ", training state: " + outDir.resolve(STATE_FILE));
        outw.println("  per-epoch metrics: " + outDir.resolve(METRICS_FILE) + ", run manifest: "
                + outDir.resolve("run.json"));
        outw.flush();
        return 0;
    }

    /** run.json with a new status; synchronized: the training thread and the shutdown hook may both write it. */
    private static void writeStatus(RunManifest manifest, Path outDir, String status) throws IOException {
        synchronized (manifest) {
            manifest.put("status", status).write(outDir);
        }
    }

    /**
     * --resume: the earlier run's options (its run.json) must equal this run's, except where the run's files go,
     * where the data are read from (the checkpoint's configuration checks the data themselves) and when to stop;
     * the error names each differing flag with both values.
     */
    private static void checkSameOptions(Path outDir, RunManifest mine) {
        Object earlier = RunFolder.readRunJson(outDir).map(j -> j.get("options")).orElse(null);
        if (!(earlier instanceof Map<?, ?> theirs)) {
            return; // no readable run.json: the checkpoint's own configuration check decides
        }
        Set<String> free = Set.of("resume", "out", "data", "stop_after_epoch", "force");
        List<String> diffs = new ArrayList<>();
        Set<String> keys = new java.util.LinkedHashSet<>(mine.options().keySet());
        theirs.keySet().forEach(k -> keys.add(String.valueOf(k)));
        for (String k : keys) {
            if (free.contains(k)) {
                continue;
            }
            Object a = theirs.get(k);
            Object mineValue = mine.options().get(k);
            String b = mineValue == null ? null : String.valueOf(mineValue); // both typed alike in run.json
            if (!java.util.Objects.equals(a == null ? null : String.valueOf(a), b)) {
                diffs.add("--" + k.replace('_', '-') + " was " + (a == null ? "not set" : a) + ", now "
                        + (b == null ? "not set" : b));
            }
        }
        if (!diffs.isEmpty()) {
            throw new IllegalArgumentException("--resume: the run in " + outDir + " was started with another "
                    + "configuration (other options); resume with the same ones (or start over with --force): "
                    + String.join("; ", diffs));
        }
    }

    /** {@value #MODEL_FILE}: the parameters and BatchNorm buffers under their model names, plus provenance. */
    private void saveWeights(Sequential model, Kind m, long epoch, Path outDir) throws IOException {
        Checkpoint.of(model).withMetadata("model", modelSpec).withMetadata("method", m.id())
                .withMetadata("epoch", Long.toString(epoch)).withMetadata("seed", Long.toString(engine.seed))
                .save(outDir.resolve(MODEL_FILE));
    }

    /** A split of the data set, Fashion-MNIST padded to 32 x 32, in [-1, 1]. */
    private static Dataset load(String ds, Path dir, boolean train) throws IOException {
        try {
            if (ds.equals("cifar10")) {
                return Cifar10.load(dir, train ? Cifar10.Split.TRAIN : Cifar10.Split.TEST, Domain.SYMMETRIC);
            }
            return FashionMnist.load(dir, train ? FashionMnist.Split.TRAIN : FashionMnist.Split.TEST,
                    Domain.SYMMETRIC).padTo(Cnn7.SIZE, Cnn7.SIZE);
        } catch (IOException e) {
            throw new IOException("--data " + dir + " (--dataset " + ds + "): " + e.getMessage(), e);
        }
    }

    /** A stratified subset of n images from the seed's stream "&lt;which&gt;-subset" (n = 0: all). */
    private static Dataset subset(Dataset d, int n, long seed, String which, String flag) {
        if (n == 0) {
            return d;
        }
        require(n <= d.size(), flag + " " + n + " exceeds the " + d.size() + " images of " + d.name());
        Dataset s;
        try {
            s = Subsets.stratified(d, n / d.classes(), new Rng(seed).fork(which + "-subset"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(flag + ": " + e.getMessage());
        }
        return new Dataset(d.name() + "[stratified " + n + ", seed " + seed + "]", s.images(), s.labels(), s.classes(),
                s.domain());
    }

    /**
     * The method of --method with the given knobs, every other knob at the catalogue's default ({@link MethodSpec}:
     * the same defaults and construction as the API's {@code Methods} and the reproduction). Errors name the flag,
     * also for a knob the method does not use (a flag that silently does nothing hides mistakes).
     */
    MethodSpec methodSpec() {
        Kind k;
        try {
            k = Kind.parse(method);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage());
        }
        return MethodSpec.of(k).knobPrefix("--").lambda(lambda).eps(eps)
                .p(p == null ? null : NormCommand.parseNorm(p, "--p")).q(q == null ? null : NormCommand.parseNorm(q, "--q"))
                .qPower(qPower).attackIterations(attackIterations).powerIterations(powerIterations)
                .adversarialFraction(advFraction).cleanWeight(cleanWeight).adversarialWeight(advWeight).t(interpT)
                .penaltyMode(regBn()).build();
    }

    /** --reg-bn as a BatchNorm mode (null when not given). */
    private BnMode regBn() {
        if (regBn == null) {
            return null;
        }
        String s = regBn.trim().toLowerCase(Locale.ROOT);
        require(s.equals("train") || s.equals("eval"), "--reg-bn must be train or eval, got '" + regBn + "'");
        return s.equals("train") ? BnMode.TRAIN : BnMode.EVAL;
    }

    private OptimizerSpec optimizerSpec() {
        String kind = optimizer.trim().toLowerCase(Locale.ROOT);
        require(List.of("sgd", "adam", "rmsprop").contains(kind), "--optimizer must be sgd, adam or rmsprop, got '"
                + optimizer + "'");
        require(!(kind.equals("adam") && momentum != null), "--momentum does not apply to --optimizer adam "
                + "(its betas are PyTorch's defaults 0.9, 0.999)");
        double rate = lr != null ? lr : kind.equals("sgd") ? 0.05 : kind.equals("adam") ? 1e-3 : 1e-4;
        require(rate > 0 && Double.isFinite(rate), "--lr must be finite and > 0, got " + rate);
        double mom = momentum != null ? momentum : kind.equals("sgd") ? 0.9 : 0;
        require(mom >= 0 && mom < 1, "--momentum must be in [0, 1), got " + mom);
        double wd = weightDecay != null ? weightDecay : kind.equals("sgd") ? 5e-4 : 0;
        require(wd >= 0 && Double.isFinite(wd), "--weight-decay must be finite and >= 0, got " + wd);
        switch (kind) {
            case "sgd":
                return OptimizerSpec.sgd(rate, mom, wd);
            case "adam":
                return OptimizerSpec.adam(rate, wd);
            default:
                return OptimizerSpec.rmsprop(rate, mom, wd);
        }
    }

    private ScheduleSpec scheduleSpec() {
        String kind = schedule.trim().toLowerCase(Locale.ROOT);
        require(List.of("constant", "step", "cosine").contains(kind), "--schedule must be constant, step or cosine, "
                + "got '" + schedule + "'");
        require(kind.equals("step") || (milestones == null && gamma == null),
                (milestones != null ? "--milestones" : "--gamma") + " applies to --schedule step only");
        switch (kind) {
            case "constant":
                return ScheduleSpec.constant();
            case "cosine":
                return ScheduleSpec.cosinePerStep(0, 0);
            default: {
                double g = gamma != null ? gamma : 0.1;
                require(g > 0 && g <= 1, "--gamma must be in (0, 1], got " + g);
                long[] ms = milestones != null ? milestones
                        : epochs >= 4 ? new long[] {epochs / 2, (3L * epochs) / 4} : new long[] {Math.max(1, epochs / 2)};
                for (int i = 0; i < ms.length; i++) {
                    require(ms[i] >= 1 && (i == 0 || ms[i] > ms[i - 1]), "--milestones must be positive epochs in "
                            + "increasing order, got " + Arrays.toString(ms));
                }
                return ScheduleSpec.stepAtEpochs(g, ms);
            }
        }
    }

    private static String schedText(ScheduleSpec s) {
        return Json.write(s.toMap());
    }

    /** The data rows of an earlier metrics file for epochs 1..upTo (a resumed run keeps them). */
    private static List<String> earlierRows(Path csv, long upTo) throws IOException {
        List<String> rows = new ArrayList<>();
        if (!Files.isRegularFile(csv)) {
            return rows;
        }
        for (String line : Files.readAllLines(csv)) {
            if (line.isBlank() || line.startsWith("#") || line.startsWith("epoch,")) {
                continue;
            }
            long e;
            try {
                e = Long.parseLong(line.substring(0, line.indexOf(',')));
            } catch (RuntimeException ex) {
                throw new IOException(csv + ": unreadable row '" + line + "'");
            }
            if (e <= upTo) {
                rows.add(line);
            }
        }
        return rows;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
