package dev.opnorm.spark;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.FiniteChecks;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.Map;

/** The Spark context of a sweep or a reproduction, and the engine set-up every task shares. */
final class SparkSupport {
    /** Retries of a failed task (an executor lost, a node down); a retried task resumes from the stored state. */
    static final int DEFAULT_MAX_FAILURES = 4;

    private static Kernels kernels;
    private static int kernelThreads;

    private SparkSupport() {
    }

    /**
     * A context on {@code master} whose tasks each get {@code threads} cores ({@code spark.task.cpus}), with task
     * retries and without speculative copies (two copies of a unit would write the same files).
     *
     * @param conf further Spark settings ({@code --conf KEY=VALUE}), applied last
     */
    static JavaSparkContext context(String master, String app, int threads, Map<String, String> conf) {
        SparkConf c = new SparkConf().setMaster(master).setAppName(app)
                .set("spark.task.cpus", Integer.toString(threads))
                .set("spark.task.maxFailures", Integer.toString(DEFAULT_MAX_FAILURES))
                .set("spark.speculation", "false")
                .set("spark.ui.enabled", "false");
        // the driver's JDK flags (Vector API, native access, opened packages) are the executors' too, unless
        // spark-submit or spark-defaults.conf set theirs
        String flags = String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
                .stream().filter(a -> a.startsWith("--add-") || a.startsWith("--enable-native-access")
                        || a.startsWith("-Djdk.reflect") || a.startsWith("-Dio.netty")).toList());
        if (!flags.isEmpty() && !c.contains("spark.executor.extraJavaOptions")) {
            c.set("spark.executor.extraJavaOptions", flags);
        }
        if (master.startsWith("local")) {
            // everything in this JVM: no need to resolve this host's name
            c.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
        }
        conf.forEach(c::set);
        JavaSparkContext sc = new JavaSparkContext(c);
        sc.setLogLevel(conf.getOrDefault("spark.opnorm.logLevel", "WARN"));
        return sc;
    }

    /** The CPU kernels with {@code threads} workers, installed once per JVM as the engine default. */
    static synchronized Kernels kernels(int threads) {
        if (kernels == null || kernelThreads != threads) {
            kernels = new VectorKernels(threads);
            kernelThreads = threads;
            Engine.setKernels(kernels);
            FiniteChecks.setEnabled(true);
        }
        return kernels;
    }

    /** The thread count for {@code --threads N} (0 = all cores of this machine). */
    static int threads(int option, String flag) {
        if (option < 0) {
            throw new IllegalArgumentException(flag + " must be >= 0 (0 = all cores), got " + option);
        }
        return option == 0 ? Runtime.getRuntime().availableProcessors() : option;
    }
}
