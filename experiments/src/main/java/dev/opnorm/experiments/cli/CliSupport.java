package dev.opnorm.experiments.cli;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.attack.AdversarialLoss;

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
            throw new IllegalArgumentException("--model: " + e.getMessage());
        }
        if (checkpoint != null) {
            Checkpoint ck = Checkpoint.load(checkpoint);
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

    static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    static String format(double v) {
        return Norms.format(v);
    }
}
