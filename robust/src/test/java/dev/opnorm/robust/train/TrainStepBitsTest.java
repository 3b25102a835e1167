package dev.opnorm.robust.train;

import dev.opnorm.robust.Digest;
import static dev.opnorm.robust.Digest.doubles;
import static dev.opnorm.robust.Digest.floats;
import static dev.opnorm.robust.Digest.mix;
import static dev.opnorm.robust.Digest.string;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

/**
 * The exact bits of the host training step (the host runner, PlacedTrainOps on PlacedModel.host: the objective's loss and
 * gradient, then Sgd with momentum and weight decay) for every training method of the paper, on a small CNN
 * with BatchNorm, once with ScalarKernels and once with VectorKernels (which the Kernels contract holds to
 * the same bits at every vector width and thread count): three steps, a digest of each step's result
 * (loss, its parts, penalties, correct, counted) and of every parameter and BatchNorm statistic afterwards,
 * against the digests the reference host code produced. Any change of the host arithmetic changes a
 * digest, so it must be deliberate.
 */
class TrainStepBitsTest {
    private static Sequential network(long seed, Kernels k) {
        Sequential net = new Sequential("cnn", new Sequential("features",
                new Conv2d("0", 2, 4, 3, 3, 1, 1, true, k), new BatchNorm2d("1", 4, true, k), new ReLU("2", k),
                new MaxPool2d("3", 2, 2, 0, k), new Conv2d("4", 4, 3, 3, 3, 1, 1, true, k), new ReLU("5", k),
                new Flatten("6", k)), new Linear("classifier", 12, 5, true, k));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    private static Tensor batch(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n * 2 * 4 * 4];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (2 * r.nextDouble() - 1);
        }
        return new Tensor(new Shape(n, 2, 4, 4), a);
    }

    private static long digest(Function<Sequential, TrainingMethod> method, long seed, Kernels k) {
        Sequential net = network(seed, k);
        TrainingMethod m = method.apply(net);
        StepRunner runner = PlacedTrainOps.runners(PlacedModel::host).create(net, m, new Sgd(net.params(),
                Sgd.Config.of(0.05).withMomentum(0.9).withWeightDecay(5e-4)));
        long h = 17;
        int[][] labels = {{1, 4, 0, 2}, {3, 3, 1, 0}, {2, 0, 4, 1}};
        for (int s = 0; s < labels.length; s++) {
            StepResult r = runner.step(batch(4, seed + 10 + s), labels[s], new Rng(seed + 100 + s), 0.05);
            h = doubles(h, new double[]{r.loss(), r.cleanLoss(), r.adversarialLoss(), r.correct(), r.counted()});
            for (Map.Entry<String, Double> e : r.penalties().entrySet()) {
                h = mix(string(h, e.getKey()), Double.doubleToRawLongBits(e.getValue()));
            }
        }
        for (Param p : net.params()) {
            h = floats(h, p.value);
        }
        for (Param p : net.buffers()) {
            h = floats(h, p.value);
        }
        return h;
    }

    private static long[] run(Kernels k) {
        Pga pga = Pga.l2(0.5).iterations(2);
        return new long[]{
                digest(n -> Objective.standard(), 1, k),
                digest(n -> Objective.adversarial(pga, 1, 0.8, 0.75), 2, k),
                digest(n -> Objective.adversarial(Pga.linf(0.1).iterations(2).restarts(2), 0, 1, 1.0), 3, k),
                digest(n -> Objective.interpolation(pga, 0.5, 1, DdOperatorNorm.sumOfSquares(0.5, 0.1, 2,
                        BnMode.TRAIN)), 4, k),
                digest(n -> Objective.regularized(new DdOperatorNorm(2, 1, 1, 0.05, 2, false, BnMode.EVAL)), 5, k),
                digest(n -> Objective.regularized(DdOperatorNorm.sumOfSquares(0.3, 0.1, 2, BnMode.TRAIN)), 6, k),
                digest(n -> Objective.regularized(new DdSpectralNorm(0.7, 3)), 7, k),
                digest(n -> Objective.regularized(new InputGradient(0.4)), 8, k),
                digest(n -> Objective.regularized(GlobalSpectralNorm.reshaped(n, 0.1)), 9, k),
                digest(n -> Objective.regularized(GlobalSpectralNorm.convolution(n, new Shape(1, 2, 4, 4), 0.1, 1)),
                        10, k)};
    }

    /** The scalar reference kernels and the vector ones (at this JVM's width and threads) give the same bits. */
    @Test
    void hostTrainingSteps_bitsArePinned() {
        Digest.assertPinned(BITS, TrainStepBitsTest::run);
    }

    // the values pin the one engine's host arithmetic (PlacedTrainOps on PlacedModel.host, float loss sums)
    private static final long[] BITS = {-7653509360213368559L, -5355056975382546053L, -2946493913308619622L,
            -2889930085902451374L, -9010712866620340143L, 1041335740804965022L, 7640378297445152649L,
            -8581729356497408809L, -8252819726285770825L, -2798244774374427701L};
}
