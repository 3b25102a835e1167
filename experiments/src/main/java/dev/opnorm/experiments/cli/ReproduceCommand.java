package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.reproduce.Profile;
import dev.opnorm.experiments.reproduce.Reproduction;
import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.FiniteChecks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code opnorm reproduce}: the paper's experiments end to end ({@link Reproduction}): data, the standard network,
 * the training eps, AT / global SNR / d.d. SNR / d.d. ONR with accuracy-matched constants, the interpolation,
 * Fig. 2-5 and 7, Table 2, claims.json, report.html and run.json. Resumable: finished phases are skipped.
 */
@Command(name = "reproduce",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
                "Reproduces the paper end to end: trains standard, AT (l2 PGA), global SNR,",
                "d.d. SNR and d.d. ONR (p = inf) networks, chooses eps_train and the",
                "regularization constants as the paper does, and writes Fig. 2-5, Fig. 7 and",
                "Table 2 (CSV + PNG), claims.json, report.html and run.json into --out.",
                "A killed run resumes where it stopped when started again with the same flags; on",
                "SIGINT / SIGTERM the training in progress writes its checkpoint first (exit 143).",
                "",
                "Profiles:",
                "  quick  Fashion-MNIST padded to 32x32, CNN width 0.25, 2000 training images,",
                "         2 epochs, the paper's settings (10 PGA iterations in AT and the",
                "         evaluation, 10 power iterations in the d.d. regularizers), 2 lambda",
                "         candidates each, Table 2 on all 10,000 test images, curves on 1000,",
                "         analyses on 50 points; about 29 minutes on 2 idle AVX2 cores",
                "         (measured, seed 0).",
                "  full   all 60,000 Fashion-MNIST training images, 15 epochs, 3 seeds for",
                "         Fig. 3, Fig. 2 and Table 2 (days on 2 cores; an estimate).",
                "  paper  CIFAR-10 from --data (cifar-10-batches-bin), width 1.0, the full",
                "         training set, 50 epochs, 10-iteration AT, curves on 2000 test images,",
                "         analyses on 200 points (a GPU or a long run).",
                "  smoke  tiny sizes for tests (seconds; results meaningless)."},
        footer = {"", "Examples:",
                "  ./opnorm reproduce                         quick profile into runs/reproduce",
                "  ./opnorm reproduce --profile paper --data ~/cifar-10-batches-bin --out runs/paper",
                "  ./opnorm reproduce --stop-after train-at   stop early; run again to continue"})
public final class ReproduceCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EngineOptions engine;

    @Option(names = "--profile", defaultValue = "quick", description = "quick, full, paper or smoke. Default: ${DEFAULT-VALUE}.")
    String profile;

    @Option(names = "--data", description = "Data folder: Fashion-MNIST IDX files (default "
            + "/usr/share/datasets/fashion-mnist) or, for --profile paper, CIFAR-10's cifar-10-batches-bin (required).")
    Path data;

    @Option(names = "--out", defaultValue = "runs/reproduce", description = "Output folder (resumed if it holds an "
            + "unfinished run with the same settings; owned by this run while it runs, a lock file). A folder with "
            + "other content is refused unless --force. Default: ${DEFAULT-VALUE}.")
    Path out;

    @Option(names = "--force", description = "Write into an --out that holds files other than a reproduction's.")
    boolean force;

    @Option(names = "--stop-after", paramLabel = "PHASE", description = "Stop after this phase (one of: data, "
            + "train-standard, choose-eps, train-at, train-global-snr, train-dd-snr, train-dd-onr, "
            + "train-interpolation, train-seeds, fig3, fig2, fig4, fig5, fig7, table2, certify, report).")
    String stopAfter;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one size of the profile "
            + "(repeatable), e.g. --set epochs=5 --set trainPerClass=500 --set epsGrid=0.5,1,2; keys: the "
            + "components of dev.opnorm.experiments.reproduce.Profile.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() throws IOException {
        Profile p = Profile.named(profile).with(overrides);
        if (stopAfter != null && !Reproduction.PHASES.contains(stopAfter)) {
            throw new IllegalArgumentException("--stop-after must be one of " + Reproduction.PHASES + ", got '"
                    + stopAfter + "'");
        }
        Path dir;
        if (p.dataset().equals("cifar10")) {
            CliSupport.require(data != null, "--data is required with --profile " + p.name()
                    + ": the folder cifar-10-batches-bin of CIFAR-10's binary version");
            dir = data;
        } else {
            dir = CliSupport.dataDir(data);
        }
        CliSupport.require(java.nio.file.Files.isDirectory(dir), "--data " + dir + " is not a folder");
        // a re-run continues the reproduction in --out (its phases/ store); any other content is refused
        try (RunFolder folder = RunFolder.claim(out, "--out", "reproduce",
                force ? RunFolder.Policy.REPLACE : RunFolder.Policy.RESUME, Reproduction.RUN_ID,
                spec.commandLine().getErr())) {
            return reproduce(p, dir, folder);
        }
    }

    private Integer reproduce(Profile p, Path dir, RunFolder folder) throws IOException {
        Kernels kernels = engine.install().kernels();
        FiniteChecks.setEnabled(true);
        PrintWriter err = spec.commandLine().getErr();
        PrintStream log = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                err.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                err.write(new String(b, off, len, StandardCharsets.UTF_8));
            }

            @Override
            public void flush() {
                err.flush();
            }
        }, true, StandardCharsets.UTF_8);
        Reproduction r = new Reproduction(p, out, dir, engine.seed, kernels, engine.effectiveThreads(), log)
                .stopAfter(stopAfter);
        // SIGINT / SIGTERM: the training in progress checkpoints at its next step boundary; the hook waits for
        // this command to end a bounded time before the folder is released
        CountDownLatch settled = new CountDownLatch(1);
        folder.onShutdown(() -> {
            r.requestStop();
            try {
                settled.await(TrainCommand.STOP_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<String> ran;
        try {
            ran = r.run();
        } catch (Reproduction.Stopped e) {
            log.flush();
            err.println("interrupted: " + e.getMessage());
            err.flush();
            return TrainCommand.EXIT_INTERRUPTED;
        } finally {
            settled.countDown();
        }
        log.flush();
        PrintWriter o = spec.commandLine().getOut();
        o.println("reproduce (" + p.name() + "): ran " + (ran.isEmpty() ? "no phase (all finished earlier)"
                : String.join(", ", ran)) + "; outputs in " + out);
        o.flush();
        return 0;
    }
}
