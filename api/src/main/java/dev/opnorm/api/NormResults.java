package dev.opnorm.api;

import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.nn.layers.BnMode;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of {@link OperatorNorms#compute()}: for every example i of the batch, the value
 * ||J_i v_i||_q / ||v_i||_p (the (p,q) operator norm at convergence for (2,2), a lower bound otherwise),
 * the maximizer v_i, the iterations used and whether the run converged, plus the settings that produced
 * them. Immutable; accessors return copies of arrays, so it is safe to share between threads.
 */
public final class NormResults {
    private final double p;
    private final double q;
    private final BnMode mode;
    private final Target target;
    private final OperatorNorm.Options options;
    private final List<OperatorNorm.Result> results;

    NormResults(double p, double q, BnMode mode, Target target, OperatorNorm.Options options,
            List<OperatorNorm.Result> results) {
        this.p = p;
        this.q = q;
        this.mode = mode;
        this.target = target;
        this.options = options;
        this.results = List.copyOf(results);
    }

    /** Number of examples. */
    public int size() {
        return results.size();
    }

    /** The domain norm p. */
    public double p() {
        return p;
    }

    /** The co-domain norm q. */
    public double q() {
        return q;
    }

    /** The BatchNorm mode of the linearization. */
    public BnMode bnMode() {
        return mode;
    }

    /** Whose Jacobian. */
    public Target target() {
        return target;
    }

    /** The iteration settings (maximum iterations, tolerance, alpha, restarts, seed). */
    public OperatorNorm.Options options() {
        return options;
    }

    /**
     * Example i's norm value (>= 0).
     *
     * @param i example index
     * @return ||J_i v_i||_q for the maximizer found
     * @throws IndexOutOfBoundsException for i outside [0, size())
     */
    public double value(int i) {
        return results.get(i).value();
    }

    /** All values in example order (a new array). */
    public double[] values() {
        double[] v = new double[results.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = results.get(i).value();
        }
        return v;
    }

    /**
     * Example i's maximizer v_i (||v_i||_p = 1 up to float rounding), in the input's (c, h, w) order.
     *
     * @param i example index
     * @return a copy, length = per-example input size
     */
    public float[] maximizer(int i) {
        return results.get(i).v().clone();
    }

    /**
     * Products with J made by example i's best run.
     *
     * @param i example index
     * @return iterations, at most the cap
     */
    public int iterations(int i) {
        return results.get(i).iterations();
    }

    /**
     * Whether example i's best run met the tolerance before the iteration cap.
     *
     * @param i example index
     * @return true when converged
     */
    public boolean converged(int i) {
        return results.get(i).converged();
    }

    /** Number of examples whose best run converged. */
    public int convergedCount() {
        int c = 0;
        for (OperatorNorm.Result r : results) {
            c += r.converged() ? 1 : 0;
        }
        return c;
    }

    /** Mean of the values. */
    public double mean() {
        double s = 0;
        for (OperatorNorm.Result r : results) {
            s += r.value();
        }
        return s / results.size();
    }

    /** Largest value. */
    public double max() {
        double m = Double.NEGATIVE_INFINITY;
        for (OperatorNorm.Result r : results) {
            m = Math.max(m, r.value());
        }
        return m;
    }

    /** Whether the values are exact norms at convergence ((p,q) = (2,2)) rather than lower bounds. */
    public boolean exact() {
        return p == 2 && q == 2;
    }

    /** One line: "(2,inf) norms of the logits Jacobian, BN EVAL, 4 examples: mean ..., max ..., converged k/n". */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "(%s,%s) norms of the %s Jacobian, BN %s, %d examples: mean %.6g, max %.6g, "
                        + "converged %d/%d", Norms.format(p), Norms.format(q), target, mode, size(), mean(), max(),
                convergedCount(), size());
    }
}
