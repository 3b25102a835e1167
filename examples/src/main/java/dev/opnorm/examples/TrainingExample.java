package dev.opnorm.examples;

import dev.opnorm.api.Checkpoints;
import dev.opnorm.api.Methods;
import dev.opnorm.api.Models;
import dev.opnorm.api.OperatorNorms;
import dev.opnorm.api.Training;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.RobustAccuracy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Example 3: train a small network with data-dependent spectral norm regularization (d.d. SNR), save it as a
 * checkpoint, load it back, and compare it with adversarial training (AT, l_2 PGA) from the same initial weights:
 * clean accuracy, robust accuracy under l_2 PGA, and the mean spectral norm of the logits Jacobian on test points.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... dev.opnorm.examples.TrainingExample [epochs] [checkpoint folder]
 * </pre>
 */
public final class TrainingExample {
    private TrainingExample() {
    }

    /** args: [epochs, default 2] [folder for the checkpoint, default: a temporary folder]. */
    public static void main(String[] args) throws IOException {
        int epochs = ExampleData.intArg(args, 0, 3);
        Path folder = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("opnorm-example");
        Dataset train = ExampleData.templates(160, 1), test = ExampleData.templates(40, 2);
        double eps = 0.5;   // l_2 radius of AT's attack, d.d. SNR's finite-difference step and the evaluation

        Sequential ddSnr = Models.cnn7(0.0625, 1, 10, 7);
        Training.of(ddSnr).method(Methods.ddSnr(0.01, eps)).data(train, test).epochs(epochs).batchSize(16).fit();
        Path file = folder.resolve("dd-snr.safetensors");
        Checkpoints.save(ddSnr, file);
        Sequential loaded = Checkpoints.load(file, "cnn7-w0.0625", 1, 10);

        Sequential at = Models.cnn7(0.0625, 1, 10, 7);
        Training.of(at).method(Methods.adversarial(Pga.l2(eps).iterations(5))).data(train, test).epochs(epochs).batchSize(16).fit();

        System.out.println("checkpoint " + file.getFileName() + " reloaded, logits identical: "
                + Arrays.equals(ddSnr.forward(test.images()).data, loaded.forward(test.images()).data));
        System.out.println("method    clean   robust (l2 PGA, eps " + eps + ")   mean ||J||_2");
        report("d.d. SNR", loaded, test, eps);
        report("AT", at, test, eps);
    }

    private static void report(String name, Sequential model, Dataset test, double eps) {
        RobustAccuracy r = RobustAccuracy.of(model, test, Pga.l2(eps).iterations(10), test.size());
        double norm = OperatorNorms.of(model, test.images()).compute().mean();
        System.out.printf("%-8s  %.3f   %.3f                     %.4f%n", name, r.cleanAccuracy(), r.robustAccuracy(), norm);
    }
}
