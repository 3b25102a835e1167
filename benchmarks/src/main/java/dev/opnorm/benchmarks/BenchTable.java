package dev.opnorm.benchmarks;

import dev.opnorm.nn.kernels.Conv2dDims;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns JMH JSON result files into the Markdown tables of BENCHMARKS.md:
 * <ul>
 *   <li>{@link Conv2dBench}: one table per op, rows = conv shapes, columns = GFLOP/s of each of our
 *       kernels and of PyTorch, and ours / PyTorch;</li>
 *   <li>{@link TrainStepBench}: images/s of each implementation and ours / PyTorch;</li>
 *   <li>any other benchmark (e.g. linalg, OpenCL classes dropped into this module): score, error and
 *       unit per parameter set, as JMH reports them.</li>
 * </ul>
 * Usage: {@code BenchTable [--stat min|median|mean] result.json...}. The statistic is taken over the
 * measurement iterations of each trial; the default {@code min} (the best iteration, fastest time)
 * is the least disturbed by other processes on a shared machine, where load only ever adds time.
 */
public final class BenchTable {
    private static final String TORCH = "torch";

    private BenchTable() {
    }

    /** One JMH trial: the benchmark's simple name (Class.method), its parameters, seconds per op. */
    record Trial(String benchmark, Map<String, String> params, double seconds, double score, double error,
                 String unit) {
        String param(String key) {
            String v = params.get(key);
            if (v == null) {
                throw new IllegalArgumentException(benchmark + " has no parameter '" + key + "'");
            }
            return v;
        }
    }

