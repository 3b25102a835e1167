package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Tiny synthetic data, a tiny CNN and the training setups the train tests share. */
final class TrainFixtures {
    static final int CLASSES = 3;
    static final int SIZE = 6;

    private TrainFixtures() {
    }

    /**
     * n grey 6x6 images in [-1, 1]: class c brightens a class-specific 3x3 corner region, plus noise; labels
     * cycle through the classes. Learnable in a few epochs by the tiny CNN.
     */
    static Dataset data(String name, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Shape s = new Shape(n, 1, SIZE, SIZE);
        float[] x = new float[s.size()];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % CLASSES;
            int oy = y[i] == 1 ? 3 : 0, ox = y[i] == 2 ? 3 : 0;
            for (int a = 0; a < SIZE; a++) {
                for (int b = 0; b < SIZE; b++) {
                    boolean on = y[i] > 0 ? (a >= oy && a < oy + 3 && b >= ox && b < ox + 3) : (a + b) % 2 == 0;
                    double v = (on ? 0.6 : -0.4) + 0.3 * r.nextGaussian();
                    x[s.at(i, 0, a, b)] = (float) Math.max(-1, Math.min(1, v));
                }
            }
        }
        return new Dataset(name, new Tensor(s, x), y, CLASSES, Domain.SYMMETRIC);
    }

    /** conv3x3(1 -> 4) -> BN (no affine) -> ReLU -> maxpool 2 -> flatten -> linear(36, 3); zero weights until init. */
    static Sequential model() {
        return new Sequential("tiny", new Sequential("features", new Conv2d("0", 1, 4, 3, 1, 1, true),
                new BatchNorm2d("1", 4, false), new ReLU("2"), new MaxPool2d("3", 2), new Flatten("4")),
                new Linear("classifier", 36, CLASSES, true));
    }

    /**
     * A method that exercises every source of randomness and state: PGA on half of each batch (random
     * starts), the sum-of-squares d.d. SNR (power-iteration starts) and global SNR (persistent vectors).
     */
    static Objective everything(Sequential model) {
        Pga pga = Pga.l2(0.5).iterations(2);
        return Objective.of("at+dd-snr-sos+global-snr", 1, pga, 1, 0.5,
                List.of(DdOperatorNorm.sumOfSquares(0.5, 0.1, 2, BnMode.TRAIN), GlobalSpectralNorm.reshaped(model, 1e-3)));
    }

    static TrainConfig config(long seed) {
        return new TrainConfig(seed, 3, 8, OptimizerSpec.sgd(0.05, 0.9, 5e-4), ScheduleSpec.cosinePerStep(2, 0.001),
                1, true, 0, 16, true);
    }

    /** Copies of every parameter and buffer value, in order. */
    static List<float[]> snapshot(Sequential model) {
        List<float[]> out = new ArrayList<>();
        for (Param p : model.params()) {
            out.add(p.value.clone());
        }
        for (Param p : model.buffers()) {
            out.add(p.value.clone());
        }
        return out;
    }
}
