package dev.opnorm.api;

import dev.opnorm.linalg.BatchLinearMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-example data-dependent (p,q) operator norms ||J_f(x_i)||_{p,q} = max_{||v||_p = 1} ||J_f(x_i) v||_q of
 * a network's Jacobian at each example x_i of a batch (Eq. 9-12 of the paper), by the batched (p,q) power
 * iteration of {@link OperatorNorm}:
 *
 * <pre>{@code
 * NormResults r = OperatorNorms.of(model, x).p(2).q(OperatorNorms.INF).iterations(100).compute();
 * double firstExample = r.value(0);
 * }</pre>
 *
 * <p>The network is linearized once at x; every iteration is one JVP and one VJP pass for the whole batch,
 * each example with its own vectors. Values are in the units of the network's output per unit of input
 * (the input as the model sees it, e.g. pixels scaled to [-1, 1]).
 *
 * <p><b>Exactness.</b> For (p,q) = (2,2) at convergence the value is the spectral norm (largest singular
 * value). For other (p,q) it is a lower bound attained by the returned maximizer: the iteration is a local
 * ascent method, and several cells of Table 1 are NP-hard; {@link #restarts(int)} makes the global maximum
 * more likely.
 *
 * <p><b>BatchNorm.</b> {@link BnMode#EVAL} (running statistics) by default: each example's Jacobian is its
 * own. In {@link BnMode#TRAIN} the batch statistics couple the examples; the value is then the norm of the
 * diagonal block d f(x)_i / d x_i with the other examples held fixed, computed one example at a time (slower).
 *
 * <p><b>Determinism.</b> Example i starts from the Gaussian vector of seed
 * {@code StartVectors.exampleSeed(seed, i)} in both modes, so results are bit-identical on any thread count
 * and between EVAL batch runs and single-example runs. The whole of x is one batch: split large data sets
 * into several calls (and offset the seed per call if their start vectors should differ).
 *
 * <p><b>Thread safety.</b> Instances are immutable (every setter returns a modified copy) and may be shared
 * between threads. {@link #compute()} reads the model's parameters: do not change them (train) while it runs.
 */
public final class OperatorNorms {
    /** The l_inf norm: {@code Double.POSITIVE_INFINITY}, readable as {@code q(INF)}. */
    public static final double INF = Double.POSITIVE_INFINITY;

    private final Layer model;
    private final Tensor x;
    private final double p;
    private final double q;
    private final OperatorNorm.Options options;
    private final BnMode mode;
    private final Target target;

    private OperatorNorms(Layer model, Tensor x, double p, double q, OperatorNorm.Options options, BnMode mode,
            Target target) {
        this.model = model;
        this.x = x;
        this.p = p;
        this.q = q;
        this.options = options;
        this.mode = mode;
        this.target = target;
    }

    /**
     * The norms of {@code model}'s Jacobian at every example of {@code x}, with the defaults: (p,q) = (2,2),
     * 100 iterations, relative tolerance 1e-6, one run, seed 0, alpha = inf (Eq. 12), BatchNorm EVAL, target
     * logits. x is referenced, not copied: do not modify it before {@link #compute()} returns.
     *
     * @param model a network (e.g. from {@link Models}); its output is flattened per example
     * @param x     (n, c, h, w) input batch the model accepts
     * @return the settings, to be refined by the other methods and run by {@link #compute()}
     * @throws IllegalArgumentException when model or x is null
     */
    public static OperatorNorms of(Layer model, Tensor x) {
        if (model == null || x == null) {
            throw new IllegalArgumentException("OperatorNorms.of: model and x must not be null");
        }
        OperatorNorm.Options o = OperatorNorm.Options.defaults().withMaxIterations(100).withRelTol(1e-6);
        return new OperatorNorms(model, x, 2, 2, o, BnMode.EVAL, Target.logits());
    }

    /**
     * The domain norm p of ||v||_p = 1 (1, 2, {@link #INF} or any value >= 1).
     *
     * @param p the norm of the domain
     * @return a copy with this p
     * @throws IllegalArgumentException for p &lt; 1 or NaN
     */
    public OperatorNorms p(double p) {
        Norms.checkP(p, "p");
        return new OperatorNorms(model, x, p, q, options, mode, target);
    }

    /**
     * The co-domain norm q of ||J v||_q (1, 2, {@link #INF} or any value >= 1).
     *
     * @param q the norm of the co-domain
     * @return a copy with this q
     * @throws IllegalArgumentException for q &lt; 1 or NaN
     */
    public OperatorNorms q(double q) {
        Norms.checkP(q, "q");
        return new OperatorNorms(model, x, p, q, options, mode, target);
    }

    /**
     * The maximum number of iterations (products with J and J^T) per example and run (default 100).
     *
     * @param n iteration cap (>= 1)
     * @return a copy with this cap
     * @throws IllegalArgumentException for n &lt; 1
     */
    public OperatorNorms iterations(int n) {
        return new OperatorNorms(model, x, p, q, options.withMaxIterations(n), mode, target);
    }

    /**
     * Stop an example's run when its value changes by at most this much, relative, between iterations
     * (default 1e-6; 0 = always run every iteration).
     *
     * @param relTol relative tolerance (>= 0)
     * @return a copy with this tolerance
     * @throws IllegalArgumentException for a negative or NaN tolerance
     */
    public OperatorNorms tolerance(double relTol) {
        return new OperatorNorms(model, x, p, q, options.withRelTol(relTol), mode, target);
    }

    /**
     * Runs from different random start vectors per example, the best kept (default 1).
     *
     * @param r number of runs (>= 1)
     * @return a copy with this many runs
     * @throws IllegalArgumentException for r &lt; 1
     */
    public OperatorNorms restarts(int r) {
        return new OperatorNorms(model, x, p, q, options.withRestarts(r), mode, target);
    }

    /**
     * The step of the projected-gradient form (Eq. 11), or {@link #INF} (default) for the power-method
     * limit (Eq. 12).
     *
     * @param alpha step (> 0) or {@link #INF}
     * @return a copy with this step
     * @throws IllegalArgumentException for alpha &lt;= 0 or NaN
     */
    public OperatorNorms alpha(double alpha) {
        return new OperatorNorms(model, x, p, q, options.withAlpha(alpha), mode, target);
    }

    /**
     * The seed of the start vectors (default 0).
     *
     * @param seed any value
     * @return a copy with this seed
     */
    public OperatorNorms seed(long seed) {
        return new OperatorNorms(model, x, p, q, options.withSeed(seed), mode, target);
    }

    /**
     * The BatchNorm mode of the linearization (default {@link BnMode#EVAL}; see the class description for TRAIN).
     *
     * @param mode EVAL or TRAIN
     * @return a copy with this mode
     * @throws IllegalArgumentException for null
     */
    public OperatorNorms bnMode(BnMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("bnMode must not be null");
        }
        return new OperatorNorms(model, x, p, q, options, mode, target);
    }

    /**
     * Whose Jacobian: {@link Target#logits()} (default), {@link Target#penultimate()} or
     * {@link Target#layer(String)}.
     *
     * @param target whose Jacobian
     * @return a copy with this target
     * @throws IllegalArgumentException for null
     */
    public OperatorNorms target(Target target) {
        if (target == null) {
            throw new IllegalArgumentException("target must not be null");
        }
        return new OperatorNorms(model, x, p, q, options, mode, target);
    }

    /**
     * Linearizes the model at x and runs the iteration for every example.
     *
     * @return per-example values, maximizers and convergence, in example order (a new object)
     * @throws IllegalArgumentException when x does not fit the model (the message names the layer and shapes),
     *                                  or the target does not exist in the model
     */
    public NormResults compute() {
        Linearization lin = target.select(model, model.linearize(x, mode));
        int n = x.shape.n();
        List<OperatorNorm.Result> results;
        // the host's batch operations of a placed model, as every backend iterates a network
        try (PlacedModel<float[], int[]> m = PlacedModel.host(model)) {
            PlacedBatchOps<float[], int[]> ops = PlacedBatchOps.of(m);
            if (mode == BnMode.EVAL) {
                results = OperatorNorm.estimate(lin.asBatchLinearMap(), ops, p, q, options, null);
            } else {
                results = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    // same start vectors as the batched EVAL run: seed exampleSeed(seed, i)
                    OperatorNorm.Options oi = options.withSeed(StartVectors.exampleSeed(options.seed(), i));
                    results.add(OperatorNorm.estimate(BatchLinearMaps.single(lin.asLinearMap(i)), ops, p, q, oi, null)
                            .get(0));
                }
            }
        }
        return new NormResults(p, q, mode, target, options, results);
    }

    @Override
    public String toString() {
        return "OperatorNorms(p=" + Norms.format(p) + ", q=" + Norms.format(q) + ", iterations="
                + options.maxIterations() + ", tol=" + options.relTol() + ", restarts=" + options.restarts()
                + ", seed=" + options.seed() + ", bn=" + mode + ", target=" + target + ")";
    }
}
