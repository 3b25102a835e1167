package dev.opnorm.benchmarks;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.layers.Param;
import java.util.List;

/**
 * A one-off sanity check, not a test: one training step of our 7-layer CNN and of its PyTorch twin
 * (same parameters, same batch), printing both losses and, per parameter, the largest difference of
 * the gradients relative to the largest gradient entry. The conv biases feed a train-mode BatchNorm,
 * which subtracts the batch mean, so their exact gradient is zero: both sides print roundoff there
 * (about 1e-9) and those rows are left out of the worst-case figure. It shows that {@link TrainStepBench} times
 * the same computation on both sides. Run: {@code ./bench check}.
 */
public final class TrainStepCheck {
    private TrainStepCheck() {
    }

    public static void main(String[] args) {
        double width = args.length > 0 ? Double.parseDouble(args[0]) : 0.25;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Torch.setThreads(Engine.threads());
        Cnn7Step ours = new Cnn7Step(width, batch, 7, KernelsByName.of("vector"));
        try (TorchCnn7 torch = ours.torchTwin()) {
            double lossOurs = ours.step();
            double lossTorch = torch.step();
            System.out.printf("7-layer CNN width %s batch %d: loss ours %.7f, PyTorch %.7f%n", width, batch, lossOurs, lossTorch);
            List<Param> params = ours.params();
            double worst = 0;
            for (int i = 0; i < params.size(); i++) {
                float[] a = ours.grad(params.get(i)), b = torch.grad(i);
                double maxDiff = 0, maxRef = 0;
                for (int j = 0; j < a.length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs((double) a[j] - b[j]));
                    maxRef = Math.max(maxRef, Math.abs(b[j]));
                }
                boolean zeroExactly = params.get(i).name().startsWith("features.") && params.get(i).name().endsWith(".bias");
                if (!zeroExactly) {
                    worst = Math.max(worst, maxDiff / maxRef);
                }
                System.out.printf("  %-36s max |ours - torch| = %.2g, max |torch| = %.2g%s%n", params.get(i), maxDiff,
                        maxRef, zeroExactly ? " (exact gradient 0)" : String.format(", relative %.2g", maxDiff / maxRef));
            }
            System.out.printf("worst relative gradient difference: %.2g%n", worst);
        }
    }
}
