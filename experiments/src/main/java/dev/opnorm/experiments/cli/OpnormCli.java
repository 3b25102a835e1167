package dev.opnorm.experiments.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code opnorm} command line. Each subcommand is its own class; register new ones in
 * {@code subcommands} below. Run through the {@code ./opnorm} launcher at the repository root.
 */
@Command(name = "opnorm",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Data-dependent operator norms of neural network Jacobians, adversarial attacks and training.",
        subcommands = {
                CommandLine.HelpCommand.class,
                DevicesCommand.class,
                NormCommand.class,
                CompareCommand.class,
                SeedsCommand.class,
                MatrixNormCommand.class,
                AttackCommand.class,
                CertifyCommand.class,
                EvalCommand.class,
                TrainCommand.class,
                AnalyzeCommand.class,
                ReproduceCommand.class,
        })
public final class OpnormCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line without exiting the JVM; returns the exit code (used by tests). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** Exit code when the heap ran out. */
    public static final int EXIT_OUT_OF_MEMORY = 4;

    /**
     * An exception's message with its reason: the JDK's file exceptions carry only the path as their message
     * ("error: /x/y" says nothing), so the reason is added.
     */
    static String message(Exception ex) {
        if (ex instanceof java.nio.file.NoSuchFileException e) {
            return e.getFile() + ": no such file or folder";
        }
        if (ex instanceof java.nio.file.AccessDeniedException e) {
            return e.getFile() + ": permission denied";
        }
        if (ex instanceof java.nio.file.FileAlreadyExistsException e) {
            return e.getFile() + ": already exists";
        }
        if (ex instanceof java.nio.file.FileSystemException e) {
            return (e.getFile() != null ? e.getFile() + ": " : "") + (e.getReason() != null ? e.getReason() : e);
        }
        return ex.getMessage() != null ? ex.getMessage() : ex.toString();
    }

    /** The configured command line (tests redirect its output streams). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new OpnormCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        CommandLine.IExecutionStrategy run = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return run.execute(parseResult);
            } catch (OutOfMemoryError e) {
                // what was allocated is garbage now: say what to lower instead of a stack trace
                CommandLine cmd = parseResult.subcommand() != null ? parseResult.subcommand().commandSpec().commandLine()
                        : parseResult.commandSpec().commandLine();
                cmd.getErr().println("error: out of memory (" + e.getMessage() + "; the Java heap's limit is "
                        + dev.opnorm.nn.models.Models.bytes(Runtime.getRuntime().maxMemory()) + "): lower --batch, "
                        + "--count or the --model width, or raise the heap: " + CliSupport.HEAP_HINT);
                cmd.getErr().flush();
                return EXIT_OUT_OF_MEMORY;
            }
        });
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof IllegalStateException) {
                cmd.getErr().println("error: " + message(ex));
                if (Boolean.getBoolean("opnorm.stacktrace")) {
                    ex.printStackTrace(cmd.getErr());
                }
                return 2;
            }
            throw ex;
        });
        return cl;
    }
}
