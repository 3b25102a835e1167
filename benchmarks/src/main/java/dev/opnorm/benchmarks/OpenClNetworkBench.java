package dev.opnorm.benchmarks;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.gpu.net.DeviceDdRegularizer;
import dev.opnorm.gpu.net.DeviceLinearization;
import dev.opnorm.gpu.net.DeviceModel;
import dev.opnorm.gpu.net.DeviceSgdTrainer;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.optim.Sgd;
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
 * Whole-network work on the OpenCL device with the 7-layer CNN (CIFAR shape 3x32x32, 10 classes),
 * device-resident ({@code dev.opnorm.gpu.net}):
 * <ul>
 *   <li>{@code powerIterationStep}: one iteration of the per-example (2,2) power method on the EVAL
 *       linearization - w = J v, per-example norms, u = w/||w||, z = J^T u, v = z/||z|| - including its
 *       one transfer (batch floats down), as {@code DevicePowerMethod} runs it;</li>
 *   <li>{@code trainingStep}: one d.d. SGD training step (TRAIN forward, cross-entropy, backward,
 *       momentum update, BN running statistics) on a batch already on the device, including its one
 *       transfer (the loss and the correct count).</li>
 *   <li>{@code pqIterationStep}: one iteration of the device (p,q) iteration ({@code DeviceOperatorNorm})
 *       for (inf,2) - w = J v, per-example ||w||_2 and ||v||_inf, u = D_2(w), z = J^T u, ||z||_inf,
 *       v = N_inf(z) = sign(z) - including its one transfer (3 floats per example down);</li>
 *   <li>{@code ddSnrTrainingStep}: {@code trainingStep} plus the sum-of-squares d.d. SNR
 *       ({@code DeviceDdRegularizer}, 10 power iterations, TRAIN penalty mode) with its transfers (the
 *       start vectors up, per-example norms down).</li>
 * </ul>
 * All end in a blocking download, so the time covers the device work. Training steps change the
 * parameters (as real training does); the power iteration keeps normalizing its vector.
 * Example: {@code java -cp ... org.openjdk.jmh.Main OpenClNetworkBench -p width=0.25}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1) // the ./bench launcher adds the JVM flags
@State(Scope.Benchmark)
public class OpenClNetworkBench {

    @Param({"0.25", "1.0"})
    double width;

    @Param({"128"})
    int batch;

    private OpenCl cl;
    private OpenClOps ops;
    private DeviceModel model;
    private DeviceLinearization lin;
    private DeviceSgdTrainer trainer;
    private DeviceTensor x, v, w, z, ss;
    private DeviceInts labels;
    private float[] ssHost;
    private float[] pqHost;
    private final DeviceDdRegularizer ddSnr = DeviceDdRegularizer.sumOfSquares(0.02, 0.1, 10, BnMode.TRAIN);
    private long regSeed;

    @Setup
    public void setup() {
        cl = OpenCl.shared();
        ops = cl.ops();
        Sequential net = Cnn7.create(width, 3, 10, 7L);
        model = new DeviceModel(cl, net);
        Random rnd = new Random(99);
        float[] data = new float[batch * 3 * 32 * 32];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rnd.nextGaussian();
        }
        int[] y = new int[batch];
        for (int i = 0; i < batch; i++) {
            y[i] = rnd.nextInt(10);
        }
        x = DeviceTensor.of(cl, Tensor.of(batch, 3, 32, 32, data));
        labels = DeviceInts.of(cl, y);
        lin = model.linearize(x, BnMode.EVAL);
        v = DeviceTensor.of(cl, Tensor.of(batch, 3, 32, 32, data.clone()));
        w = DeviceTensor.allocate(cl, lin.outShape());
        z = DeviceTensor.allocate(cl, lin.inShape());
        ss = DeviceTensor.allocate(cl, 3 * batch);
        ssHost = new float[batch];
        pqHost = new float[3 * batch];
        trainer = new DeviceSgdTrainer(model, Sgd.Config.of(0.01).withMomentum(0.9).withWeightDecay(5e-4));
        cl.finish();
    }

    @TearDown
    public void tearDown() {
        cl.finish();
        trainer.close();
        lin.close();
        for (DeviceTensor t : new DeviceTensor[]{x, v, w, z, ss}) {
            t.close();
        }
        labels.close();
        model.close();
    }

    @Benchmark
    public float powerIterationStep() {
        int n = lin.inShape().perExample(), m = lin.outShape().perExample();
        lin.jvp(v, w);
        ops.dotRows(ss, 0, w, w, batch, m);
        ss.download(ssHost, 0, 0, batch);
        ops.scaleRowsInvSqrt(w, w, ss, 0, batch, m);
        lin.vjp(w, z);
        ops.dotRows(ss, batch, z, z, batch, n);
        ops.scaleRowsInvSqrt(v, z, ss, batch, batch, n);
        return ssHost[0];
    }

    @Benchmark
    public double trainingStep() {
        return trainer.step(x, labels).loss();
    }

    @Benchmark
    public float pqIterationStep() {
        int n = lin.inShape().perExample(), m = lin.outShape().perExample();
        lin.jvp(v, w);
        ops.rowNorms(ss, 0, w, batch, m, 2);
        ops.rowNorms(ss, batch, v, batch, n, Double.POSITIVE_INFINITY);
        ss.download(pqHost, 0, 0, 3 * batch);
        ops.dualRows(w, w, batch, m, 2);
        lin.vjp(w, z);
        ops.rowNorms(ss, 2 * batch, z, batch, n, Double.POSITIVE_INFINITY);
        ops.dualRows(v, z, batch, n, 1);
        return pqHost[0];
    }

    @Benchmark
    public double ddSnrTrainingStep() {
        return trainer.step(x, labels, ddSnr.term(model, ++regSeed)).loss();
    }
}
