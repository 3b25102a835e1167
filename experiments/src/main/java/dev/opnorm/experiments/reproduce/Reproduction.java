package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.report.Estimate;
import dev.opnorm.experiments.report.Figure;
import dev.opnorm.experiments.report.FigureFiles;
import dev.opnorm.experiments.report.MeanStderr;
import dev.opnorm.experiments.run.RunManifest;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.data.Cifar10;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.data.Subsets;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.Models;
import dev.opnorm.nn.util.Progress;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.analysis.Directions;
import dev.opnorm.robust.analysis.Linearity;
import dev.opnorm.robust.analysis.SharedActivations;
import dev.opnorm.robust.analysis.Spectra;
import dev.opnorm.robust.attack.Pga;

import dev.opnorm.robust.train.MethodSpec;
import dev.opnorm.robust.train.MethodSpec.Kind;
import dev.opnorm.robust.train.OptimizerSpec;
import dev.opnorm.robust.train.ScheduleSpec;
import dev.opnorm.robust.train.TrainConfig;
import dev.opnorm.robust.train.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The paper's experiments end to end, as a sequence of resumable phases writing into one folder:
 * <ol>
 *   <li>{@code data}: stratified, seeded training subset and test-point indices;</li>
 *   <li>{@code train-standard};</li>
 *   <li>{@code choose-eps}: the smallest eps of the grid at which l2 PGA fools at least
 *       {@link Profile#foolFraction()} of the standard model's correctly classified curve points
 *       ({@code eps_search.csv});</li>
 *   <li>{@code train-at} (l2 PGA at eps_train on 75 % of each batch), {@code train-global-snr},
 *       {@code train-dd-snr} (sum of squares), {@code train-dd-onr} (p = inf, q = 2): each regularized method is
 *       trained for every lambda candidate of the profile and the one whose clean accuracy is closest to AT's is
 *       kept ({@code lambda_search.csv});</li>
 *   <li>{@code train-interpolation}: interior points of Fig. 7's AT to d.d. SNR path;</li>
 *   <li>{@code train-seeds}: for a profile with several {@link Profile#seeds()}, the five methods again with each
 *       further seed (run seed + k), at seed 0's eps_train and lambdas (nothing to do for one seed);</li>
 *   <li>{@code fig3}, {@code fig2}, {@code fig4}, {@code fig5}, {@code fig7}, {@code table2}: CSV + PNG each, and
 *       the per-image results (0/1 correctness under attack, per-point norms) the report's intervals resample;
 *       Fig. 3, Fig. 2 and Table 2 for every seed;</li>
 *   <li>{@code certify}: certified accuracy against the l2 radius of the five methods ({@link CertifyPhase}):
 *       certified.csv, certify-bracket.csv, certified-accuracy.png;</li>
 *   <li>{@code report}: claims.json, report.html, run.json.</li>
 * </ol>
 * A phase's outputs are written before its marker ({@link PhaseStore}); finished phases are skipped on the
 * next run, and a training interrupted inside a phase resumes from the {@link Trainer}'s checkpoint. Everything
 * is seeded, so an interrupted and resumed run writes the same numbers as an uninterrupted one.
 *
 * <p>On the vector kernels with several threads, independent work runs side by side on single-threaded kernels
 * instead of splitting each layer over the threads ({@link EvalWorkers}): the batches of the clean and PGA
 * evaluations, the networks of Fig. 2 and Fig. 4, the lambda candidates of a search. The numbers are the same as
 * on one thread; a network's clean results on a split are computed once per process ({@link #clean}).
 */
public final class Reproduction {
    /** The phases, in order. */
    public static final List<String> PHASES = List.of("data", "train-standard", "choose-eps", "train-at",
            "train-global-snr", "train-dd-snr", "train-dd-onr", "train-interpolation", "train-seeds", "fig3", "fig2",
            "fig4",
            "fig5", "fig7", "table2", "certify", "report");

    /** The trained methods (model file names under models/) in figure order. */
    static final List<String> METHODS = List.of("standard", "at", "global-snr", "dd-snr", "dd-onr");
    static final String RANDOM = "random";
    private static final int EVAL_BATCH = 50;

    private final Profile profile;
    private final Path out;
    private final Path dataDir;
    private final long seed;
    private final Kernels kernels;
    private final int threads;
    private final PrintStream log;
    private final PhaseStore store;
    private String stopAfter;
    private Splits splits;
    private String killUnit;
    private long killStep;
    private Runnable afterEachStep;
    private EvalWorkers workers;
    /** Per data set (the run's own split objects) and network weights: its per-image clean correctness. */
    private final Map<Dataset, Map<String, boolean[]>> cleanResults = new IdentityHashMap<>();
    private int cleanPasses;

    /** The data of the run (loaded lazily, from the indices stored by the data phase). */
    private record Splits(Dataset train, Dataset table, Dataset curve, Dataset points) {
    }

    /**
     * @param profile the sizes
     * @param out     output folder (created)
     * @param dataDir data folder (Fashion-MNIST IDX files or cifar-10-batches-bin)
     * @param seed    the seed of everything random
     * @param kernels the engine's kernels (already installed as the default)
     * @param threads the worker thread count in effect (recorded only)
     * @param log     progress and phase lines
     */
    public Reproduction(Profile profile, Path out, Path dataDir, long seed, Kernels kernels, int threads,
            PrintStream log) {
        this.profile = profile;
        this.out = out;
        this.dataDir = dataDir;
        this.seed = seed;
        this.kernels = kernels;
        this.threads = threads;
        this.log = log;
        this.store = new PhaseStore(out);
    }

    /** Stops after phase {@code name} (null: run all); the next run continues from the following phase. */
    public Reproduction stopAfter(String name) {
        if (name != null && !PHASES.contains(name)) {
            throw new IllegalArgumentException("--stop-after must be one of " + PHASES + ", got '" + name + "'");
        }
        this.stopAfter = name;
        return this;
    }

    /**
     * Fault injection for tests: training of network {@code unit} throws {@link SimulatedKill} right after step
     * {@code step}, before that step's checkpoint, as a process killed there would leave the folder.
     */
    Reproduction killTrainingAfter(String unit, long step) {
        this.killUnit = unit;
        this.killStep = step;
        return this;
    }

    /**
     * Calls {@code action} after every training step (before that step's checkpoint, if any, is written), e.g. to
     * copy the folder's newest checkpoint to a shared store.
     */
    public Reproduction afterEachStep(Runnable action) {
        this.afterEachStep = action;
        return this;
    }

    /** Thrown by the fault injection of {@link #killTrainingAfter}. */
    static final class SimulatedKill extends RuntimeException {
        SimulatedKill(String message) {
            super(message);
        }
    }

    /** The phase markers of the output folder. */
    public PhaseStore store() {
        return store;
    }

    /**
     * Runs every unfinished phase in order (up to {@link #stopAfter}); returns the phases that ran.
     *
     * @throws IllegalArgumentException when the folder holds a run with another profile or seed
     */
    public List<String> run() throws IOException {
        Files.createDirectories(out);
        checkSameRun();
        List<String> ran = new ArrayList<>();
        for (String phase : PHASES) {
            if (stopRequested) {
                throw new Stopped("stopped on request before phase " + phase + "; a re-run continues there");
            }
            if (store.done(phase)) {
                store.log("skip " + phase);
                log.println("[reproduce] " + phase + ": done earlier, skipped");
            } else {
                runAndMark(phase);
                ran.add(phase);
            }
            if (phase.equals(stopAfter)) {
                break;
            }
        }
        return ran;
    }

    /** Runs one phase and writes its marker after its outputs. */
    private void runAndMark(String phase) throws IOException {
        store.log("run " + phase);
        log.println("[reproduce] " + phase + " ...");
        long t0 = System.nanoTime();
        Map<String, String> values = runPhase(phase);
        double s = (System.nanoTime() - t0) / 1e9;
        store.finish(phase, values, s);
        store.log("done " + phase);
        log.printf(Locale.ROOT, "[reproduce] %s finished in %s%n", phase, Progress.formatDuration(s));
    }

    // ---- the phases as a graph of units, for schedulers that run independent units at the same time ----

    /** Prefix of the units that train one network (models/ID.safetensors) inside a phase. */
    public static final String MODEL_UNIT = "model:";

    /**
     * One unit of work: a phase of {@link #PHASES}, or ({@link #MODEL_UNIT} + id) the training of one network that
     * a phase needs (a lambda candidate, an interpolation point); {@code inputs} are the units it reads.
     */
    public record Unit(String name, List<String> inputs) {
    }

    /**
     * The units of this run in an order that respects their inputs. Running them all (each once its inputs are
     * done, any number at the same time) writes the same files as {@link #run()}: a phase whose networks were
     * trained by their own units loads them instead of training them.
     */
    public List<Unit> units() {
        List<Unit> u = new ArrayList<>();
        u.add(new Unit("data", List.of()));
        u.add(new Unit("train-standard", List.of("data")));
        u.add(new Unit("choose-eps", List.of("train-standard")));
        u.add(new Unit("train-at", List.of("choose-eps")));
        List<String> trained = new ArrayList<>(List.of("train-standard", "choose-eps", "train-at"));
        for (Map.Entry<String, double[]> e : searches().entrySet()) {
            List<String> in = new ArrayList<>(List.of("train-at"));
            for (double l : e.getValue()) {
                String unit = MODEL_UNIT + lambdaName(e.getKey(), l);
                // global SNR uses neither eps_train nor the input size: only the data
                u.add(new Unit(unit, List.of(e.getKey().equals("global-snr") ? "data" : "choose-eps")));
                in.add(unit);
            }
            u.add(new Unit("train-" + e.getKey(), in));
            trained.add("train-" + e.getKey());
        }
        List<String> interp = new ArrayList<>(List.of("train-dd-snr"));
        for (double t : profile.interpolation()) {
            String unit = MODEL_UNIT + interpolationName(t);
            u.add(new Unit(unit, List.of("train-dd-snr")));
            interp.add(unit);
        }
        u.add(new Unit("train-interpolation", interp));
        // the further seeds retrain the five methods at seed 0's eps_train and lambdas, one unit per network (so a
        // cluster trains them at the same time); the figures of several seeds read them
        List<String> seedUnits = new ArrayList<>();
        for (int k = 1; k < profile.seeds(); k++) {
            for (String m : METHODS) {
                String unit = MODEL_UNIT + seedName(m, k);
                u.add(new Unit(unit, List.of(seedInput(m))));
                seedUnits.add(unit);
            }
        }
        u.add(new Unit("train-seeds", seedUnits.isEmpty() ? List.copyOf(trained) : seedUnits));
        trained.add("train-seeds");
        List<String> all = new ArrayList<>(trained);
        all.add("train-interpolation");
        for (String fig : List.of("fig3", "fig2", "fig4", "fig5")) {
            u.add(new Unit(fig, trained));
        }
        for (String fig : List.of("fig7", "table2")) {
            u.add(new Unit(fig, all));
        }
        // the certify phase reads Fig. 3's per-image PGA results at eps_train
        List<String> certify = new ArrayList<>(trained);
        certify.add("fig3");
        u.add(new Unit("certify", certify));
        List<String> report = new ArrayList<>(PHASES.subList(0, PHASES.indexOf("report")));
        u.add(new Unit("report", report));
        return u;
    }

    /** Checks (or records) the run's settings in the output folder before units run on their own. */
    public void prepare() throws IOException {
        Files.createDirectories(out);
        checkSameRun();
    }

    /** Whether unit {@code name} of {@link #units()} is done (its marker or its network's final weights exist). */
    public boolean unitDone(String name) {
        return name.startsWith(MODEL_UNIT) ? Files.isRegularFile(modelFile(name.substring(MODEL_UNIT.length())))
                : store.done(name);
    }

    /**
     * Runs unit {@code name} of {@link #units()} (its inputs must be done); a done unit is skipped, a training
     * resumes from its checkpoint. Returns whether it ran.
     */
    public boolean runUnit(String name) throws IOException {
        if (unitDone(name)) {
            return false;
        }
        if (name.startsWith(MODEL_UNIT)) {
            String id = name.substring(MODEL_UNIT.length());
            for (Map.Entry<String, double[]> e : searches().entrySet()) {
                for (double l : e.getValue()) {
                    if (lambdaName(e.getKey(), l).equals(id)) {
                        boolean global = e.getKey().equals("global-snr");
                        train(id, methodSpec(profile, e.getKey(), l, global ? 0 : eps(), global ? 0 : inputDim()));
                        return true;
                    }
                }
            }
            for (double t : profile.interpolation()) {
                if (interpolationName(t).equals(id)) {
                    train(id, interpolationSpec(profile, t, store.number("train-dd-snr", "lambda"), eps()));
                    return true;
                }
            }
            for (int k = 1; k < profile.seeds(); k++) {
                for (String m : METHODS) {
                    if (seedName(m, k).equals(id)) {
                        trainSeed(m, k);
                        return true;
                    }
                }
            }
            throw new IllegalArgumentException("no unit " + name + " in this reproduction");
        }
        if (!PHASES.contains(name)) {
            throw new IllegalArgumentException("no unit " + name + " in this reproduction");
        }
        runAndMark(name);
        return true;
    }

    /** The regularized methods and their lambda candidates, in phase order. */
    private Map<String, double[]> searches() {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("global-snr", profile.lambdaGlobal());
        m.put("dd-snr", profile.lambdaDdSnr());
        m.put("dd-onr", profile.lambdaDdOnr());
        return m;
    }

    private static String lambdaName(String method, double lambda) {
        return method + "-lambda" + Profile.fmt(lambda);
    }

    private volatile boolean stopRequested;
    /** The trainings in progress (several when a phase trains its networks side by side). */
    private final Set<Trainer> training = ConcurrentHashMap.newKeySet();

    /**
     * Asks the run to stop (from another thread, e.g. a SIGTERM hook): a training in progress stops at its next step
     * boundary and writes its checkpoint, a phase without training runs to its end, and {@link #run()} then throws
     * {@link Stopped} before the next phase. A re-run continues from there with the same numbers.
     */
    public void requestStop() {
        stopRequested = true;
        for (Trainer t : training) {
            t.requestStop();
        }
    }

    /** {@link #run()} ended early because of {@link #requestStop()}; everything done so far is on disk. */
    public static final class Stopped extends RuntimeException {
        Stopped(String message) {
            super(message);
        }
    }

    /** The file (relative to the output folder) that records a reproduction's settings; marks a resumable folder. */
    public static final String RUN_ID = "phases/run-id.txt";

    /** A folder holds one run: its profile and seed are recorded once and must match later invocations. */
    private void checkSameRun() throws IOException {
        Path id = out.resolve(RUN_ID);
        String mine = runId(profile.describe());
        if (Files.exists(id)) {
            String stored = Files.readString(id);
            if (!stored.equals(mine) && stored.equals(runId(profile.describeBeforeCertify()))
                    && !store.done("certify")) {
                // a folder from before the certify phase existed: same run, now with the phase's settings
                RunManifest.AtomicFiles.writeString(id, mine);
                log.println("[reproduce] " + id + ": recorded the certify settings of this run");
            } else if (!stored.equals(mine)) {
                throw new IllegalArgumentException("--out " + out + " holds a reproduction with other settings; "
                        + "use another --out or delete it.\n  stored:\n" + stored + "  this run:\n" + mine);
            }
        } else {
            Files.createDirectories(id.getParent());
            RunManifest.AtomicFiles.writeString(id, mine);
        }
    }

    private String runId(Map<String, Object> describe) {
        return "profile=" + describe + "\nseed=" + seed + "\ndata=" + dataDir.toAbsolutePath() + "\n";
    }

    private Map<String, String> runPhase(String phase) throws IOException {
        return switch (phase) {
            case "data" -> data();
            case "train-standard" -> trainStandard();
            case "choose-eps" -> chooseEps();
            case "train-at" -> trainAt();
            case "train-global-snr" -> search("global-snr", profile.lambdaGlobal());
            case "train-dd-snr" -> search("dd-snr", profile.lambdaDdSnr());
            case "train-dd-onr" -> search("dd-onr", profile.lambdaDdOnr());
            case "train-interpolation" -> trainInterpolation();
            case "train-seeds" -> trainSeeds();
            case "fig3" -> Figures.fig3(this);
            case "fig2" -> Figures.fig2(this);
            case "fig4" -> Figures.fig4(this);
            case "fig5" -> Figures.fig5(this);
            case "fig7" -> Figures.fig7(this);
            case "table2" -> Figures.table2(this);
            case "certify" -> CertifyPhase.run(this);
            case "report" -> ReproduceReport.write(this);
            default -> throw new IllegalStateException("unknown phase " + phase);
        };
    }

    // ---- data ----

    private Map<String, String> data() throws IOException {
        Dataset train = load(true), test = load(false);
        Rng root = new Rng(seed).fork("reproduce-data");
        int[] trainIdx = Subsets.stratified(train.labels(), train.classes(), profile.trainPerClass(), root.fork("train"));
        int[] table = Subsets.stratified(test.labels(), test.classes(), profile.tablePerClass(), root.fork("table"));
        int[] curve = Subsets.stratified(test.labels(), test.classes(), profile.curvePerClass(), root.fork("curve"));
        int[] points = Subsets.stratified(test.labels(), test.classes(), profile.pointsPerClass(), root.fork("points"));
        Map<String, String> v = new LinkedHashMap<>();
        v.put("dataset", train.name());
        v.put("train_indices", join(trainIdx));
        v.put("table_indices", join(table));
        v.put("curve_indices", join(curve));
        v.put("point_indices", join(points));
        log.printf(Locale.ROOT, "[reproduce] data: %d training images, %d / %d / %d test images (table / curves / "
                + "analysis points) from %s%n", trainIdx.length, table.length, curve.length, points.length, dataDir);
        return v;
    }

    private Dataset load(boolean train) throws IOException {
        if (profile.dataset().equals("cifar10")) {
            return Cifar10.load(dataDir, train ? Cifar10.Split.TRAIN : Cifar10.Split.TEST, Domain.SYMMETRIC);
        }
        return FashionMnist.load(dataDir, train ? FashionMnist.Split.TRAIN : FashionMnist.Split.TEST,
                Domain.SYMMETRIC);
    }

    /** The run's data sets (32 x 32, inputs in [-1, 1]). */
    Splits splits() throws IOException {
        if (splits == null) {
            Map<String, String> v = store.values("data");
            Dataset train = load(true), test = load(false);
            splits = new Splits(pad(train.select(ints(v.get("train_indices")))),
                    pad(test.select(ints(v.get("table_indices")))), pad(test.select(ints(v.get("curve_indices")))),
                    pad(test.select(ints(v.get("point_indices")))));
        }
        return splits;
    }

    private static Dataset pad(Dataset d) {
        Tensor x = d.images();
        return x.shape.h() == Cnn7.SIZE && x.shape.w() == Cnn7.SIZE ? d : d.padTo(Cnn7.SIZE, Cnn7.SIZE);
    }

    Dataset trainSet() throws IOException {
        return splits().train();
    }

    Dataset tableSet() throws IOException {
        return splits().table();
    }

    Dataset curveSet() throws IOException {
        return splits().curve();
    }

    Dataset pointSet() throws IOException {
        return splits().points();
    }

    // ---- models and training ----

    /** A freshly initialized network of the profile (the random network of the figures). */
    Sequential newModel() {
        return newModel(seed);
    }

    /** A freshly initialized network of the profile, initialized from {@code initSeed}. */
    Sequential newModel(long initSeed) {
        return newModel(initSeed, kernels);
    }

    private Sequential newModel(long initSeed, Kernels on) {
        return Models.create(profile.modelSpec(), profile.dataset().equals("cifar10") ? 3 : 1, 10, initSeed, on);
    }

    /** The workers the evaluation batches of this run are spread over ({@link EvalWorkers}). */
    EvalWorkers workers() {
        if (workers == null) {
            workers = EvalWorkers.of(kernels, threads, k -> newModel(seed, k));
        }
        return workers;
    }

    /**
     * Per image of {@code data} (one of the run's splits): whether {@code model} classifies it correctly. The
     * answer is kept for the life of this object, keyed by the network's weights, so a network evaluated again on
     * the same split (the table images after each training, then Table 2; the curve images in choose-eps, Fig. 3,
     * Fig. 7) costs no second pass; a resumed run computes it afresh, with the same bits.
     */
    boolean[] clean(Sequential model, Dataset data) {
        Map<String, boolean[]> known = cleanResults.computeIfAbsent(data, d -> new HashMap<>());
        String key = fingerprint(model);
        boolean[] ok = known.get(key);
        if (ok == null) {
            ok = correct(workers(), model, data);
            known.put(key, ok);
            cleanPasses++;
        }
        return ok.clone();
    }

    /** How many evaluations {@link #clean} computed rather than remembered (for tests). */
    int cleanPasses() {
        return cleanPasses;
    }

    /** SHA-256 over the names, shapes and float bits of a network's parameters and buffers. */
    static String fingerprint(Sequential model) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 16);
        for (List<Param> group : List.of(model.params(), model.buffers())) {
            md.update((byte) '|');
            for (Param p : group) {
                md.update(p.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
                for (int d : p.dims()) {
                    md.update(java.nio.ByteBuffer.allocate(4).putInt(d).array());
                }
                for (float f : p.value) {
                    if (buf.remaining() < 4) {
                        md.update(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putInt(Float.floatToRawIntBits(f));
                }
                md.update(buf.array(), 0, buf.position());
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The seed of training run k (0 = the run's seed): seed + k. */
    long runSeed(int k) {
        return seed + k;
    }

    /** The model file name of {@code method} trained with run seed k: METHOD for k = 0, METHOD-seedK else. */
    static String seedName(String method, int k) {
        return k == 0 ? method : method + "-seed" + k;
    }

    /** The network of {@code method} for seed k: the trained one, or for "random" the initialization of seed k. */
    Sequential model(String method, int k) throws IOException {
        return model(method, k, kernels);
    }

    /** {@link #model(String, int)} computing with {@code on} (e.g. a worker's single-threaded kernels). */
    Sequential model(String method, int k, Kernels on) throws IOException {
        return method.equals(RANDOM) ? newModel(runSeed(k), on) : model(seedName(method, k), on);
    }

    /** The final weights of a trained method (models/NAME.safetensors), or the random network for "random". */
    Sequential model(String name) throws IOException {
        return model(name, kernels);
    }

    private Sequential model(String name, Kernels on) throws IOException {
        Sequential m = newModel(seed, on);
        if (!name.equals(RANDOM)) {
            Path f = modelFile(name);
            if (!Files.isRegularFile(f)) {
                throw new IllegalStateException("model " + f + " is missing: its training phase did not finish");
            }
            Checkpoint.load(f).loadInto(m);
        }
        return m;
    }

    Path modelFile(String name) {
        return out.resolve("models").resolve(name + ".safetensors");
    }

    private TrainConfig trainConfig(long runSeed) {
        return new TrainConfig(runSeed, profile.epochs(), profile.batch(), OptimizerSpec.sgd(profile.lr(), 0.9, 5e-4),
                ScheduleSpec.cosinePerStep(0, 0), 0, false, profile.checkpointEvery(), 256, true);
    }

    /**
     * Trains network {@code id} with the method built for it, resuming from models/ID.checkpoint.safetensors when
     * an earlier run left one; a finished network (models/ID.safetensors) is loaded, not retrained.
     */
    private Sequential train(String id, MethodSpec method) throws IOException {
        return train(id, method, seed);
    }

    /** As {@link #train(String, MethodSpec)}, initialized and trained with {@code runSeed}. */
    private Sequential train(String id, MethodSpec method, long runSeed) throws IOException {
        return train(id, method, runSeed, kernels);
    }

    /** As {@link #train(String, MethodSpec, long)}, computing with {@code on}. */
    private Sequential train(String id, MethodSpec method, long runSeed, Kernels on) throws IOException {
        Sequential model = newModel(runSeed, on);
        Path fin = modelFile(id);
        if (Files.isRegularFile(fin)) {
            Checkpoint.load(fin).loadInto(model);
            log.println("[reproduce] " + id + ": trained earlier, loaded " + fin);
            return model;
        }
        Files.createDirectories(fin.getParent());
        Path ck = out.resolve("models").resolve(id + ".checkpoint.safetensors");
        Trainer t = new Trainer(model, trainSet(), null, method.objective(model, trainSet().images().shape),
                trainConfig(runSeed)).checkpointTo(ck).log(log);
        Runnable each = afterEachStep;
        if (id.equals(killUnit) || each != null) {
            t.onStep((epoch, step, result) -> {
                if (id.equals(killUnit) && step == killStep) {
                    throw new SimulatedKill(id + " killed after step " + step);
                }
                if (each != null) {
                    each.run();
                }
            });
        }
        if (Files.isRegularFile(ck)) {
            t.resumeFrom(ck);
            log.printf(Locale.ROOT, "[reproduce] %s: resumed from %s at step %d%n", id, ck, t.step());
        }
        log.println("[reproduce] training " + id + " (" + profile.epochs() + " epochs, " + trainSet().size()
                + " images)");
        training.add(t);
        try {
            if (stopRequested) {
                t.requestStop(); // asked before this training started: it checkpoints at its first step boundary
            }
            t.fit();
        } finally {
            training.remove(t);
        }
        if (t.interrupted()) {
            throw new Stopped("stopped on request while training " + id + " (checkpoint " + ck + " at step " + t.step()
                    + "); a re-run continues there");
        }
        Checkpoint.of(model).save(fin);
        Files.deleteIfExists(ck);
        return model;
    }

    private Map<String, String> trainStandard() throws IOException {
        Sequential m = train("standard", methodSpec(profile, "standard", 0, 0, 0));
        return Map.of("clean_accuracy", num(accuracyOf(m, tableSet())));
    }

    /** The l2 training radius chosen by the choose-eps phase. */
    double eps() throws IOException {
        return store.number("choose-eps", "eps_train");
    }

    /** The l_inf radius with the l2 size of eps_train on the whole image: eps_train / sqrt(inputs). */
    double epsLinf() throws IOException {
        return eps() / Math.sqrt(inputDim());
    }

    int inputDim() throws IOException {
        return curveSet().images().shape.perExample();
    }

    private Map<String, String> chooseEps() throws IOException {
        Sequential std = model("standard");
        Dataset curve = curveSet();
        double[] grid = profile.epsGrid();
        Figure f = new Figure("Training eps search: l2 PGA against the standard network", "eps",
                "eps (l2 radius, inputs in [-1, 1])", "fooled", "fraction of correct points fooled").yRange(0, 1)
                .caption("Fraction of the correctly classified curve points (" + curve.size() + " test images) that "
                        + "untargeted l2 PGA (" + profile.evalIterations() + " iterations, random start) turns into a "
                        + "misclassification at this radius or a smaller one of the grid (every such point lies in "
                        + "this ball too), with the 95 % Wilson interval. eps_train = the smallest radius with a "
                        + "fraction >= " + profile.foolFraction() + ".");
        Figure.Series s = f.series("standard");
        Progress progress = Progress.start("choose-eps", grid.length, "eps", log);
        double chosen = Double.NaN;
        Map<String, String> v = new LinkedHashMap<>();
        boolean[] alive = clean(std, curve);
        int cleanCorrect = count(alive);
        v.put("clean_correct", String.valueOf(cleanCorrect));
        for (double e : grid) {
            alive = robust(workers(), std, curve, attack(2, e), alive);
            int fooled = cleanCorrect - count(alive);
            MeanStderr m = MeanStderr.proportion(fooled, Math.max(1, cleanCorrect));
            s.add(e, m, cleanCorrect == 0 ? new Estimate(Double.NaN, Double.NaN,
                    Double.NaN, "") : Estimate.wilson(fooled, cleanCorrect));
            v.put("fooled_" + Profile.fmt(e), num(m.mean()));
            v.put("fooled_count_" + Profile.fmt(e), String.valueOf(fooled));
            log.printf(Locale.ROOT, "[reproduce] eps search: l2 eps %s fools %d of %d correct points (%.3f)%n",
                    Profile.fmt(e), fooled, cleanCorrect, m.mean());
            progress.field("eps", e).field("fooled", m.mean()).advance(1);
            if (m.mean() >= profile.foolFraction()) {
                chosen = e;
                break;
            }
        }
        progress.finish();
        boolean reached = !Double.isNaN(chosen);
        if (!reached) {
            chosen = grid[grid.length - 1];
            log.printf(Locale.ROOT, "[reproduce] eps search: no radius of the grid fools %.2f of the points; using the "
                    + "largest, %s%n", profile.foolFraction(), Profile.fmt(chosen));
        }
        f.marker(chosen, "eps_train");
        FigureFiles files = f.write(out, "eps_search");
        v.put("eps_train", num(chosen));
        v.put("eps_reached", String.valueOf(reached));
        putFigure(v, "eps_search", files);
        return v;
    }

    private Map<String, String> trainAt() throws IOException {
        Sequential m = train("at", methodSpec(profile, "at", 0, eps(), inputDim()));
        return Map.of("clean_accuracy", num(accuracyOf(m, tableSet())));
    }

    /**
     * The training method of {@link #METHODS} entry {@code method}, resolved by the one catalogue of the methods
     * ({@link MethodSpec}): every knob the profile or the run does not set is the catalogue's default (e.g. AT's
     * attacked fraction, the BatchNorm mode of the finite-difference passes).
     * <ul>
     *   <li>standard;</li>
     *   <li>at: l2 PGA at eps_train, {@link Profile#atIterations()} iterations;</li>
     *   <li>global-snr: the reshaped kernels' global SNR of strength lambda;</li>
     *   <li>dd-snr: the sum-of-squares d.d. SNR, lambda, step eps_train, {@link Profile#ddIterations()};</li>
     *   <li>dd-onr: the d.d. (inf, 2) ONR, lambda, step eps_train / sqrt(inputs) (the l_inf radius with the l2
     *       size of eps_train on the whole image), {@link Profile#ddIterations()}.</li>
     * </ul>
     *
     * @param profile  the sizes
     * @param method   one of {@link #METHODS}
     * @param lambda   the strength (regularized methods; else ignored)
     * @param epsTrain the l2 training radius chosen by the choose-eps phase (at, dd-snr, dd-onr; else ignored)
     * @param inputs   values per input image (dd-onr; else ignored)
     * @throws IllegalArgumentException for another method name
     */
    public static MethodSpec methodSpec(Profile profile, String method, double lambda, double epsTrain, int inputs) {
        return switch (method) {
            case "standard" -> MethodSpec.defaults(Kind.STANDARD);
            case "at" -> MethodSpec.of(Kind.AT).eps(epsTrain).attackIterations(profile.atIterations()).build();
            case "global-snr" -> MethodSpec.of(Kind.GLOBAL_SNR).lambda(lambda).build();
            case "dd-snr" -> MethodSpec.of(Kind.DD_SNR_SQ).lambda(lambda).eps(epsTrain)
                    .powerIterations(profile.ddIterations()).build();
            case "dd-onr" -> MethodSpec.of(Kind.DD_ONR).p(Double.POSITIVE_INFINITY).q(2.0).lambda(lambda)
                    .eps(epsTrain / Math.sqrt(inputs)).powerIterations(profile.ddIterations()).build();
            default -> throw new IllegalArgumentException("the reproduction trains " + METHODS + ", not '" + method
                    + "'");
        };
    }

    /**
     * The interior point t of Fig. 7's AT to d.d. SNR path: {@link Kind#INTERP} with l2 PGA and finite-difference
     * step eps_train, {@link Profile#atIterations()} attack and {@link Profile#ddIterations()} power iterations,
     * and the chosen d.d. SNR strength at the d.d. SNR end.
     */
    public static MethodSpec interpolationSpec(Profile profile, double t, double lambdaSnr, double epsTrain) {
        return MethodSpec.of(Kind.INTERP).t(t).lambda(lambdaSnr).eps(epsTrain).attackIterations(profile.atIterations())
                .powerIterations(profile.ddIterations()).build();
    }

    /**
     * Trains {@code method} for every lambda candidate and keeps the one whose clean accuracy on the table points
     * is closest to AT's (the paper's rule for choosing the constants), logged in lambda_search_METHOD.csv.
     */
    private Map<String, String> search(String method, double[] lambdas) throws IOException {
        double target = store.number("train-at", "clean_accuracy");
        Map<String, String> v = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("lambda,clean_accuracy,at_accuracy\n");
        int best = -1;
        double bestGap = Double.POSITIVE_INFINITY, bestAcc = Double.NaN;
        double eps = eps();
        int inputs = inputDim();
        List<Sequential> nets = trainSideBySide(lambdas.length, (k, on) -> train(lambdaName(method, lambdas[k]),
                methodSpec(profile, method, lambdas[k], eps, inputs), seed, on));
        for (int k = 0; k < lambdas.length; k++) {
            double l = lambdas[k];
            double acc = accuracyOf(nets.get(k), tableSet());
            log.printf(Locale.ROOT, "[reproduce] %s lambda %s: clean accuracy %.4f (AT %.4f)%n", method,
                    Profile.fmt(l), acc, target);
            csv.append(Profile.fmt(l)).append(',').append(num(acc)).append(',').append(num(target)).append('\n');
            v.put("accuracy_lambda_" + Profile.fmt(l), num(acc));
            if (Math.abs(acc - target) < bestGap) {
                bestGap = Math.abs(acc - target);
                best = k;
                bestAcc = acc;
            }
        }
        Path chosen = modelFile(lambdaName(method, lambdas[best]));
        Path tmp = modelFile(method + ".tmp");
        Files.copy(chosen, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, modelFile(method), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        RunManifest.AtomicFiles.writeString(out.resolve("lambda_search_" + method + ".csv"), csv.toString());
        v.put("lambda", Profile.fmt(lambdas[best]));
        v.put("clean_accuracy", num(bestAcc));
        log.printf(Locale.ROOT, "[reproduce] %s: chose lambda %s (clean accuracy %.4f, AT %.4f)%n", method,
                Profile.fmt(lambdas[best]), bestAcc, target);
        return v;
    }

    /** The training of network i of a phase on the given kernels. */
    @FunctionalInterface
    private interface Training {
        Sequential train(int i, Kernels on) throws IOException;
    }

    /**
     * Trains a phase's n independent networks (the lambda candidates of a search), side by side on the workers
     * ({@link EvalWorkers#map}), each on single-threaded kernels: an SGD step is sequential, and the layers of a
     * batch of 64 small images keep two threads busy only part of the time, while two trainings keep both busy.
     * The weights are those of one training after the other (the kernels give the same bits on any thread count;
     * each training reads only the shared training images). With a step hook ({@link #afterEachStep}) the networks
     * are trained one after the other on the run's kernels, as the hook expects.
     */
    private List<Sequential> trainSideBySide(int n, Training t) throws IOException {
        EvalWorkers w = afterEachStep == null ? workers() : EvalWorkers.serial();
        try {
            return w.map(n, kernels, (i, on) -> {
                try {
                    return t.train(i, on);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private Map<String, String> trainInterpolation() throws IOException {
        double eps = eps();
        double lambdaSnr = store.number("train-dd-snr", "lambda");
        Map<String, String> v = new LinkedHashMap<>();
        for (double t : profile.interpolation()) {
            Sequential m = train(interpolationName(t), interpolationSpec(profile, t, lambdaSnr, eps));
            v.put("clean_accuracy_t" + Profile.fmt(t), num(accuracyOf(m, tableSet())));
        }
        return v;
    }

    /**
     * The five methods again for every further seed k = 1 .. seeds - 1 (models/METHOD-seedK), with seed 0's
     * eps_train and chosen lambdas: the seeds repeat the headline comparisons (Fig. 3, Fig. 2, Table 2), not the
     * searches.
     */
    private Map<String, String> trainSeeds() throws IOException {
        Map<String, String> v = new LinkedHashMap<>();
        for (int k = 1; k < profile.seeds(); k++) {
            for (String m : METHODS) {
                v.put("clean_accuracy_" + seedName(m, k), num(accuracyOf(trainSeed(m, k), tableSet())));
            }
        }
        v.put("seeds", String.valueOf(profile.seeds()));
        return v;
    }

    /** Method {@code m} trained with run seed k at seed 0's eps_train and chosen lambda (or loaded when done). */
    private Sequential trainSeed(String m, int k) throws IOException {
        double lambda = m.equals("standard") || m.equals("at") ? 0 : store.number("train-" + m, "lambda");
        return train(seedName(m, k), methodSpec(profile, m, lambda, eps(), inputDim()), runSeed(k));
    }

    /** The unit a further seed's training of method {@code m} needs: eps_train, or the method's chosen lambda. */
    private static String seedInput(String m) {
        return switch (m) {
            case "standard", "at" -> "choose-eps";
            default -> "train-" + m;
        };
    }

    static String interpolationName(double t) {
        return "interp-t" + Profile.fmt(t);
    }

    // ---- shared helpers for the figure phases ----

    /** Untargeted PGA against the true label (the evaluation attack), l_p radius eps. */
    Pga attack(double p, double eps) {
        return Pga.lp(p, eps).iterations(profile.evalIterations()).seed(seed).domain(Domain.SYMMETRIC);
    }

    /** Adversarial points x* of the l2 evaluation attack at eps_train. */
    Tensor adversarial(Sequential model, Dataset data) throws IOException {
        return attack(2, eps()).attack(model, data.images(), data.labels(), 0).adversarial();
    }

    /** Clean accuracy on one of the run's splits ({@link #clean}). */
    double accuracyOf(Sequential model, Dataset data) {
        return count(clean(model, data)) / (double) data.size();
    }

    /** Clean accuracy (BatchNorm EVAL). */
    static double accuracy(Sequential model, Dataset data) {
        return count(correct(model, data)) / (double) data.size();
    }

    /** Per image: whether the network classifies it correctly (BatchNorm EVAL). */
    static boolean[] correct(Sequential model, Dataset data) {
        return correct(EvalWorkers.serial(), model, data);
    }

    /** {@link #correct(Sequential, Dataset)} with the batches spread over {@code workers}. */
    static boolean[] correct(EvalWorkers workers, Sequential model, Dataset data) {
        boolean[] ok = new boolean[data.size()];
        int batches = (data.size() + EVAL_BATCH - 1) / EVAL_BATCH;
        workers.run(model, batches, (net, batch) -> {
            int from = batch * EVAL_BATCH;
            int b = Math.min(EVAL_BATCH, data.size() - from);
            Tensor logits = net.forward(data.images().slice(from, b));
            int classes = logits.data.length / b;
            for (int i = 0; i < b; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (logits.data[i * classes + c] > logits.data[i * classes + best]) {
                        best = c;
                    }
                }
                ok[from + i] = best == data.labels()[from + i];
            }
        });
        return ok;
    }

    /**
     * Per image: whether it is still correctly classified after {@code attack}, attacking only the images still
     * {@code alive} (correct and unbroken by an earlier, smaller radius of the same curve: an adversarial point
     * found there lies in this ball too, so such an image is not robust here either). Along an increasing list of
     * radii this gives the accuracy under the strongest of the attacks so far, and spends the attack time only on
     * the images that can still count. The attacked subset is deterministic, and so are its random starts.
     */
    static boolean[] robust(Sequential model, Dataset data, Pga attack, boolean[] alive) {
        return robust(EvalWorkers.serial(), model, data, attack, alive);
    }

    /**
     * {@link #robust(Sequential, Dataset, Pga, boolean[])} with the batches spread over {@code workers} (each batch
     * keeps its images and its first example index, so its random starts and results are the same).
     */
    static boolean[] robust(EvalWorkers workers, Sequential model, Dataset data, Pga attack, boolean[] alive) {
        int[] idx = new int[count(alive)];
        for (int i = 0, j = 0; i < alive.length; i++) {
            if (alive[i]) {
                idx[j++] = i;
            }
        }
        boolean[] ok = new boolean[data.size()];
        if (idx.length == 0) {
            return ok;
        }
        Dataset sub = data.select(idx);
        int batches = (sub.size() + EVAL_BATCH - 1) / EVAL_BATCH;
        workers.run(model, batches, (net, batch) -> {
            int from = batch * EVAL_BATCH;
            Dataset b = sub.slice(from, Math.min(EVAL_BATCH, sub.size() - from));
            int[] pred = attack.attack(net, b.images(), b.labels(), from).predictions();
            for (int i = 0; i < b.size(); i++) {
                ok[idx[from + i]] = pred[i] == b.labels()[i];
            }
        });
        return ok;
    }

    static int count(boolean[] b) {
        int n = 0;
        for (boolean x : b) {
            n += x ? 1 : 0;
        }
        return n;
    }

    /** Per-image 0/1 results as a string of '0' and '1' (one phase value). */
    static String bits(boolean[] b) {
        StringBuilder s = new StringBuilder(b.length);
        for (boolean x : b) {
            s.append(x ? '1' : '0');
        }
        return s.toString();
    }

    /** The 0/1 values of {@link #bits(boolean[])} as doubles, for the bootstrap. */
    static double[] bits(String s) {
        double[] d = new double[s.length()];
        for (int i = 0; i < d.length; i++) {
            char c = s.charAt(i);
            if (c != '0' && c != '1') {
                throw new IllegalStateException("per-image value '" + c + "' at " + i + " is not 0 or 1");
            }
            d[i] = c - '0';
        }
        return d;
    }

    /** Per-point numbers as one phase value (round-trip exact, comma separated). */
    static String nums(double[] v) {
        StringBuilder s = new StringBuilder();
        for (double x : v) {
            s.append(s.length() == 0 ? "" : ",").append(x);
        }
        return s.toString();
    }

    /** The numbers of {@link #nums(double[])}. */
    static double[] nums(String s) {
        return Arrays.stream(s.split(",")).mapToDouble(Double::parseDouble).toArray();
    }

    /** The radii 0 .. 2 eps of the curves; the middle one is eps exactly. */
    double[] radii(double eps) {
        int steps = profile.curveSteps();
        double[] r = new double[steps];
        for (int j = 0; j < steps; j++) {
            r[j] = eps * (2.0 * j / (steps - 1));
        }
        r[(steps - 1) / 2] = eps;
        return r;
    }

    PowerMethod.Options powerOptions() {
        return new PowerMethod.Options(profile.powerIterations(), 1e-6, seed);
    }

    /**
     * The run's manifest (claims.json's "run" member, the base of run.json): the configuration only (no timings), so
     * a resumed run writes the same claims.json as an uninterrupted one.
     */
    RunManifest manifest() {
        RunManifest m = new RunManifest("reproduce").put("seed", seed).put("backend", kernels.name())
                .put("threads", threads).put("bn_mode_analysis", "EVAL");
        profile.describe().forEach(m::option);
        m.option("data", dataDir);
        return m;
    }

    static void putFigure(Map<String, String> v, String name, FigureFiles f) {
        v.put("figure." + name + ".title", f.title());
        v.put("figure." + name + ".caption", f.caption().replace('\n', ' '));
    }

    static String num(double v) {
        return Double.toString(v);
    }

    private static String join(int[] a) {
        StringBuilder b = new StringBuilder();
        for (int i : a) {
            b.append(b.length() == 0 ? "" : ",").append(i);
        }
        return b.toString();
    }

    private static int[] ints(String s) {
        return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    Profile profile() {
        return profile;
    }

    Path out() {
        return out;
    }

    Path dataDir() {
        return dataDir;
    }

    long seed() {
        return seed;
    }

    Kernels kernels() {
        return kernels;
    }

    int threads() {
        return threads;
    }

    PrintStream log() {
        return log;
    }

    /** Mean and standard error over points of column k of per-point values [point][k]. */
    static MeanStderr column(double[][] perPoint, int k) {
        double[] c = new double[perPoint.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = perPoint[i][k];
        }
        return MeanStderr.of(c);
    }

    /** Singular values of per-point SVDs as [point][rank]. */
    static double[][] singularValues(Svd.Result[] svds) {
        double[][] s = new double[svds.length][];
        for (int i = 0; i < svds.length; i++) {
            s[i] = svds[i].singularValues();
        }
        return s;
    }

    /** The l2 unit directions of x* - x per example. */
    static Tensor adversarialDirections(Tensor adv, Tensor x) {
        return Directions.unitDifference(adv, x);
    }

    static double[][] linearityCurve(Sequential m, Tensor x, Tensor dirs, double[] norms) {
        return Linearity.deviationCurve(m, Cnn7.FEATURES, x, dirs, norms);
    }

    static double[][] sharedCurve(Sequential m, Tensor x, double[] radii, int samples, long seed) {
        return SharedActivations.curve(m, x, 2, radii, samples, seed, 0);
    }

    static Svd.Result[] svds(Sequential m, Tensor x) {
        return Spectra.svds(m, Cnn7.FEATURES, x);
    }
}
