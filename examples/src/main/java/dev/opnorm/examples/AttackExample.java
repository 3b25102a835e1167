package dev.opnorm.examples;

import dev.opnorm.api.Models;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.RobustAccuracy;

import java.io.IOException;
import java.util.List;

/**
 * Example 2: attack a network with l_2 and l_inf PGA (10 iterations, random start, cross-entropy) and
 * print its robust accuracy against the radius eps. The images are labelled with the model's own
 * predictions, so clean accuracy is 100 % and the curve shows how fast the attack flips them.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... dev.opnorm.examples.AttackExample [images] [fashion-mnist dir]
 * </pre>
 */
public final class AttackExample {
    private AttackExample() {
    }

    /** args: [number of images, default 8] [Fashion-MNIST folder, default: synthetic images]. */
    public static void main(String[] args) throws IOException {
        int count = ExampleData.intArg(args, 0, 8);
        Dataset images = ExampleData.load(count, ExampleData.pathArg(args, 1));
        Sequential model = ExampleData.calibrateBatchNorm(Models.cnn7(0.0625), images.images());
        Dataset data = ExampleData.labelledByModel(images, model);

        double[] l2Radii = {0.005, 0.02, 0.05, 0.2};
        double[] linfRadii = {0.0001, 0.0005, 0.002, 0.005};
        List<RobustAccuracy> l2 = RobustAccuracy.curve(model, data, eps -> Pga.l2(eps).iterations(10), l2Radii, count);
        List<RobustAccuracy> linf = RobustAccuracy.curve(model, data, eps -> Pga.linf(eps).iterations(10), linfRadii, count);

        System.out.println("attack    eps       robust accuracy");
        for (RobustAccuracy r : l2) {
            System.out.printf("PGA l2    %-8s  %.3f%n", r.eps(), r.robustAccuracy());
        }
        for (RobustAccuracy r : linf) {
            System.out.printf("PGA linf  %-8s  %.3f%n", r.eps(), r.robustAccuracy());
        }
    }
}
