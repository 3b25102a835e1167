package dev.opnorm.experiments.cli;

import dev.opnorm.linalg.ExactNorms;
import dev.opnorm.linalg.LinearMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.io.Npy;
import dev.opnorm.linalg.io.NpyArray;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.ejml.data.DMatrixRMaj;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code opnorm matrix-norm --p P --q Q FILE.npy}: the (p,q) operator norm of a matrix stored as a
 * NumPy .npy file. Prints the exact value where one is known (Table 1 closed forms; vertex enumeration
 * for the NP-hard cells up to 20 dimensions), the value of the (p,q) iteration (a lower bound) and the
 * relative gap (exact - iteration) / exact.
 */
@Command(name = "matrix-norm",
        mixinStandardHelpOptions = true,
        description = {
                "(p,q) operator norm max_{||v||_p=1} ||A v||_q of a 2-D float32/float64 .npy matrix A:",
                "the exact value where known, the power-type iteration's value (a lower bound) and their relative gap."},
        footerHeading = "%nExamples:%n",
        footer = {"  opnorm matrix-norm --p 2 --q 2 weights.npy",
                "  opnorm matrix-norm --p inf --q 2 --restarts 20 --format json A.npy"})
public final class MatrixNormCommand implements Callable<Integer> {

    /** Output formats. */
    public enum Format { text, json }

    /** Parses "inf" or a number >= 1 (picocli reports the message as a usage error). */
    static final class ExponentConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            try {
                return Norms.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--p", required = true, converter = ExponentConverter.class, paramLabel = "P",
            description = "Domain norm: 1, 2, inf or any number >= 1.")
    double p;

    @Option(names = "--q", required = true, converter = ExponentConverter.class, paramLabel = "Q",
            description = "Co-domain norm: 1, 2, inf or any number >= 1.")
    double q;

    @Option(names = "--format", defaultValue = "text", description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(names = "--restarts", defaultValue = "10", description = "Iteration runs from different random starts, best kept (default: ${DEFAULT-VALUE}).")
    int restarts;

    @Option(names = "--iterations", defaultValue = "1000", description = "Most iterations per run (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--tol", defaultValue = "1e-7", description = "Relative change that stops a run (default: ${DEFAULT-VALUE}).")
    double tol;

    @Option(names = "--alpha", defaultValue = "inf", converter = AlphaConverter.class,
            description = "Step of the projected iteration (Eq. 11); inf = power-method limit (Eq. 12) (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the random starting vectors (default: ${DEFAULT-VALUE}).")
    long seed;

    @Parameters(index = "0", paramLabel = "FILE.npy", description = "The matrix: a 2-D .npy array (float32 or float64).")
    Path file;

    /** Parses "inf" or a positive number. */
    static final class AlphaConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            String v = value.trim().toLowerCase(Locale.ROOT);
            if (v.equals("inf") || v.equals("infinity")) return Double.POSITIVE_INFINITY;
            try {
                double a = Double.parseDouble(v);
                if (a > 0) return a;
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new CommandLine.TypeConversionException("invalid alpha '" + value + "': expected a number > 0 or 'inf'");
        }
    }

    @Override
    public Integer call() throws IOException {
        // each flag checked here, under its own name (OperatorNorm.Options would name its fields instead)
        if (iterations < 1) throw new IllegalArgumentException("--iterations must be >= 1, got " + iterations);
        if (!(tol >= 0) || Double.isInfinite(tol)) throw new IllegalArgumentException("--tol must be finite and >= 0, got " + tol);
        if (restarts < 1) throw new IllegalArgumentException("--restarts must be >= 1, got " + restarts);
        OperatorNorm.Options options = new OperatorNorm.Options(iterations, tol, alpha, restarts, seed);
        if (Files.isDirectory(file)) throw new IllegalArgumentException(file + ": is a folder, not a .npy file");
        NpyArray array;
        try {
            array = Npy.read(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException(file + ": cannot read (" + OpnormCli.message(e) + ")", e);
        }
        DMatrixRMaj a;
        try {
            a = array.toMatrix();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        for (double x : a.data) {
            if (!Double.isFinite(x)) throw new IllegalArgumentException(file + ": the matrix has a non-finite entry (" + x + ")");
        }
        Optional<ExactNorms.Exact> exact = ExactNorms.of(a, p, q);
        OperatorNorm.Result est = OperatorNorm.estimate(LinearMaps.of(a), p, q, options);
        Double gap = exact.map(e -> e.value() == 0 ? (est.value() == 0 ? 0.0 : Double.NaN) : (e.value() - est.value()) / e.value()).orElse(null);

        PrintWriter out = spec.commandLine().getOut();
        if (format == Format.json) {
            out.println("{"
                    + "\"file\": " + json(file.toString())
                    + ", \"rows\": " + a.numRows + ", \"cols\": " + a.numCols
                    + ", \"dtype\": " + json(array.descr())
                    + ", \"p\": " + json(Norms.format(p)) + ", \"q\": " + json(Norms.format(q))
                    + ", \"exact\": " + exact.map(e -> num(e.value())).orElse("null")
                    + ", \"exact_method\": " + exact.map(e -> json(e.method())).orElse("null")
                    + ", \"exact_unknown_reason\": " + (exact.isPresent() ? "null" : json(ExactNorms.whyUnknown(a, p, q)))
                    + ", \"iteration\": " + num(est.value())
                    + ", \"iterations\": " + est.iterations()
                    + ", \"converged\": " + est.converged()
                    + ", \"restarts\": " + restarts
                    + ", \"best_restart\": " + est.restart()
                    + ", \"alpha\": " + json(Norms.format(alpha))
                    + ", \"seed\": " + seed
                    + ", \"relative_gap\": " + (gap == null ? "null" : num(gap))
                    + "}");
        } else {
            out.printf(Locale.ROOT, "matrix:       %s (%dx%d, %s)%n", file, a.numRows, a.numCols, array.descr());
            out.printf(Locale.ROOT, "(p,q):        (%s,%s)%n", Norms.format(p), Norms.format(q));
            if (exact.isPresent()) {
                out.printf(Locale.ROOT, "exact:        %.12g  (%s)%n", exact.get().value(), exact.get().method());
            } else {
                out.printf(Locale.ROOT, "exact:        unknown (%s)%n", ExactNorms.whyUnknown(a, p, q));
            }
            out.printf(Locale.ROOT, "iteration:    %.12g  (lower bound; best of %d runs, %d iterations, %s, alpha %s, seed %d)%n",
                    est.value(), restarts, est.iterations(), est.converged() ? "converged" : "NOT converged", Norms.format(alpha), seed);
            out.printf(Locale.ROOT, "relative gap: %s%n", gap == null ? "n/a" : String.format(Locale.ROOT, "%.3e", gap));
        }
        out.flush();
        return 0;
    }

    private static String num(double x) {
        return Double.isFinite(x) ? Double.toString(x) : "null";
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
