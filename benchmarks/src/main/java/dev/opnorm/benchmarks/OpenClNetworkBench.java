package dev.opnorm.benchmarks;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.PlacedBatchOps;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.TrainOps;
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
 * device-resident (nn's {@code PlacedModel} on {@code OpenClOps}):
 * <ul>
 *   <li>{@code powerMethod10}: linalg's per-example (2,2) power method ({@code PowerMethod.sigmaMax} on
 *       {@code PlacedLinearization.asBatchMap()} and {@code PlacedBatchOps.of(PlacedModel)}), {@value #ITERATIONS}
 *       iterations from given start vectors - per iteration w = J v, per-example norms, u = w/||w||,
 *       z = J^T u, v = z/||z|| and one transfer (batch floats down); plus the start vectors' upload;</li>
 *   <li>{@code trainingStep}: one d.d. SGD training step (TRAIN forward, cross-entropy, backward,
 *       momentum update, BN running statistics) on a batch already on the device, including its one
 *       transfer (the loss and the correct count).</li>
 *   <li>{@code pqIteration10}: linalg's (p,q) iteration ({@code OperatorNorm.estimate}, same backend) for
 *       (inf,2), {@value #ITERATIONS} iterations from given start vectors - per iteration w = J v,
 *       per-example ||w||_2 and ||v||_inf, u = D_2(w), z = J^T u, ||z||_inf, v = N_inf(z) = sign(z), the
 *       best iterate's row copy, and one transfer (3 floats per example down);</li>
 *   <li>{@code ddSnrTrainingStep}: {@code trainingStep} plus the sum-of-squares d.d. SNR
 *       (robust's {@code Objective} with its {@code DdOperatorNorm} on {@code PlacedTrainOps.engine}, 10 power
 *       iterations, TRAIN penalty mode)
 *       with its transfers (the start vectors up, per-example norms down).</li>
 * </ul>
 * All end in a blocking download, so the time covers the device work. Training steps change the
 * parameters (as real training does). The iterations' time over {@value #ITERATIONS} is the cost of one
 * iteration plus a share of the start vectors' upload.
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
    private PlacedModel<DeviceTensor, DeviceInts> model;
    private PlacedLinearization<DeviceTensor> lin;
    private TrainOps<DeviceTensor, DeviceInts, Grads<DeviceTensor>> train;
    private Sgd sgd;
    private TrainOps.Step<DeviceTensor, DeviceInts, Grads<DeviceTensor>> standard, regularized;
    static final int ITERATIONS = 10;

    private DeviceTensor x;
    private DeviceInts labels;
    private float[] start;
    private final DdOperatorNorm ddSnr = DdOperatorNorm.sumOfSquares(0.02, 0.1, 10, BnMode.TRAIN);
    private long regSeed;

    @Setup
    public void setup() {
        cl = OpenCl.shared();
        Sequential net = Cnn7.create(width, 3, 10, 7L);
        model = new PlacedModel<>(cl.ops(), net);
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
        lin = model.linearize(x, x.shape(), BnMode.EVAL);
        start = data.clone();
        sgd = new Sgd(net.params(), Sgd.Config.of(0.01).withMomentum(0.9).withWeightDecay(5e-4));
        train = PlacedTrainOps.engine(model, sgd).ops();
        standard = train.step(Objective.standard());
        regularized = train.step(Objective.regularized(ddSnr));
        cl.finish();
    }

    @TearDown
    public void tearDown() {
        cl.finish();
        standard.close();
        regularized.close();
        lin.close();
        x.close();
        labels.close();
        train.close(); // and the model

    }

    @Benchmark
    public double powerMethod10() {
        try (PowerMethod.BatchResult<DeviceTensor> r = PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(model),
                new PowerMethod.Options(ITERATIONS, 0, 1L), start, false)) {
            return r.sigma()[0];
        }
    }

    @Benchmark
    public double trainingStep() {
        return step(standard);
    }

    @Benchmark
    public double pqIteration10() {
        OperatorNorm.Options o = new OperatorNorm.Options(ITERATIONS, 0, Double.POSITIVE_INFINITY, 1, 1L);
        try (OperatorNorm.BatchResult<DeviceTensor> r = OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(model),
                Double.POSITIVE_INFINITY, 2, o, start, false)) {
            return r.value()[0];
        }
    }

    @Benchmark
    public double ddSnrTrainingStep() {
        return step(regularized);
    }

    /** A runner's step on the device batch: zero the gradients, the loss and its gradient, the update. */
    private double step(TrainOps.Step<DeviceTensor, DeviceInts, Grads<DeviceTensor>> method) {
        Grads<DeviceTensor> g = train.gradients();
        train.zero(g);
        StepResult r = method.step(x, x.shape(), labels, new Rng(++regSeed), g);
        if (r.finite()) {
            train.update(sgd, g);
        }
        return r.loss();
    }
}
