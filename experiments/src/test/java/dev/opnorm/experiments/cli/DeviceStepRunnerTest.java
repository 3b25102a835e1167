package dev.opnorm.experiments.cli;

import dev.opnorm.gpu.OpenCl;
import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.OptimizerSpec;
import dev.opnorm.robust.train.ScheduleSpec;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainConfig;
import dev.opnorm.robust.train.Trainer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Trainer with the device runner against the Trainer on the host: the same run (CNN7 width 1/16, 40
 * Fashion-MNIST-shaped images, batch 8, crop + flip augmentation, 2 epochs) gives the same loss at every
 * step to 1e-4 (relative) and the same test accuracies, for SGD and Adam. Moderate learning rates: a
 * 4-channel network on noise is chaotic under large steps (a ReLU or max-pool decision that flips on a
 * rounding difference changes the next gradients by O(1)), which would test the data, not the device.
 */
class DeviceStepRunnerTest {
    private static final double LOSS_REL = 1e-4;

    private static Dataset data(String name, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Shape s = new Shape(n, 1, 32, 32);
        float[] x = new float[s.size()];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
            for (int j = 0; j < s.perExample(); j++) {
                // class-dependent mean so that training moves the loss
                x[i * s.perExample() + j] = (float) Math.max(-1, Math.min(1, 0.1 * (y[i] - 4.5) * ((j % 7) - 3) / 3
                        + 0.5 * r.nextGaussian()));
            }
        }
        return new Dataset(name, new Tensor(s, x), y, 10, Domain.SYMMETRIC);
    }

    private static final Dataset TRAIN = data("synthetic-fashion/train", 40, 1);
    private static final Dataset TEST = data("synthetic-fashion/test", 20, 2);

    @Test
    void deviceRunner_sgd_sameLossCurveAndAccuracyAsHost() throws IOException {
        compare(OptimizerSpec.sgd(0.01, 0.9, 5e-4));
    }

    @Test
    void deviceRunner_adam_sameLossCurveAndAccuracyAsHost() throws IOException {
        compare(OptimizerSpec.adam(1e-3, 5e-4));
    }

    private static void compare(OptimizerSpec opt) throws IOException {
        TrainConfig cfg = new TrainConfig(3, 2, 8, opt, ScheduleSpec.cosinePerStep(0, 0), 2, true, 0, 16, true);
        List<Double> host = new ArrayList<>(), device = new ArrayList<>();
        Trainer.Result h = new Trainer(model(), TRAIN, TEST, Objective.standard(), cfg).log(null)
                .onStep((e, s, r) -> host.add(r.loss())).fit();
        StepRunner[] runner = {null};
        Trainer.Result d;
        try {
            d = new Trainer(model(), TRAIN, TEST, Objective.standard(), cfg).log(null)
                    .runOn((m, method, o) -> runner[0] = PlacedTrainOps.runners(OpenCl.shared().ops()).create(m, method, o))
                    .onStep((e, s, r) -> device.add(r.loss())).fit();
        } finally {
            if (runner[0] != null) {
                runner[0].close();
            }
        }
        assertEquals(10, host.size());
        assertEquals(host.size(), device.size());
        for (int i = 0; i < host.size(); i++) {
            assertEquals(host.get(i), device.get(i), LOSS_REL * host.get(i), opt.kind() + ": loss of step " + i
                    + " (host " + host + ", device " + device + ")");
        }
        for (int e = 0; e < 2; e++) {
            assertEquals(h.epochs().get(e).testAccuracy(), d.epochs().get(e).testAccuracy(), 0.051,
                    "test accuracy of epoch " + (e + 1) + " (at most one of 20 images differs)");
        }
    }

    private static Sequential model() {
        return Models.create("cnn7-w0.0625", 1, 10, 0, new ScalarKernels());
    }
}
