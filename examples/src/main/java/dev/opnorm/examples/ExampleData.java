package dev.opnorm.examples;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Layer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Inputs for the examples: synthetic 1 x 32 x 32 images (always available, so the examples run anywhere
 * in seconds), or the first Fashion-MNIST test images when a data folder is given.
 */
public final class ExampleData {
    private ExampleData() {
    }

    /**
     * {@code n} images of shape (1, 32, 32) with pixels uniform in [-1, 1] (the SYMMETRIC domain), drawn
     * from {@code seed}; all labels 0 (see {@link #labelledByModel}).
     */
    public static Dataset synthetic(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(new Shape(n, 1, 32, 32));
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * r.nextDouble() - 1);
        }
        return new Dataset("synthetic", x, new int[n], 10, Domain.SYMMETRIC);
    }

    /**
     * A learnable synthetic 10-class problem: class k is a fixed random template image (pixels uniform in
     * [-0.5, 0.5], the same for every seed) plus uniform noise in [-0.3, 0.3] drawn from {@code seed}; labels
     * cycle 0, 1, ..., 9. Images are (n, 1, 32, 32) in [-1, 1].
     */
    public static Dataset templates(int n, long seed) {
        SplittableRandom t = new SplittableRandom(12345), r = new SplittableRandom(seed);
        int per = 32 * 32;
        float[] templates = new float[10 * per];
        for (int i = 0; i < templates.length; i++) {
            templates[i] = (float) (t.nextDouble() - 0.5);
        }
        Tensor x = new Tensor(new Shape(n, 1, 32, 32));
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
            for (int j = 0; j < per; j++) {
                x.data[i * per + j] = templates[labels[i] * per + j] + (float) (0.6 * r.nextDouble() - 0.3);
            }
        }
        return new Dataset("templates", x, labels, 10, Domain.SYMMETRIC);
    }

    /**
     * The first {@code n} Fashion-MNIST test images, padded to 32 x 32 and scaled to [-1, 1], when
     * {@code dir} is not null; otherwise {@link #synthetic}(n, 0).
     *
     * @throws IOException when the folder does not hold the Fashion-MNIST test files
     */
    public static Dataset load(int n, Path dir) throws IOException {
        if (dir == null) {
            return synthetic(n, 0);
        }
        return FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC).slice(0, n).padTo(32, 32);
    }

    /** The same images labelled with the model's own predictions (clean accuracy 100 %). */
    public static Dataset labelledByModel(Dataset d, Layer model) {
        float[] logits = model.forward(d.images()).data;
        int n = d.size(), classes = logits.length / n;
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int k = 1; k < classes; k++) {
                if (logits[i * classes + k] > logits[i * classes + labels[i]]) {
                    labels[i] = k;
                }
            }
        }
        return new Dataset(d.name() + " (labels: model predictions)", d.images(), labels, classes, d.domain());
    }

    /**
     * Sets the BatchNorm running statistics of an untrained {@code model} close to the statistics of {@code x}
     * (returns {@code model}). A freshly initialized network has running mean 0 and variance 1, which in EVAL
     * mode shrinks its activations layer after layer until the logits hardly depend on the input; 40 TRAIN
     * passes over x, each folded into the running statistics with PyTorch's momentum 0.1, leave 0.9^40 = 1.5 %
     * of the initial values, as the first epoch of training would. Changes only the buffers, not the weights.
     */
    public static <L extends Layer> L calibrateBatchNorm(L model, Tensor x) {
        return BatchNorm2d.calibrate(model, x, 40);
    }

    /** args[index] as an int, or the default when absent. */
    static int intArg(String[] args, int index, int fallback) {
        return args.length > index ? Integer.parseInt(args[index]) : fallback;
    }

    /** args[index] as a path, or null when absent. */
    static Path pathArg(String[] args, int index) {
        return args.length > index ? Path.of(args[index]) : null;
    }
}
