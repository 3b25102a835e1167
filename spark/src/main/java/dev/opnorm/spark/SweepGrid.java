package dev.opnorm.spark;

import dev.opnorm.nn.checkpoint.Json;
import dev.opnorm.robust.train.MethodSpec;
import dev.opnorm.robust.train.MethodSpec.Kind;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A sweep's grid: every combination of method, lambda, eps, seed, width and epochs, plus the settings all runs
 * share. Read from a JSON object whose axes are a value or a list of values:
 * <pre>
 * {"method": ["standard", "at"], "eps": [0.5, 1], "seed": [0, 1], "width": 0.0625, "epochs": 2,
 *  "train_subset": 200, "test_subset": 100, "batch": 32, "eval_count": 50, "eval_eps": [0, 0.5, 1]}
 * </pre>
 * A method gets lambda and eps only when it uses them ({@link Kind#knobs()}); the others run once per remaining
 * combination with the catalogue's defaults. Runs are numbered in grid order (method slowest, epochs fastest).
 */
public final class SweepGrid {
    /** The axes, in nesting order. */
    public static final List<String> AXES = List.of("method", "lambda", "eps", "seed", "width", "epochs");
    /** The shared settings and their defaults. */
    static final Map<String, Object> SETTINGS = defaults();

    private final Map<String, List<Object>> axes = new LinkedHashMap<>();
    private final Map<String, Object> settings = new LinkedHashMap<>(SETTINGS);

    private static Map<String, Object> defaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("train_subset", 1000L);
        m.put("test_subset", 200L);
        m.put("batch", 64L);
        m.put("checkpoint_every", 0L);
        m.put("eval_count", 100L);
        m.put("eval_iterations", 10L);
        m.put("eval_eps", List.of(0.0, 1.0));
        return m;
    }

    /** One training + evaluation run of the grid. */
    public record Run(int index, String method, Double lambda, Double eps, long seed, double width, int epochs)
            implements Serializable {
        /** The run's folder under the sweep's output: index, method, the knobs set, width, epochs, seed. */
        public String name() {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%03d-%s", index, method));
            if (lambda != null) {
                b.append("-lambda").append(fmt(lambda));
            }
            if (eps != null) {
                b.append("-eps").append(fmt(eps));
            }
            return b.append("-w").append(fmt(width)).append("-e").append(epochs).append("-s").append(seed)
                    .toString();
        }

        /** The network of {@code opnorm train --model}. */
        public String model() {
            return "cnn7-w" + fmt(width);
        }
    }

    /** What every run shares. */
    public record Settings(int trainSubset, int testSubset, int batch, int checkpointEvery, int evalCount,
            int evalIterations, double[] evalEps, String data, int threads) implements Serializable {
    }

    /** Parses a grid file's text ({@code source} names it in errors). */
    public static SweepGrid parse(String json, String source) {
        Map<String, Object> m;
        try {
            m = Json.parseObject(json);
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException(source + ": not a JSON object (" + e.getMessage() + ")");
        }
        SweepGrid g = new SweepGrid();
        for (var e : m.entrySet()) {
            String k = e.getKey();
            if (AXES.contains(k)) {
                g.axis(k, e.getValue() instanceof List<?> l ? new ArrayList<>(l) : List.of(e.getValue()), source);
            } else if (SETTINGS.containsKey(k)) {
                g.settings.put(k, e.getValue());
            } else {
                throw new IllegalArgumentException(source + ": unknown key '" + k + "' (axes: " + AXES
                        + "; settings: " + SETTINGS.keySet() + ")");
            }
        }
        return g;
    }

    /** An empty grid (every axis at its default until set). */
    public static SweepGrid empty() {
        return new SweepGrid();
    }

    /** Sets an axis (replacing what the file gave); {@code source} names the file or option in errors. */
    public SweepGrid axis(String name, List<?> values, String source) {
        if (!AXES.contains(name)) {
            throw new IllegalArgumentException(source + ": unknown axis '" + name + "'");
        }
        if (values.isEmpty()) {
            throw new IllegalArgumentException(source + ": axis '" + name + "' is empty");
        }
        axes.put(name, new ArrayList<>(values));
        return this;
    }

    /** Sets a shared setting; {@code source} names the file or option in errors. */
    public SweepGrid setting(String name, Object value) {
        settings.put(name, value);
        return this;
    }

    /** The settings, resolved and checked; {@code data} and {@code threads} come from the command line. */
    public Settings settings(String data, int threads, String source) {
        List<?> e = settings.get("eval_eps") instanceof List<?> l ? l : List.of(settings.get("eval_eps"));
        double[] evalEps = new double[e.size()];
        for (int i = 0; i < evalEps.length; i++) {
            evalEps[i] = number(e.get(i), "eval_eps", source);
        }
        return new Settings(integer("train_subset", source), integer("test_subset", source),
                integer("batch", source), integer("checkpoint_every", source), integer("eval_count", source),
                integer("eval_iterations", source), evalEps, data, threads);
    }

    private int integer(String key, String source) {
        double v = number(settings.get(key), key, source);
        if (v != Math.rint(v) || v < 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": '" + key + "' must be a whole number >= 0, got " + v);
        }
        return (int) v;
    }

    /** The runs: the product of the axes, knobs dropped where the method does not use them, duplicates once. */
    public List<Run> runs(String source) {
        List<Object> methods = axes.getOrDefault("method", List.of("standard"));
        List<Object> lambdas = axes.getOrDefault("lambda", nothing());
        List<Object> epss = axes.getOrDefault("eps", nothing());
        List<Object> seeds = axes.getOrDefault("seed", List.of(0L));
        List<Object> widths = axes.getOrDefault("width", List.of(0.25));
        List<Object> epochs = axes.getOrDefault("epochs", List.of(1L));
        Set<List<Object>> seen = new LinkedHashSet<>();
        List<Run> runs = new ArrayList<>();
        for (Object mo : methods) {
            if (!(mo instanceof String method)) {
                throw new IllegalArgumentException(source + ": 'method' values are names, got " + mo);
            }
            Kind kind;
            try {
                kind = Kind.parse(method);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException(source + ": " + ex.getMessage());
            }
            boolean usesLambda = kind.knobs().contains(MethodSpec.LAMBDA), usesEps = kind.knobs().contains(MethodSpec.EPS);
            for (Object lo : lambdas) {
                for (Object eo : epss) {
                    for (Object so : seeds) {
                        for (Object wo : widths) {
                            for (Object no : epochs) {
                                Double lambda = usesLambda && lo != null ? number(lo, "lambda", source) : null;
                                Double eps = usesEps && eo != null ? number(eo, "eps", source) : null;
                                long seed = (long) whole(so, "seed", source);
                                double width = number(wo, "width", source);
                                int ep = (int) whole(no, "epochs", source);
                                if (!(width > 0) || ep < 1) {
                                    throw new IllegalArgumentException(source + ": width must be > 0 and epochs >= 1, "
                                            + "got width " + width + ", epochs " + ep);
                                }
                                if (seen.add(java.util.Arrays.asList(kind.id(), lambda, eps, seed, width, ep))) {
                                    runs.add(new Run(runs.size(), kind.id(), lambda, eps, seed, width, ep));
                                }
                            }
                        }
                    }
                }
            }
        }
        return runs;
    }

    /** A number in a name: shortest plain decimal (0.5, 1, 0.0625). */
    static String fmt(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static List<Object> nothing() {
        List<Object> l = new ArrayList<>();
        l.add(null);
        return l;
    }

    private static double number(Object v, String key, String source) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IllegalArgumentException(source + ": '" + key + "' must be a number, got " + v);
    }

    private static double whole(Object v, String key, String source) {
        double d = number(v, key, source);
        if (d != Math.rint(d)) {
            throw new IllegalArgumentException(source + ": '" + key + "' must be a whole number, got " + v);
        }
        return d;
    }
}
