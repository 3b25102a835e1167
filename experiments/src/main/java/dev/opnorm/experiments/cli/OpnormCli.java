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
                MatrixNormCommand.class,
                AttackCommand.class,
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

    /** The configured command line (tests redirect its output streams). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new OpnormCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof IllegalStateException) {
                cmd.getErr().println("error: " + ex.getMessage());
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
