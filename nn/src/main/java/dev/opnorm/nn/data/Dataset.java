package dev.opnorm.nn.data;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.Arrays;

/**
 * A labelled image data set held in memory: images (n, c, h, w) already scaled to the input domain,
 * and one class label per image in [0, classes).
 *
 * @param name    where it came from, for logs and manifests (e.g. "fashion-mnist/test")
 * @param images  (n, c, h, w)
 * @param labels  n labels
 * @param classes number of classes
 * @param domain  the value range the pixels were scaled to
 */
public record Dataset(String name, Tensor images, int[] labels, int classes, Domain domain) {
    public Dataset {
        if (labels.length != images.shape.n()) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels for " + images.shape.n()
                    + " images");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of example " + i
                        + " outside [0, " + classes + ")");
            }
        }
    }

    public int size() {
        return labels.length;
    }

    /** Examples [from, from + count) (copied). */
    public Dataset slice(int from, int count) {
        return new Dataset(name, images.slice(from, count), Arrays.copyOfRange(labels, from, from + count),
                classes, domain);
    }

    /** The examples at the given indices, in that order (copied). */
    public Dataset select(int[] indices) {
        Shape s = images.shape;
        int per = s.perExample();
        float[] out = new float[indices.length * per];
        int[] lab = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int j = indices[i];
            if (j < 0 || j >= s.n()) {
                throw new IllegalArgumentException(name + ": index " + j + " outside [0, " + s.n() + ")");
            }
            System.arraycopy(images.data, j * per, out, i * per, per);
            lab[i] = labels[j];
        }
        return new Dataset(name, new Tensor(s.withBatch(indices.length), out), lab, classes, domain);
    }

    /**
     * Pads every image with {@code domain.low()} (the value of a black pixel) to size h x w, centred,
     * e.g. 28x28 Fashion-MNIST to the 32x32 the 7-layer CNN expects.
     */
    public Dataset padTo(int h, int w) {
        Shape s = images.shape;
        if (h < s.h() || w < s.w() || (h - s.h()) % 2 != 0 || (w - s.w()) % 2 != 0) {
            throw new IllegalArgumentException(name + ": cannot pad " + s.h() + "x" + s.w() + " symmetrically to "
                    + h + "x" + w);
        }
        int top = (h - s.h()) / 2, left = (w - s.w()) / 2;
        Shape t = new Shape(s.n(), s.c(), h, w);
        float[] out = new float[t.size()];
        Arrays.fill(out, domain.low());
        for (int n = 0; n < s.n(); n++) {
            for (int c = 0; c < s.c(); c++) {
                for (int y = 0; y < s.h(); y++) {
                    System.arraycopy(images.data, s.at(n, c, y, 0), out, t.at(n, c, y + top, left), s.w());
                }
            }
        }
        return new Dataset(name, new Tensor(t, out), labels, classes, domain);
    }

    @Override
    public String toString() {
        return name + " " + images.shape + " in " + domain;
    }
}
