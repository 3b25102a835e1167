package dev.opnorm.spark;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.opnorm.spark.SparkTestSupport.cli;
import static dev.opnorm.spark.SparkTestSupport.hashes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Spark standalone cluster on loopback: a Master and two Workers (one core each) as JVMs of their own, started
 * from the test class path; a sweep of two runs on it (one executor per worker) writes what the sweep writes in
 * this process. Waits only for events (the master's port accepting, the job's end), never for a time.
 */
class StandaloneClusterTest {
    @TempDir
    static Path tmp;
    /** The daemons' logs and the workers' folders (executor logs): kept under target/ to read after a failure. */
    static Path logs;
    static final List<Process> processes = new ArrayList<>();
    static String master;

    static final List<String> GRID = List.of("sweep", "--method", "standard", "--seed", "3,4", "--width", "0.0625",
            "--epochs", "1", "--set", "train_subset=100", "--set", "test_subset=50", "--set", "batch=25",
            "--set", "eval_count=20", "--set", "eval_eps=0,1", "--set", "eval_iterations=3", "--threads", "1");

    @BeforeAll
    static void startClusterAndRunTheReference() throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        master = "spark://127.0.0.1:" + port;
        logs = Path.of("target", "standalone-cluster").toAbsolutePath();
        SharedStore.deleteQuietly(logs);
        Files.createDirectories(logs);
        // Workers build executor command lines from SPARK_HOME/jars; the classes come from extraClassPath instead
        Path home = Files.createDirectories(tmp.resolve("spark-home/jars")).getParent();
        processes.add(start("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(port), "--webui-port", "0"), home));
        // the workers retry their registration until the master listens: all three start at once
        for (int w = 1; w <= 2; w++) {
            Path work = Files.createDirectories(logs.resolve("worker" + w));
            processes.add(start("worker" + w, List.of("org.apache.spark.deploy.worker.Worker", "--host",
                    "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", "0", "--work-dir",
                    work.toString(), master), home));
        }
        // the in-process reference while the daemons start
        List<String> a = new ArrayList<>(GRID);
        a.addAll(List.of("--out", tmp.resolve("plain").toString()));
        cli(a);
        awaitPort(port);
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : processes) {
            p.waitFor();
        }
    }

    static String classPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    private static Process start(String name, List<String> main, Path sparkHome) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        for (String f : System.getProperty("opnorm.spark.opens", "").split(" ")) {
            if (!f.isBlank()) {
                cmd.add(f);
            }
        }
        cmd.addAll(List.of("-cp", classPath()));
        cmd.addAll(main);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb.start();
    }

    /** Until the master accepts connections (or died: then its log says why). */
    private static void awaitPort(int port) throws InterruptedException, IOException {
        while (true) {
            if (!processes.get(0).isAlive()) {
                throw new IllegalStateException("the Spark master exited: " + Files.readString(logs.resolve("master.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
    }

    @Test
    void aSweepOnTwoWorkersWritesWhatTheSweepWritesInProcess() throws IOException {
        Path plain = tmp.resolve("plain"), cluster = tmp.resolve("cluster");
        List<String> b = new ArrayList<>(GRID);
        b.addAll(List.of("--out", cluster.toString(), "--master", master,
                "--conf", "spark.executor.extraClassPath=" + classPath(),
                "--conf", "spark.executor.memory=768m", "--conf", "spark.cores.max=2",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1"));
        cli(b);
        assertEquals(Files.readString(plain.resolve("sweep.csv")), Files.readString(cluster.resolve("sweep.csv")));
        assertEquals(hashes(plain, "model.safetensors"), hashes(cluster, "model.safetensors"));
        assertEquals(2, hashes(cluster, "model.safetensors").size());
        // the runs ran in executors that the workers started (their application folders), not in this JVM
        try (var apps = Files.list(logs.resolve("worker1")); var apps2 = Files.list(logs.resolve("worker2"))) {
            assertTrue(apps.count() + apps2.count() >= 1, "no executor was started by the workers");
        }
    }
}
