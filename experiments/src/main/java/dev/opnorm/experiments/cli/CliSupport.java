package dev.opnorm.experiments.cli;

import dev.opnorm.experiments.run.RunFolder;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.attack.AdversarialLoss;

import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What the attack and eval commands share: loading the Fashion-MNIST test points and a network (random
 * or from a checkpoint), and turning flag values into attack settings, each error naming its flag.
 */
final class CliSupport {
    private CliSupport() {
    }

    /**
     * Test images [offset, offset + count) of Fashion-MNIST in {@code dir} (null: the Debian package's
     * folder), scaled to [-1, 1] and padded to 32 x 32.
     *
     * @throws IllegalArgumentException when the range does not fit the test split
     */
    static Dataset testPoints(Path dir, int offset, int count) throws IOException {
        require(count > 0, "--count must be positive, got " + count);
        require(offset >= 0, "--offset must be >= 0, got " + offset);
        Dataset test = FashionMnist.load(dataDir(dir), FashionMnist.Split.TEST, Domain.SYMMETRIC);
        require((long) offset + count <= test.size(), "--offset + --count = " + ((long) offset + count)
                + " exceeds the " + test.size() + " test images");
        return test.slice(offset, count).padTo(Cnn7.SIZE, Cnn7.SIZE);
    }

    static Path dataDir(Path dir) {
        return dir != null ? dir : FashionMnist.DEBIAN_DIR;
    }

    /**
     * The network named by {@code spec} for 1-channel inputs and 10 classes, initialized from seed, then
     * (checkpoint != null) loaded strictly from the checkpoint.
     */
    static Sequential model(String spec, Path checkpoint, long seed, Kernels kernels) throws IOException {
        Sequential model;
        try {
            model = Models.create(spec, 1, FashionMnist.CLASS_NAMES.length, seed, kernels);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model: " + e.getMessage() + heapHint(e.getMessage()));
        }
        if (checkpoint != null) {
            Checkpoint ck;
            try {
                ck = Checkpoint.load(checkpoint);
            } catch (IOException e) {
                throw new IOException("--checkpoint " + e.getMessage(), e);
            }
            try {
                ck.loadInto(model);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--checkpoint " + checkpoint + " (--model " + spec + "): "
                        + e.getMessage());
            }
        }
        return model;
    }

    /** p of an l_p attack: 1, 2 or inf. */
    static double attackNorm(String text, String flag) {
        double p = NormCommand.parseNorm(text, flag);
        require(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY, flag + " must be 1, 2 or inf for PGA, got " + text);
        return p;
    }

    /** ce, logit-l1, logit-l2 or logit-linf. */
    static AdversarialLoss loss(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "ce":
                return AdversarialLoss.crossEntropy();
            case "logit-l1":
                return AdversarialLoss.logitLq(1);
            case "logit-l2":
                return AdversarialLoss.logitLq(2);
            case "logit-linf":
                return AdversarialLoss.logitLq(Double.POSITIVE_INFINITY);
            default:
                throw new IllegalArgumentException("--loss must be ce, logit-l1, logit-l2 or logit-linf, got '" + text + "'");
        }
    }

    /** A step size: a positive number or "inf" (the alpha -> inf limit); null/blank = the default. */
    static double alpha(String text) {
        if (text == null || text.isBlank()) {
            return Double.NaN;
        }
        double a;
        try {
            a = text.trim().equalsIgnoreCase("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--alpha must be a positive number or inf, got '" + text + "'");
        }
        require(a > 0 && !Double.isNaN(a), "--alpha must be a positive number or inf, got '" + text + "'");
        return a;
    }

    /** A radius: positive and finite. */
    static double eps(double eps, String flag) {
        require(eps > 0 && Double.isFinite(eps), flag + " must be positive and finite, got " + eps);
        return eps;
    }

    /**
     * Claims --out for {@code command} before any computation: a missing or unusable path, a folder owned by
     * another running command, or one that holds results (unless --force) is an error now, not after the work.
     */
    static RunFolder claimOut(CommandSpec spec, Path out, String command, boolean force) throws IOException {
        return RunFolder.claim(out, "--out", command, force ? RunFolder.Policy.REPLACE : RunFolder.Policy.REFUSE, null,
                spec.commandLine().getErr());
    }

    /**
     * Stops a command whose network output is not finite (NaN or Inf logits at some image): a value computed
     * from it is no result, and printing it (a norm of -1, an accuracy from argmax over NaN) would mislead.
     *
     * @param out     per-image outputs, {@code perImage} values each
     * @param first   the test-set index of the first image in {@code out}
     * @param model   what the network is, for the message (e.g. its checkpoint)
     */
    static void requireFiniteOutput(float[] out, int images, int perImage, int first, String model) {
        for (int i = 0; i < images * perImage; i++) {
            if (!Float.isFinite(out[i])) {
                throw new IllegalStateException("the network's output at test image " + (first + i / perImage) + " is "
                        + out[i] + " (" + model + "): it overflows or its weights are not finite there, so no result "
                        + "is reported");
            }
        }
    }

    /**
     * One clean forward pass (BatchNorm EVAL) over the points, in batches, through
     * {@link #requireFiniteOutput}: attack and eval report accuracies, which an argmax over NaN logits would
     * silently fake.
     */
    static void requireFiniteNetwork(Sequential model, Dataset points, int batch, int offset, String modelText) {
        for (int from = 0; from < points.size(); from += batch) {
            int b = Math.min(batch, points.size() - from);
            float[] logits = model.forward(points.images().slice(from, b)).data;
            requireFiniteOutput(logits, b, logits.length / b, offset + from, modelText);
        }
    }

    /** How to give ./opnorm's JVM more memory, for messages about the heap. */
    static final String HEAP_HINT = "OPNORM_JAVA_OPTS=-Xmx<size> ./opnorm ... (e.g. -Xmx16g)";

    static String heapHint(String message) {
        return message != null && message.contains("Java heap") ? "; with the launcher: " + HEAP_HINT : "";
    }

    /**
     * Refuses a batch whose activations alone cannot fit the heap, before any is allocated: the sum of the
     * per-image outputs of the network's layers (one forward pass), times the images of a batch, times
     * {@code copies} (what the command keeps per activation: forward values, tangents, gradients). A lower bound,
     * so a run it lets through may still need more; the OutOfMemoryError handler covers that.
     */
    static void requireFits(Layer model, Shape image, int batch, int copies, String batchFlag, String modelSpec) {
        double perImage = activationFloats(model, image.withBatch(1));
        double need = perImage * batch * copies * Float.BYTES;
        long heap = Runtime.getRuntime().maxMemory();
        if (need > heap) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s %d with --model %s needs at least %s "
                    + "of activations (%.3g values per image), more than the whole Java heap (%s): lower %s (or the "
                    + "model's width), or raise the heap: %s", batchFlag, batch, modelSpec, Models.bytes(need),
                    perImage, Models.bytes(heap), batchFlag, HEAP_HINT));
        }
    }

    /** The values of every leaf layer's output for one input of shape {@code in}, from shapes alone. */
    private static double activationFloats(Layer layer, Shape in) {
        if (layer instanceof Sequential seq) {
            double total = 0;
            Shape s = in;
            for (Layer child : seq.children()) {
                total += activationFloats(child, s);
                s = child.outputShape(s);
            }
            return total;
        }
        return layer.outputShape(in).perExample();
    }

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    static String format(double v) {
        return Norms.format(v);
    }
}
