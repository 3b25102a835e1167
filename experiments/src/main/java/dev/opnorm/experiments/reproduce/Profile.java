package dev.opnorm.experiments.reproduce;

import dev.opnorm.robust.train.MethodSpec;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The sizes of one reproduction: data set, network width, training subset and schedule, attack strengths,
 * test-point counts, the eps grid of the training-eps search and the lambda candidates of the accuracy
 * matching. Four presets: {@link #SMOKE} (seconds, for tests), {@link #QUICK} (Fashion-MNIST, width 0.25,
 * sized for about 30 minutes on 2 cores), {@link #FULL} (all of Fashion-MNIST, 3 seeds; days on 2 cores) and
 * {@link #PAPER} (CIFAR-10, width 1.0, the paper's sample sizes).
 *
 * @param name             preset name
 * @param dataset          "fashion-mnist" or "cifar10"
 * @param width            width factor of the 7-layer CNN
 * @param trainPerClass    training images per class (stratified subset)
 * @param epochs           training epochs of every method
 * @param batch            training batch size
 * @param lr               SGD learning rate (momentum 0.9, weight decay 5e-4, cosine per step)
 * @param atIterations     PGA iterations of adversarial training (step 2 eps / iterations, random start)
 * @param evalIterations   PGA iterations of every evaluation attack
 * @param ddIterations     power iterations per batch of the d.d. regularizers
 * @param tablePerClass    test images per class for the clean accuracies (Table 2, lambda matching)
 * @param curvePerClass    test images per class for the accuracy-vs-eps curves (Fig. 3, Fig. 7, eps search)
 * @param pointsPerClass   test points per class for the analyses (Fig. 2, 4, 5)
 * @param epsGrid          l2 radii of the training-eps search, increasing
 * @param foolFraction     the eps search stops at the first radius that fools at least this fraction
 * @param lambdaGlobal     global SNR strength candidates
 * @param lambdaDdSnr      d.d. SNR (sum-of-squares) strength candidates
 * @param lambdaDdOnr      d.d. ONR (p = inf, q = 2) strength candidates
 * @param interpolation    interior points t of the AT (t = 1) to d.d. SNR (t = 0) interpolation (Fig. 7)
 * @param curveSteps       radii per accuracy curve (0 and 2 eps_train included)
 * @param noiseSamples     noise draws per point and radius for the shared activations (Fig. 5)
 * @param powerIterations  power-method iterations of sigma_max(J(x + z)) (Fig. 4)
 * @param checkpointEvery  training checkpoints every this many steps (and at epoch ends), for resumption
 * @param seeds            training seeds of the headline comparisons (Fig. 3, Fig. 2, Table 2): seed 0 runs
 *                         every phase, seeds 1 .. seeds - 1 retrain the five methods at seed 0's eps and lambdas,
 *                         and the claims' intervals resample the seeds
 * @param certifyImages    test images of the certify phase (the first of the curve images, the same for every
 *                         network)
 * @param certifyEps       l2 radii of the certify phase, increasing from 0 (eps_train is added as the last)
 * @param certifyBracketImages images (of the certify ones) whose ball brackets on sup ||J||_{2,2} the certify
 *                         phase records at every radius
 * @param certifyBounds    bounds of the certify phase: "interval" (interval propagation over the ball's box) or
 *                         "linear" (pre-activation, logit and margin bounds tightened by linear back-substitution)
 */
public record Profile(String name, String dataset, double width, int trainPerClass, int epochs, int batch, double lr,
                      int atIterations, int evalIterations, int ddIterations, int tablePerClass, int curvePerClass,
                      int pointsPerClass, double[] epsGrid, double foolFraction, double[] lambdaGlobal,
                      double[] lambdaDdSnr, double[] lambdaDdOnr, double[] interpolation, int curveSteps,
                      int noiseSamples, int powerIterations, int checkpointEvery, int seeds, int certifyImages,
                      double[] certifyEps, int certifyBracketImages, String certifyBounds) {

    /**
     * Images of the quick profile's certify phase. Its cost is the interval propagation of the balls (the logits'
     * Jacobian rows and the label's margin rows pulled back through every layer, one thread each), about 2.5-3
     * CPU-seconds per image and radius on the width-0.25 CNN (AVX2): measured on the five quick networks, 5 images
     * took 185 CPU-seconds, 4 images 148, so 4 images on 2 threads keep the phase under 2 minutes on 2 idle cores
     * (the machine was loaded: 296 s of wall time at load 8-10). Their Wilson intervals are wide (3 of 4:
     * [0.30, 0.95]); the figure shows them.
     */
    static final int QUICK_CERTIFY_IMAGES = 4;

    /**
     * The l2 radii of the certify phase on the Fashion-MNIST CNNs (inputs in [-1, 1], eps_train about 5): interval
     * bounds over the ball's box certify no image of any of the five quick networks at 1e-4 (nor at 3e-4), AT's up
     * to 3e-5, d.d. ONR's at 1e-5, the others' none beyond the point, so the grid sits there; eps_train is added as
     * the last radius (where PGA robust accuracy comes from Fig. 3's curves). Linear back-substitution
     * ({@code certifyBounds = linear}, in every ReLU layer by default) certifies the standard network's image 0 at
     * 1e-4 where interval bounds stop at 1e-6, but takes 5-8 s per propagation on a quick network at these
     * radii (2 cores, zonotope and ReLU signs first) against 1-2 s, and minutes at eps_train (BENCHMARKS.md, "Certification
     * cost").
     */
    static final double[] QUICK_CERTIFY_EPS = {0, 1e-5, 3e-5, 1e-4};

    /** The prefix of the keys of {@link #describe()} that hold the certify phase's settings. */
    static final String CERTIFY_PREFIX = "certify_";

    /**
     * A tiny run for tests: a few seconds on synthetic data. The certify radii are where interval bounds still
     * certify the barely trained smoke networks (all five at 1e-6, fewer at 1e-5).
     */
    public static final Profile SMOKE = new Profile("smoke", "fashion-mnist", 0.0625, 3, 1, 10, 0.05, 2, 2, 2, 2, 1,
            1, new double[]{0.5, 1, 2}, 0.9, new double[]{1e-3, 1e-2}, new double[]{0.05, 0.2},
            new double[]{0.05}, new double[]{0.5}, 3, 2, 5, 1, 1, 3, new double[]{0, 1e-7, 1e-6, 1e-5}, 1,
            "interval");

    /**
     * Fashion-MNIST, the CNN at width 0.25, 200 training images per class (2000), 2 epochs, with the paper's
     * algorithm settings: AT and the evaluation attacks with 10 PGA iterations, the d.d. regularizers with 10
     * power iterations, eps_train the smallest radius at which PGA fools at least 90 % of the standard network's
     * correct points; 2 lambda candidates per regularized method (from the earlier quick runs: smaller ones left
     * the clean accuracy 5-8 points above AT's). Table 2 on all 10,000 test images, the curves (Fig. 3, Fig. 7,
     * the eps search) on 1000, the analyses (Fig. 2, 4, 5) on 50 points, 5 radii per curve, 20 power iterations
     * for Fig. 4's sigma_max. 29 minutes on 2 idle AVX2 cores (seed 0; phase times in docs/reproduce-quick/README.md).
     */
    public static final Profile QUICK = new Profile("quick", "fashion-mnist", 0.25, 200, 2, 64, 0.05, 10, 10, 10,
            1000, 100, 5, new double[]{0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6}, 0.9, new double[]{0.03, 0.3},
            new double[]{0.2, 1}, new double[]{0.3, 1}, new double[]{0.5}, 5, 4, 20, 10, 1, QUICK_CERTIFY_IMAGES,
            QUICK_CERTIFY_EPS, 1, "interval");

    /**
     * Fashion-MNIST at full size: all 60,000 training images, the CNN at width 0.25, 15 epochs (expected to bring
     * the standard network to about 91-93 % clean accuracy; not run yet), the paper's algorithm settings (10 PGA
     * iterations, 10 power iterations, eps_train by the paper's rule), 3 lambda candidates per regularized method
     * around the quick profile's choices, Table 2 on all 10,000 test images, the curves on 2000 (as the paper's
     * Fig. 3), the analyses on 200 points, and 3 seeds for the headline comparisons (Fig. 3, Fig. 2, Table 2);
     * the certify phase on 50 images (about 20 minutes of the run, scaled from the quick profile's cost).
     * Days on 2 cores: docs/reproduce-quick gives the estimate and how it was derived.
     */
    public static final Profile FULL = new Profile("full", "fashion-mnist", 0.25, 6000, 15, 64, 0.05,
            MethodSpec.DEFAULT_ATTACK_ITERATIONS, 10, MethodSpec.DEFAULT_DD_ITERATIONS, 1000, 200, 20,
            new double[]{0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6}, 0.9, new double[]{0.01, 0.03, 0.3},
            new double[]{0.2, 0.5, 1}, new double[]{0.3, 0.6, 1}, new double[]{0.25, 0.5, 0.75}, 9, 10, 30, 200, 3,
            50, QUICK_CERTIFY_EPS, 3, "interval");

    /**
     * CIFAR-10, the CNN at width 1.0, the paper's sizes: the full training set (5000 per class), 50 epochs,
     * AT and d.d. regularizers at the method catalogue's (the paper's) 10 PGA / power iterations, Table 2 on the
     * full test set, Fig. 3 on 2000 points, the analyses on 200; the certify phase on 20 images (a propagation at
     * width 1.0 costs about 16 times one at 0.25: a few hours; its radii are the quick ones, not tuned for CIFAR).
     */
    public static final Profile PAPER = new Profile("paper", "cifar10", 1.0, 5000, 50, 128, 0.05,
            MethodSpec.DEFAULT_ATTACK_ITERATIONS, 10, MethodSpec.DEFAULT_DD_ITERATIONS, 1000,
            200, 20, new double[]{0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3}, 0.9,
            new double[]{1e-4, 3e-4, 1e-3}, new double[]{0.01, 0.02, 0.05}, new double[]{0.01, 0.02, 0.05},
            new double[]{0.25, 0.5, 0.75}, 9, 10, 100, 100, 1, 20, QUICK_CERTIFY_EPS, 3, "interval");

    public Profile {
        require(certifyImages >= 1, "profile " + name + ": certifyImages must be >= 1");
        require(certifyBracketImages >= 0 && certifyBracketImages <= certifyImages, "profile " + name
                + ": certifyBracketImages must be in [0, certifyImages]");
        require(certifyEps != null && certifyEps.length >= 1 && certifyEps[0] == 0, "profile " + name
                + ": certifyEps must start at 0");
        for (int i = 1; i < certifyEps.length; i++) {
            require(certifyEps[i] > certifyEps[i - 1] && Double.isFinite(certifyEps[i]), "profile " + name
                    + ": certifyEps must be finite and increasing");
        }
        require("interval".equals(certifyBounds) || "linear".equals(certifyBounds), "profile " + name
                + ": certifyBounds must be interval or linear, got " + certifyBounds);
        require(name != null && !name.isBlank(), "profile name must not be blank");
        require("fashion-mnist".equals(dataset) || "cifar10".equals(dataset),
                "profile " + name + ": dataset must be fashion-mnist or cifar10, got " + dataset);
        require(width > 0, "profile " + name + ": width must be positive");
        require(trainPerClass > 0 && epochs > 0 && batch >= 2 && lr > 0, "profile " + name
                + ": training sizes must be positive (batch >= 2)");
        require(atIterations > 0 && evalIterations > 0 && ddIterations > 0 && powerIterations > 0,
                "profile " + name + ": iteration counts must be positive");
        require(tablePerClass > 0 && curvePerClass > 0 && pointsPerClass > 0 && noiseSamples > 0,
                "profile " + name + ": test-point counts must be positive");
        require(curveSteps >= 3 && curveSteps % 2 == 1, "profile " + name + ": curveSteps must be odd and >= 3 "
                + "(the middle radius is eps_train)");
        require(checkpointEvery >= 1, "profile " + name + ": checkpointEvery must be >= 1");
        require(seeds >= 1, "profile " + name + ": seeds must be >= 1");
        require(epsGrid != null && epsGrid.length > 0, "profile " + name + ": empty eps grid");
        for (int i = 0; i < epsGrid.length; i++) {
            require(epsGrid[i] > 0 && Double.isFinite(epsGrid[i]) && (i == 0 || epsGrid[i] > epsGrid[i - 1]),
                    "profile " + name + ": eps grid must be positive and increasing");
        }
        require(foolFraction > 0 && foolFraction <= 1, "profile " + name + ": foolFraction must be in (0, 1]");
        for (double[] l : new double[][]{lambdaGlobal, lambdaDdSnr, lambdaDdOnr}) {
            require(l != null && l.length > 0, "profile " + name + ": every lambda list needs a candidate");
            for (double v : l) {
                require(v > 0 && Double.isFinite(v), "profile " + name + ": lambdas must be positive");
            }
        }
        require(interpolation != null, "profile " + name + ": interpolation must not be null");
        for (double t : interpolation) {
            require(t > 0 && t < 1, "profile " + name + ": interior interpolation points must be in (0, 1)");
        }
    }

    /** The preset called {@code name} (smoke, quick, full, paper). */
    public static Profile named(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "smoke" -> SMOKE;
            case "quick" -> QUICK;
            case "full" -> FULL;
            case "paper" -> PAPER;
            default -> throw new IllegalArgumentException("--profile must be smoke, quick, full or paper, got '" + name
                    + "'");
        };
    }

    /**
     * A copy with some sizes replaced: {@code key} is a record component name (e.g. {@code epochs},
     * {@code trainPerClass}, {@code epsGrid}; lists comma separated). The name becomes NAME+custom.
     *
     * @throws IllegalArgumentException naming the key for an unknown key or a value of the wrong type
     */
    public Profile with(Map<String, String> overrides) {
        if (overrides.isEmpty()) {
            return this;
        }
        RecordComponent[] comps = Profile.class.getRecordComponents();
        Object[] values = new Object[comps.length];
        Class<?>[] types = new Class<?>[comps.length];
        Map<String, String> left = new LinkedHashMap<>(overrides);
        for (int i = 0; i < comps.length; i++) {
            RecordComponent c = comps[i];
            types[i] = c.getType();
            try {
                values[i] = c.getAccessor().invoke(this);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            String text = left.remove(c.getName());
            if (text == null) {
                continue;
            }
            if (c.getName().equals("name")) {
                throw new IllegalArgumentException("--set name: the name is derived from --profile");
            }
            try {
                values[i] = parse(c.getType(), text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--set " + c.getName() + "=" + text + ": not a valid "
                        + c.getType().getSimpleName());
            }
        }
        if (!left.isEmpty()) {
            List<String> names = new ArrayList<>();
            for (RecordComponent c : comps) {
                names.add(c.getName());
            }
            throw new IllegalArgumentException("--set: unknown profile key(s) " + left.keySet() + "; known: " + names);
        }
        values[0] = name + "+custom";
        try {
            return Profile.class.getDeclaredConstructor(types).newInstance(values);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException iae) {
                throw new IllegalArgumentException("--set: " + iae.getMessage());
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object parse(Class<?> type, String text) {
        if (type == int.class) {
            return Integer.parseInt(text);
        } else if (type == double.class) {
            return Double.parseDouble(text);
        } else if (type == double[].class) {
            if (text.isEmpty()) {
                return new double[0];
            }
            String[] parts = text.split(",");
            double[] d = new double[parts.length];
            for (int i = 0; i < parts.length; i++) {
                d[i] = Double.parseDouble(parts[i].trim());
            }
            return d;
        }
        return text;
    }

    /** The network spec for {@code dev.opnorm.nn.models.Models.create}. */
    public String modelSpec() {
        return width == 1.0 ? "cnn7" : "cnn7-w" + fmt(width);
    }

    /** Every size by name, for the manifest and the report. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("profile", name);
        m.put("dataset", dataset);
        m.put("model", modelSpec());
        m.put("train_images", trainPerClass * 10);
        m.put("epochs", epochs);
        m.put("batch", batch);
        m.put("optimizer", "SGD lr " + fmt(lr) + ", momentum 0.9, weight decay 5e-4, cosine per step");
        m.put("at_pga_iterations", atIterations);
        m.put("eval_pga_iterations", evalIterations);
        m.put("dd_power_iterations", ddIterations);
        m.put("table2_test_images", tablePerClass * 10);
        m.put("curve_test_images", curvePerClass * 10);
        m.put("analysis_points", pointsPerClass * 10);
        m.put("eps_search_grid_l2", list(epsGrid));
        m.put("eps_search_fool_fraction", foolFraction);
        m.put("lambda_global_snr", list(lambdaGlobal));
        m.put("lambda_dd_snr", list(lambdaDdSnr));
        m.put("lambda_dd_onr", list(lambdaDdOnr));
        m.put("interpolation_t", list(interpolation));
        m.put("curve_radii", curveSteps);
        m.put("noise_samples", noiseSamples);
        m.put("sigma_power_iterations", powerIterations);
        m.put("checkpoint_every_steps", checkpointEvery);
        m.put("seeds", seeds);
        m.put(CERTIFY_PREFIX + "images", certifyImages);
        m.put(CERTIFY_PREFIX + "eps_l2", list(certifyEps));
        m.put(CERTIFY_PREFIX + "bracket_images", certifyBracketImages);
        m.put(CERTIFY_PREFIX + "bounds", certifyBounds);
        return m;
    }

    /**
     * {@link #describe()} without the certify phase's settings: what a folder written before the certify phase
     * existed recorded as its run (phases/run-id.txt), so such a folder still resumes.
     */
    Map<String, Object> describeBeforeCertify() {
        Map<String, Object> m = describe();
        m.keySet().removeIf(k -> k.startsWith(CERTIFY_PREFIX));
        return m;
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static String list(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double d : v) {
            b.append(b.length() == 0 ? "" : ",").append(fmt(d));
        }
        return b.toString();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Profile p && p.name.equals(name) && describe().equals(p.describe());
    }

    @Override
    public int hashCode() {
        return describe().hashCode();
    }

    @Override
    public String toString() {
        return "Profile" + describe();
    }
}