    public static void main(String[] args) throws IOException {
        String stat = "min";
        List<Path> files = new ArrayList<>();
        for (int a = 0; a < args.length; a++) {
            if (args[a].equals("--stat") && a + 1 < args.length) {
                stat = args[++a];
            } else if (args[a].startsWith("-")) {
                throw new IllegalArgumentException("usage: BenchTable [--stat min|median|mean] result.json...");
            } else {
                files.add(Path.of(args[a]));
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("usage: BenchTable [--stat min|median|mean] result.json...");
        }
        List<Trial> trials = new ArrayList<>();
        for (Path f : files) {
            trials.addAll(read(Files.readString(f, StandardCharsets.UTF_8), stat));
        }
        System.out.print(markdown(trials, stat));
    }

    /** Parses a JMH JSON result file, taking {@code stat} of each trial's iterations as its time per op. */
    static List<Trial> read(String json, String stat) {
        List<Trial> out = new ArrayList<>();
        Object doc;
        try {
            doc = dev.opnorm.nn.checkpoint.Json.parse(json);
        } catch (dev.opnorm.nn.checkpoint.Json.JsonException e) {
            throw new IllegalArgumentException("JMH result is not valid JSON: " + e.getMessage(), e);
        }
        for (Object o : (List<?>) doc) {
            Map<?, ?> run = (Map<?, ?>) o;
            String full = (String) run.get("benchmark");
            String[] parts = full.split("\\.");
            String name = parts[parts.length - 2] + "." + parts[parts.length - 1];
            Map<String, String> params = new LinkedHashMap<>();
            Object p = run.get("params");
            if (p != null) {
                ((Map<?, ?>) p).forEach((k, v) -> params.put((String) k, String.valueOf(v)));
            }
            Map<?, ?> metric = (Map<?, ?>) run.get("primaryMetric");
            String unit = (String) metric.get("scoreUnit");
            double score = number(metric.get("score"));
            double error = number(metric.get("scoreError"));
            Map<?, ?> pct = (Map<?, ?>) metric.get("scorePercentiles");
            boolean perOp = unit.endsWith("/op");
            double chosen;
            switch (stat) {
                case "mean":
                    chosen = score;
                    break;
                case "median":
                    chosen = number(pct.get("50.0"));
                    break;
                case "min":   // the fastest iteration: lowest time, or highest throughput
                    chosen = number(pct.get(perOp ? "0.0" : "100.0"));
                    break;
                default:
                    throw new IllegalArgumentException("--stat must be min, median or mean, not '" + stat + "'");
            }
            out.add(new Trial(name, params, perOp ? chosen * seconds(unit.substring(0, unit.length() - 3))
                    : 1 / (chosen / seconds(unit.substring(unit.indexOf('/') + 1))), score, error, unit));
        }
        return out;
    }

    /** The Markdown for all trials: conv tables, train-step table, then everything else. */
    static String markdown(List<Trial> trials, String stat) {
        StringBuilder md = new StringBuilder();
        List<Trial> conv = new ArrayList<>(), train = new ArrayList<>(), other = new ArrayList<>();
        for (Trial t : trials) {
            (t.benchmark.startsWith("Conv2dBench.") ? conv : t.benchmark.startsWith("TrainStepBench.") ? train : other).add(t);
        }
        for (String op : List.of("forward", "vjpInput", "vjpWeight")) {
            List<Trial> rows = new ArrayList<>();
            for (Trial t : conv) {
                if (t.benchmark.equals("Conv2dBench." + op)) {
                    rows.add(t);
                }
            }
            if (!rows.isEmpty()) {
                convTable(md, op, rows, stat);
            }
        }
        if (!train.isEmpty()) {
            trainTable(md, train, stat);
        }
        if (!other.isEmpty()) {
            otherTable(md, other);
        }
        return md.toString();
    }

    private static void convTable(StringBuilder md, String op, List<Trial> trials, String stat) {
        List<String> ours = oursImpls(trials);
        Map<String, Map<String, Double>> gflops = new LinkedHashMap<>();   // row key -> impl -> GFLOP/s
        Map<String, Conv2dDims> dims = new LinkedHashMap<>();
        trials.sort(Comparator.comparingDouble((Trial t) -> -width(t.param("conv")))
                .thenComparing(t -> t.param("conv")).thenComparing(t -> Integer.parseInt(t.param("batch"))));
        for (Trial t : trials) {
            String key = t.param("conv") + " N" + t.param("batch");
            Conv2dDims d = Cnn7Shapes.parse(t.param("conv"), Integer.parseInt(t.param("batch")));
            dims.put(key, d);
            gflops.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(t.param("impl"), d.flops() / t.seconds / 1e9);
        }
        md.append("### Conv2d ").append(op).append(" (GFLOP/s, ").append(stat).append(" over iterations)\n\n");
        md.append("| layer | N | C->K @HxW | width |");
        for (String impl : ours) {
            md.append(' ').append(impl).append(" |");
        }
        md.append(" PyTorch |");
        for (String impl : ours) {
            md.append(' ').append(impl).append(" / PyTorch |");
        }
        md.append('\n').append("|---|---|---|---|").append("---:|".repeat(2 * ours.size() + 1)).append('\n');
        for (Map.Entry<String, Map<String, Double>> row : gflops.entrySet()) {
            Conv2dDims d = dims.get(row.getKey());
            String conv = row.getKey().substring(0, row.getKey().indexOf(' '));
            md.append("| ").append(conv.substring(conv.indexOf('L'))).append(" | ").append(d.n()).append(" | ")
                    .append(Cnn7Shapes.label(d)).append(" | ").append(conv, 1, conv.indexOf('-')).append(" |");
            Map<String, Double> v = row.getValue();
            for (String impl : ours) {
                md.append(' ').append(fmt(v.get(impl))).append(" |");
            }
            md.append(' ').append(fmt(v.get(TORCH))).append(" |");
            for (String impl : ours) {
                md.append(' ').append(ratio(v.get(impl), v.get(TORCH))).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private static void trainTable(StringBuilder md, List<Trial> trials, String stat) {
        List<String> ours = oursImpls(trials);
        Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
        for (Trial t : trials) {
            String key = "| " + t.param("width") + " | " + t.param("batch") + " |";
            rows.computeIfAbsent(key, k -> new LinkedHashMap<>())
                    .put(t.param("impl"), Integer.parseInt(t.param("batch")) / t.seconds);
        }
        md.append("### Training step of the 7-layer CNN (images/s, ").append(stat).append(" over iterations)\n\n");
        md.append("| width | batch |");
        for (String impl : ours) {
            md.append(' ').append(impl).append(" |");
        }
        md.append(" PyTorch |");
        for (String impl : ours) {
            md.append(' ').append(impl).append(" / PyTorch |");
        }
        md.append('\n').append("|---|---|").append("---:|".repeat(2 * ours.size() + 1)).append('\n');
        for (Map.Entry<String, Map<String, Double>> row : rows.entrySet()) {
            md.append(row.getKey());
            Map<String, Double> v = row.getValue();
            for (String impl : ours) {
                md.append(' ').append(fmt(v.get(impl))).append(" |");
            }
            md.append(' ').append(fmt(v.get(TORCH))).append(" |");
            for (String impl : ours) {
                md.append(' ').append(ratio(v.get(impl), v.get(TORCH))).append(" |");
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private static void otherTable(StringBuilder md, List<Trial> trials) {
        md.append("### Other benchmarks (JMH mean score and 99.9% error)\n\n");
        md.append("| benchmark | parameters | score | error | unit |\n|---|---|---:|---:|---|\n");
        for (Trial t : trials) {
            StringBuilder params = new StringBuilder();
            t.params.forEach((k, v) -> params.append(params.length() == 0 ? "" : ", ").append(k).append('=').append(v));
            md.append("| ").append(t.benchmark).append(" | ").append(params).append(" | ")
                    .append(fmt(t.score)).append(" | ").append(fmt(t.error)).append(" | ").append(t.unit).append(" |\n");
        }
        md.append('\n');
    }

    /** Our implementations present in the trials, sorted, without PyTorch. */
    private static List<String> oursImpls(List<Trial> trials) {
        TreeSet<String> impls = new TreeSet<>();
        for (Trial t : trials) {
            impls.add(t.param("impl"));
        }
        impls.remove(TORCH);
        return new ArrayList<>(impls);
    }

    private static double width(String conv) {
        return Double.parseDouble(conv.substring(1, conv.indexOf('-')));
    }

    private static double seconds(String unit) {
        switch (unit) {
            case "s": return 1;
            case "ms": return 1e-3;
            case "us": return 1e-6;
            case "ns": return 1e-9;
            case "min": return 60;
            default: throw new IllegalArgumentException("unknown JMH time unit '" + unit + "'");
        }
    }

    private static double number(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        return Double.NaN;   // JMH writes "NaN" (a string) for undefined errors
    }

    private static String fmt(Double v) {
        if (v == null || v.isNaN()) {
            return "-";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3g", v);
    }

    private static String ratio(Double ours, Double torch) {
        if (ours == null || torch == null || ours.isNaN() || torch.isNaN()) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.2fx", ours / torch);
    }
}
