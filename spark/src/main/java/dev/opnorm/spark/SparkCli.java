package dev.opnorm.spark;

import dev.opnorm.experiments.cli.OpnormCli;
import picocli.CommandLine;

import java.util.Arrays;

/**
 * The {@code opnorm} command line with the Spark commands: {@code sweep}, and {@code reproduce --master}; every
 * other command line goes to {@link OpnormCli} unchanged. The launcher uses this entry point only when a command
 * needs Spark, so the others run without Spark's jars.
 */
public final class SparkCli {
    private SparkCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line without exiting; returns the exit code. */
    public static int run(String... args) {
        boolean sweep = args.length > 0 && args[0].equals("sweep");
        boolean sparkReproduce = args.length > 0 && args[0].equals("reproduce") && Arrays.stream(args)
                .anyMatch(a -> a.equals("--master") || a.startsWith("--master="));
        if (!sweep && !sparkReproduce) {
            return OpnormCli.run(args);
        }
        CommandLine cl = new CommandLine(sweep ? new SweepCommand() : new SparkReproduceCommand());
        cl.setCommandName("opnorm " + args[0]);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof IllegalStateException) {
                cmd.getErr().println("error: " + (ex.getMessage() != null ? ex.getMessage() : ex));
                if (Boolean.getBoolean("opnorm.stacktrace")) {
                    ex.printStackTrace(cmd.getErr());
                }
                return 2;
            }
            throw ex;
        });
        return cl.execute(Arrays.copyOfRange(args, 1, args.length));
    }
}
