package dev.opnorm.examples;

import dev.opnorm.api.Models;
import dev.opnorm.api.NormResults;
import dev.opnorm.api.OperatorNorms;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Sequential;

import java.io.IOException;

import static dev.opnorm.api.OperatorNorms.INF;

/**
 * Example 1: per-example (2,2), (inf,2) and (2,inf) operator norms of a network's Jacobian on a batch
 * (input -> logits, BatchNorm in EVAL mode, batched power iteration).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... dev.opnorm.examples.OperatorNormsExample [images] [fashion-mnist dir]
 * </pre>
 */
public final class OperatorNormsExample {
    private OperatorNormsExample() {
    }

    /** args: [number of images, default 4] [Fashion-MNIST folder, default: synthetic images]. */
    public static void main(String[] args) throws IOException {
        int count = ExampleData.intArg(args, 0, 4);
        Tensor x = ExampleData.load(count, ExampleData.pathArg(args, 1)).images();   // (count, 1, 32, 32)

        Sequential model = Models.cnn7(0.0625);   // the paper's 7-layer CNN at 1/16 width, seed 0
        ExampleData.calibrateBatchNorm(model, x);  // BN running statistics from the images (untrained network)
        NormResults spectral = OperatorNorms.of(model, x).p(2).q(2).iterations(100).compute();
        NormResults infToTwo = OperatorNorms.of(model, x).p(INF).q(2).iterations(100).compute();
        NormResults twoToInf = OperatorNorms.of(model, x).p(2).q(INF).iterations(100).compute();

        System.out.println("example  (2,2)      (inf,2)    (2,inf)");
        for (int i = 0; i < x.shape.n(); i++) {
            System.out.printf("%7d  %.4e %.4e %.4e%n", i, spectral.value(i), infToTwo.value(i), twoToInf.value(i));
        }
        System.out.println(spectral);
    }
}
