package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunComparison;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code opnorm compare RUN_A RUN_B}: do two runs agree? Exit 0 when they do, 1 when they do not. */
@Command(name = "compare",
        mixinStandardHelpOptions = true,
        description = {"Compare two run folders file by file (CSV cells numerically, other files by content).",
                "Same backend and options (any thread count): results must be bit-identical.",
                "Otherwise (e.g. cpu vs opencl, or other options): within --rtol relative.",
                "run.json is read as JSON: the options that differ are listed (--out, --resume and",
                "--force do not count); a run whose status says it did not finish is a mismatch.",
                "Timing columns (" + "seconds, images_per_s, cpu_seconds, ...) are not compared, and",
                "the lock file and temporary files of interrupted writes are ignored. A folder",
                "without result files is an error (exit 2).",
                "Exit code 0 when everything agrees as expected, 1 on a mismatch."})
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_A", description = "First run folder (holds run.json).")
    Path a;

    @Parameters(index = "1", paramLabel = "RUN_B", description = "Second run folder.")
    Path b;

    @Option(names = "--rtol", defaultValue = "1e-4", description = "Relative tolerance across backends. Default: ${DEFAULT-VALUE}.")
    double rtol;

    @Option(names = "--atol", defaultValue = "1e-9", description = "Absolute tolerance for values near zero. Default: ${DEFAULT-VALUE}.")
    double atol;

    @Option(names = "--ignore-column", paramLabel = "NAME",
            description = "Skip this CSV column (repeatable), e.g. iterations, which may differ across backends while the values agree.")
    java.util.List<String> ignoredColumns = new java.util.ArrayList<>();

    @Option(names = "--top", defaultValue = "5", description = "Largest differences listed per file. Default: ${DEFAULT-VALUE}.")
    int top;

    @Override
    public Integer call() throws IOException {
        if (!(rtol >= 0) || !(atol >= 0) || top < 0) {
            throw new IllegalArgumentException("--rtol, --atol and --top must be >= 0");
        }
        RunComparison.Report r = RunComparison.compare(a, b, rtol, atol, top, java.util.Set.copyOf(ignoredColumns));
        PrintWriter out = spec.commandLine().getOut();
        out.println("A: " + a);
        out.println("B: " + b);
        out.println("expected: " + (r.expect() == RunComparison.Expect.BIT_IDENTICAL ? "bit-identical (same backend and options)"
                : String.format(Locale.ROOT, "within rtol %.1e, atol %.1e", rtol, atol)));
        r.notes().forEach(n -> out.println("  note: " + n));
        int w = Math.max(4, r.files().stream().mapToInt(f -> f.file().length()).max().orElse(4));
        out.printf(Locale.ROOT, "%-" + w + "s  %-34s %10s %12s%n", "file", "status", "values", "max rel diff");
        for (RunComparison.FileResult f : r.files()) {
            out.printf(Locale.ROOT, "%-" + w + "s  %-34s %10d %12.3e%n", f.file(), f.status(), f.compared(), f.maxRelative());
            for (RunComparison.Difference d : f.largest()) {
                out.printf(Locale.ROOT, "%" + w + "s    line %d, %s: %.9g vs %.9g (rel %.2e)%n", "", d.line(), d.column(),
                        d.a(), d.b(), d.relative());
            }
        }
        out.println(r.ok() ? "AGREE" : "MISMATCH");
        out.flush();
        return r.ok() ? 0 : 1;
    }
}
