package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.Regularizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training objectives of the paper as one composable {@link TrainingMethod}:
 * <pre>
 *   loss = cleanWeight * CE(f(x), y)                                   (mean over the batch)
 *        + adversarialWeight * CE(f(x*), y)                            (mean over the attacked examples; Eq. 14)
 *        + sum_r penalty_r(x, y)                                       (regularizers, batch means)
 * </pre>
 * <ul>
 *   <li>{@link #standard()}: cross-entropy only.</li>
 *   <li>{@link #adversarial}: Eq. 14, loss(x, y) + lambda CE(y, f(x*)). x* = PGA on the first
 *       {@code round(fraction * n)} examples of the (shuffled) batch, with BatchNorm in EVAL mode (the attack
 *       sees the network it attacks, unaffected by the rest of the batch; the reference code's attack in
 *       TRAIN mode is one of its mistakes). fraction = 0.75 with cleanWeight = adversarialWeight = 1 is the
 *       reference code's "attack 75% of the batch" setting; cleanWeight = 0 gives Madry et al.'s
 *       adversarial-only training. The clean and adversarial examples go through the network as ONE
 *       TRAIN-mode batch (concatenated, as the reference code does), so BatchNorm statistics are those of the
 *       mixed batch and are committed once.</li>
 *   <li>{@link #regularized}: CE plus regularizers ({@link dev.opnorm.robust.reg}).</li>
 *   <li>{@link #interpolation}: the AT to d.d. SNR interpolation of the paper's Fig. 7, with two knobs: the
 *       adversarial weight lambda of Eq. 14 and the d.d. SNR strength (sum-of-squares form); {@link #convex}
 *       sets them to t * lambdaAt and (1 - t) * lambdaSnr.</li>
 * </ul>
 * The clean loss is computed with BatchNorm in TRAIN mode (batch statistics), as in PyTorch's
 * {@code model.train()}. Regularizers see the clean batch x and run their own passes; they run after the
 * loss's backward pass and before the BatchNorm commit, so all of them use the same running statistics.
 */
public final class Objective implements TrainingMethod {
    private final String name;
    private final double cleanWeight;
    private final Pga attack;               // null: no adversarial term
    private final double adversarialWeight;
    private final double fraction;
    private final List<Regularizer> regularizers;

    private Objective(String name, double cleanWeight, Pga attack, double adversarialWeight, double fraction,
            List<Regularizer> regularizers) {
        if (!(cleanWeight >= 0) || Double.isInfinite(cleanWeight)) {
            throw new IllegalArgumentException(name + ": clean weight must be finite and >= 0, got " + cleanWeight);
        }
        if (!(adversarialWeight >= 0) || Double.isInfinite(adversarialWeight)) {
            throw new IllegalArgumentException(name + ": adversarial weight must be finite and >= 0, got "
                    + adversarialWeight);
        }
        if (attack != null && !(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException(name + ": fraction of the batch attacked must be in (0, 1], got "
                    + fraction);
        }
        if (cleanWeight == 0 && (attack == null || adversarialWeight == 0)) {
            throw new IllegalArgumentException(name + ": the clean weight or (with an attack) the adversarial weight "
                    + "must be positive");
        }
        for (Regularizer r : regularizers) {
            if (r == null) {
                throw new IllegalArgumentException(name + ": null regularizer");
            }
        }
        this.name = name;
        this.cleanWeight = cleanWeight;
        this.attack = attack;
        this.adversarialWeight = adversarialWeight;
        this.fraction = fraction;
        this.regularizers = List.copyOf(regularizers);
    }

    /** Plain cross-entropy training. */
    public static Objective standard() {
        return new Objective("standard", 1, null, 0, 0, List.of());
    }

    /**
     * Adversarial training (Eq. 14): cleanWeight * CE(x) + adversarialWeight * CE(x*), x* = {@code attack} on
     * {@code fraction} of each batch. The attack's seed is replaced by a per-step seed.
     *
     * @throws IllegalArgumentException for negative weights, both zero, or a fraction outside (0, 1]
     */
    public static Objective adversarial(Pga attack, double cleanWeight, double adversarialWeight, double fraction) {
        if (attack == null) {
            throw new IllegalArgumentException("at: attack must not be null");
        }
        return new Objective("at", cleanWeight, attack, adversarialWeight, fraction, List.of());
    }

    /**
     * The general form: cleanWeight * CE(x) + adversarialWeight * CE(x*) (x* = {@code attack}, may be null, on
     * {@code fraction} of the batch) + the regularizers.
     */
    public static Objective of(String name, double cleanWeight, Pga attack, double adversarialWeight, double fraction,
            List<Regularizer> regularizers) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("objective: name must not be empty");
        }
        return new Objective(name, cleanWeight, attack, attack == null ? 0 : adversarialWeight, fraction,
                regularizers);
    }

    /** Cross-entropy plus the given regularizers. */
    public static Objective regularized(Regularizer... regularizers) {
        if (regularizers.length == 0) {
            throw new IllegalArgumentException("regularized: give at least one regularizer (or use standard())");
        }
        StringBuilder n = new StringBuilder();
        for (Regularizer r : regularizers) {
            n.append(n.length() == 0 ? "" : "+").append(r.name());
        }
        return new Objective(n.toString(), 1, null, 0, 0, List.of(regularizers));
    }

    /**
     * Fig. 7's interpolation: CE(x) + adversarialWeight * CE(x*) + sum-of-squares d.d. SNR with strength
     * {@code snr.lambda()}, x* on {@code fraction} of the batch.
     */
    public static Objective interpolation(Pga attack, double adversarialWeight, double fraction, DdOperatorNorm snr) {
        if (attack == null || snr == null) {
            throw new IllegalArgumentException("interpolation: attack and d.d. SNR must not be null");
        }
        return new Objective("at-dd-snr", 1, attack, adversarialWeight, fraction, List.of(snr));
    }

    /**
     * The convex combination of Fig. 7: {@link #interpolation} with adversarial weight t * lambdaAt and a
     * sum-of-squares d.d. SNR of strength (1 - t) * lambdaSnr (eps, iterations, BatchNorm mode as given).
     *
     * @throws IllegalArgumentException for t outside [0, 1]
     */
    public static Objective convex(double t, Pga attack, double lambdaAt, double fraction, double lambdaSnr,
            double snrEps, int snrIterations, BnMode snrPenaltyMode) {
        if (!(t >= 0 && t <= 1)) {
            throw new IllegalArgumentException("interpolation: t must be in [0, 1], got " + t);
        }
        return interpolation(attack, t * lambdaAt, fraction,
                DdOperatorNorm.sumOfSquares((1 - t) * lambdaSnr, snrEps, snrIterations, snrPenaltyMode));
    }

    @Override
    public String name() {
        return name;
    }

    /** Weight of the clean cross-entropy term. */
    public double cleanWeight() {
        return cleanWeight;
    }

    /** The attack of the adversarial term, or null when there is none. */
    public Pga attack() {
        return attack;
    }

    /** Weight of the adversarial cross-entropy term (0 without an attack). */
    public double adversarialWeight() {
        return adversarialWeight;
    }

    /** Fraction of each batch that is attacked (meaningful with an attack). */
    public double fraction() {
        return fraction;
    }

    public List<Regularizer> regularizers() {
        return regularizers;
    }

    /**
     * Number of examples attacked in a batch of n: none without an attack or with adversarial weight 0 (then
     * the step is exactly the clean objective, e.g. the d.d. SNR end of {@link #convex}).
     */
    int attacked(int n) {
        return attack == null || adversarialWeight == 0 ? 0 : Math.max(1, (int) Math.round(fraction * n));
    }

    /** The host step: {@link #on} the steps of the model {@link PlacedModel#host placed on the host}. */
    @Override
    public StepResult step(Layer model, Tensor x, int[] labels, Rng rng, ParamGrads grads) {
        int n = x.shape.n();
        if (labels.length != n) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels for a batch of " + x.shape);
        }
        try (PlacedTrainOps<float[], int[]> ops = PlacedTrainOps.steps(PlacedModel.host(model));
             TrainOps.Step<float[], int[], Grads<float[]>> s = on(ops.engine())) {
            return s.step(x.data, x.shape, labels, rng, grads);
        }
    }

    /**
     * This objective's steps on an engine, written once: x* = the attack on the first k examples with seed
     * {@code rng.fork("attack").nextLong()}; the clean batch and x* through the network as ONE TRAIN-mode
     * batch; each part's cross-entropy gradient, weighted, into its rows; the parameter VJP; each regularizer
     * with seed {@code rng.fork("regularizer").fork(r).nextLong()}; the BatchNorm commit when the loss is
     * finite. The regularizers are bound to the engine once ({@link TrainOps#term}); closing the step frees
     * them.
     *
     * @throws IllegalArgumentException for a regularizer the engine cannot run (named)
     */
    public <V, L, G> TrainOps.Step<V, L, G> on(TrainEngine<V, L, G> engine) {
        List<TrainOps.Term<V, L, G>> terms = new ArrayList<>();
        try {
            for (Regularizer r : regularizers) {
                terms.add(engine.ops().term(r));
            }
        } catch (RuntimeException e) {
            terms.forEach(TrainOps.Term::close);
            throw e;
        }
        return new TrainOps.Step<>() {
            @Override
            public StepResult step(V x, Shape s, L labels, Rng rng, G grads) {
                return Objective.this.step(engine, terms, x, s, labels, rng, grads);
            }

            @Override
            public boolean mirrorsState() {
                return terms.stream().anyMatch(TrainOps.Term::mirrorsState);
            }

            @Override
            public void uploadState() {
                terms.forEach(TrainOps.Term::uploadState);
            }

            @Override
            public void downloadState() {
                terms.forEach(TrainOps.Term::downloadState);
            }

            @Override
            public void close() {
                terms.forEach(TrainOps.Term::close);
            }
        };
    }

    private <V, L, G> StepResult step(TrainEngine<V, L, G> engine, List<TrainOps.Term<V, L, G>> terms, V x, Shape s,
            L labels, Rng rng, G grads) {
        TrainOps<V, L, G> ops = engine.ops();
        int n = s.n(), k = attacked(n), per = s.perExample();
        boolean clean = cleanWeight > 0;
        int nc = clean ? n : 0, rows = nc + k;
        V prefix = null, adv = null, both = null, gy = null;
        TrainNetwork.Pass<V, G> lin = null;
        try {
            V batch = x;
            L advLabels = null;
            if (k > 0) {
                Shape ks = s.withBatch(k);
                V xs = x;
                if (k < n) {
                    prefix = ops.allocate(ks);
                    ops.copy(prefix, 0, x, 0, k * per);
                    xs = prefix;
                }
                advLabels = ops.prefix(labels, k);
                adv = ops.allocate(ks);
                ops.attack(attack.seed(rng.fork("attack").nextLong()), xs, ks, advLabels, adv);
                batch = adv;
                if (clean) {
                    both = ops.allocate(s.withBatch(rows));
                    ops.copy(both, 0, x, 0, n * per);
                    ops.copy(both, n * per, adv, 0, k * per);
                    batch = both;
                }
            }
            lin = engine.network().linearize(batch, s.withBatch(rows), BnMode.TRAIN);
            Shape out = lin.outputShape();
            int classes = out.perExample();
            gy = ops.allocate(out);
            if (clean) {
                ops.crossEntropy(gy, lin.output(), labels, 0, n, classes, cleanWeight, 0);
            }
            if (k > 0) {
                ops.crossEntropy(gy, lin.output(), advLabels, nc, k, classes, adversarialWeight, 1);
            }
            lin.vjpParams(gy, grads);
            double[] pen = new double[terms.size()];
            Rng regRng = rng.fork("regularizer");
            for (int r = 0; r < terms.size(); r++) {
                pen[r] = terms.get(r).accumulate(x, s, labels, regRng.fork(r).nextLong(), batch == x ? lin : null,
                        grads);
            }
            double[] parts = ops.results();
            double cleanLoss = clean ? parts[0] : 0, advLoss = k > 0 ? parts[2] : 0;
            int correct = (int) Math.round(clean ? parts[1] : parts[3]);
            double total = cleanWeight * cleanLoss + adversarialWeight * advLoss;
            Map<String, Double> penalties = new LinkedHashMap<>();
            for (int r = 0; r < terms.size(); r++) {
                penalties.put(terms.get(r).name(), pen[r]);
                total += pen[r];
            }
            if (Double.isFinite(total)) {
                lin.commit();
            }
            return new StepResult(total, cleanLoss, advLoss, penalties, correct, clean ? n : k);
        } finally {
            if (lin != null) {
                lin.close();
            }
            ops.release(gy);
            ops.release(both);
            ops.release(adv);
            ops.release(prefix);
        }
    }

    @Override
    public List<Param> state() {
        List<Param> s = new ArrayList<>();
        for (Regularizer r : regularizers) {
            s.addAll(r.state());
        }
        return s;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("clean_weight", cleanWeight);
        if (attack != null) {
            m.put("attack", attack.describe());
            m.put("attack_seed", "replaced each step by one drawn from the step's generator");
            m.put("attack_bn_mode", "EVAL");
            m.put("adversarial_weight", adversarialWeight);
            m.put("fraction_attacked", fraction);
        }
        List<Object> regs = new ArrayList<>();
        for (Regularizer r : regularizers) {
            regs.add(r.config());
        }
        m.put("regularizers", regs);
        m.put("loss_bn_mode", "TRAIN");
        return m;
    }
}
