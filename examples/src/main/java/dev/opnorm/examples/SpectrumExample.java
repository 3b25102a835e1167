package dev.opnorm.examples;

import dev.opnorm.api.Jacobian;
import dev.opnorm.api.Jacobians;
import dev.opnorm.api.Models;
import dev.opnorm.api.OperatorNorms;
import dev.opnorm.api.Spectrum;
import dev.opnorm.api.Target;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;

import java.io.IOException;

/**
 * Example 4: extract the dense Jacobian of a network at one image (logits and penultimate features), print
 * its singular value spectrum (EJML SVD), and check the largest singular value against the (2,2) power
 * iteration.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp ... dev.opnorm.examples.SpectrumExample [values shown] [fashion-mnist dir]
 * </pre>
 */
public final class SpectrumExample {
    private SpectrumExample() {
    }

    /** args: [singular values printed per Jacobian, default 10] [Fashion-MNIST folder, default: synthetic images]. */
    public static void main(String[] args) throws IOException {
        int shown = ExampleData.intArg(args, 0, 10);
        Tensor x = ExampleData.load(1, ExampleData.pathArg(args, 1)).images();   // one image (1, 1, 32, 32)
        Sequential model = ExampleData.calibrateBatchNorm(Models.cnn7(0.0625), ExampleData.synthetic(8, 1).images());

        Jacobian logits = Jacobians.of(model, x, 0);                                           // 10 x 1024
        Jacobian features = Jacobians.of(model, x, 0, Target.penultimate(), BnMode.EVAL);     // 64 x 1024
        double power = OperatorNorms.of(model, x).iterations(1000).tolerance(1e-9).compute().value(0);

        print("logits", logits, shown);
        print("penultimate features", features, shown);
        System.out.printf("sigma_max by power iteration: %.6e (SVD: %.6e)%n", power, logits.spectrum().sigmaMax());
    }

    private static void print(String name, Jacobian j, int shown) {
        Spectrum s = j.spectrum();
        System.out.printf("%s Jacobian %d x %d: sigma_max %.6e, stable rank %.3f, rank %d%n",
                name, j.rows(), j.cols(), s.sigmaMax(), s.stableRank(), s.rank(1e-6));
        StringBuilder b = new StringBuilder("  singular values:");
        for (int i = 0; i < Math.min(shown, s.size()); i++) {
            b.append(String.format(" %.4e", s.get(i)));
        }
        System.out.println(b);
    }
}
