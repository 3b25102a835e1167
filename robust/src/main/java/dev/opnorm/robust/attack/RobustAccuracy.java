package dev.opnorm.robust.attack;

import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * Clean and robust accuracy of a classifier on a data set under an attack: an example counts as robust
 * when the prediction at the attacked point equals its true label (so clean mistakes are never robust).
 * The attack is run untargeted against the true labels, BatchNorm in EVAL mode.
 *
 * @param attack       the attack's description
 * @param p            the attack's norm
 * @param eps          the attack's radius
 * @param examples     examples evaluated
 * @param cleanCorrect correctly classified clean examples
 * @param robustCorrect correctly classified attacked examples
 */
public record RobustAccuracy(String attack, double p, double eps, int examples, int cleanCorrect, int robustCorrect) {
    public double cleanAccuracy() {
        return cleanCorrect / (double) examples;
    }

    public double robustAccuracy() {
        return robustCorrect / (double) examples;
    }

    /**
     * Runs {@code attack} over {@code data} in batches of {@code batch} examples (the last one smaller).
     * Results do not depend on the batch size: example i of the data set always gets its own random start.
     *
     * @throws IllegalArgumentException for batch &lt; 1, an empty data set, or a data set whose domain differs
     *                                  from the attack's
     */
    public static RobustAccuracy of(Layer model, Dataset data, Attack attack, int batch) {
        checkArguments(data, attack, batch);
        int clean = 0, robust = 0;
        for (int from = 0; from < data.size(); from += batch) {
            Dataset b = data.slice(from, Math.min(batch, data.size() - from));
            AttackResult r = attack.attack(model, b.images(), b.labels(), from);
            for (int i = 0; i < b.size(); i++) {
                if (r.cleanPredictions()[i] == b.labels()[i]) {
                    clean++;
                }
                if (r.predictions()[i] == b.labels()[i]) {
                    robust++;
                }
            }
        }
        return new RobustAccuracy(attack.describe(), attack.p(), attack.eps(), data.size(), clean, robust);
    }

    /**
     * As {@link #of(Layer, Dataset, Attack, int)} with the PGA run on {@code backend} ({@link Pga#outcome}):
     * per batch the images, the labels and each restart's start offsets go up and the per-example
     * statistics come back; the adversarial points stay on the backend.
     *
     * @throws IllegalArgumentException as {@link #of(Layer, Dataset, Attack, int)}, or when the backend
     *                                  cannot run the network
     */
    public static RobustAccuracy of(Layer model, Dataset data, Pga attack, PgaBackend backend, int batch) {
        checkArguments(data, attack, batch);
        int clean = 0, robust = 0;
        for (int from = 0; from < data.size(); from += batch) {
            Dataset b = data.slice(from, Math.min(batch, data.size() - from));
            Pga.Outcome o = attack.outcome(backend, model, b.images(), b.labels(), Pga.Target.LABELS, from);
            for (int i = 0; i < b.size(); i++) {
                clean += o.cleanPredictions()[i] == b.labels()[i] ? 1 : 0;
                robust += o.predictions()[i] == b.labels()[i] ? 1 : 0;
            }
        }
        return new RobustAccuracy(attack.describe(), attack.p(), attack.eps(), data.size(), clean, robust);
    }

    /**
     * Accuracy-vs-eps curve (Fig. 3): one {@link #of} per radius, the attack built by {@code attackAt(eps)}.
     *
     * @throws IllegalArgumentException as {@link #of}, or for an empty radius list
     */
    public static List<RobustAccuracy> curve(Layer model, Dataset data, DoubleFunction<? extends Attack> attackAt,
                                             double[] eps, int batch) {
        if (eps == null || eps.length == 0) {
            throw new IllegalArgumentException("accuracy curve needs at least one eps");
        }
        List<RobustAccuracy> out = new ArrayList<>();
        for (double e : eps) {
            out.add(of(model, data, attackAt.apply(e), batch));
        }
        return out;
    }

    /**
     * The argument checks of {@link #of}.
     *
     * @throws IllegalArgumentException for batch &lt; 1, an empty data set, or a data set whose domain
     *                                  differs from the attack's
     */
    public static void checkArguments(Dataset data, Attack attack, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch = " + batch + " must be >= 1");
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException("data set " + data.name() + " is empty");
        }
        if (!data.domain().equals(attack.domain())) {
            throw new IllegalArgumentException("data set " + data.name() + " is scaled to " + data.domain()
                    + " but the attack clamps to " + attack.domain() + "; set the attack's domain");
        }
    }
}
