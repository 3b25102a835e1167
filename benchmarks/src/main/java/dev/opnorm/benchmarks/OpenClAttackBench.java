package dev.opnorm.benchmarks;

import dev.opnorm.nn.layers.PlacedModel;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.PgaBackend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One whole l_p PGA attack (10 iterations, 1 random start, cross-entropy, BatchNorm EVAL) of a batch of
 * the 7-layer CNN (3x32x32, 10 classes) on the OpenCL device (robust's {@code Pga.run} on {@code PgaBackend.placed}): the start's upload,
 * 11 forward passes, 10 VJPs and steps, and the statistics download that ends it (so the time covers
 * the device work). Divide by 10 for the cost of one PGA iteration.
 * Example: {@code java -cp ... org.openjdk.jmh.Main OpenClAttackBench -p width=0.25 -p p=2}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1) // the ./bench launcher adds the JVM flags
@State(Scope.Benchmark)
public class OpenClAttackBench {

    @Param({"0.25", "1.0"})
    double width;

    @Param({"128"})
    int batch;

    @Param({"1", "2", "inf"})
    String p;

    private OpenCl cl;
    private PlacedModel<DeviceTensor, DeviceInts> model;
    private Pga attack;
    private PgaBackend.Engine<DeviceTensor, DeviceInts, DeviceTensor> engine;
    private DeviceTensor x;
    private DeviceInts labels;

    @Setup
    public void setup() {
        cl = OpenCl.shared();
        Sequential net = Cnn7.create(width, 3, 10, 7L);
        model = new PlacedModel<>(cl.ops(), net);
        Random rnd = new Random(99);
        float[] data = new float[batch * 3 * 32 * 32];
        for (int i = 0; i < data.length; i++) {
            data[i] = 2 * rnd.nextFloat() - 1;
        }
        int[] y = new int[batch];
        for (int i = 0; i < batch; i++) {
            y[i] = rnd.nextInt(10);
        }
        x = DeviceTensor.of(cl, Tensor.of(batch, 3, 32, 32, data));
        labels = DeviceInts.of(cl, y);
        double pv = p.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(p);
        double eps = pv == 1 ? 10 : pv == 2 ? 1 : 0.03;
        attack = Pga.lp(pv, eps).iterations(10).seed(1);
        engine = PgaBackend.placed(model);
        cl.finish();
    }

    @TearDown
    public void tearDown() {
        cl.finish();
        x.close();
        labels.close();
        model.close();
    }

    @Benchmark
    public int pgaAttack() {
        return attack.run(engine, x, x.shape(), labels, Pga.Target.LABELS, 0, null, null).predictions()[0];
    }
}
