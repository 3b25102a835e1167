package dev.opnorm.nn;

/**
 * Row-major NCHW shape of a tensor: batch n, channels c, height h, width w. Features of a linear layer
 * are (n, f, 1, 1). Every dimension is positive and the element count must fit in an int.
 */
public record Shape(int n, int c, int h, int w) {
    public Shape {
        if (n <= 0 || c <= 0 || h <= 0 || w <= 0) {
            throw new IllegalArgumentException("bad shape (" + n + ", " + c + ", " + h + ", " + w
                    + "): every dimension must be positive");
        }
        long size = (long) n * c * h * w;
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape (" + n + ", " + c + ", " + h + ", " + w + ") has "
                    + size + " elements, more than a Java array can hold");
        }
    }

    /** A (n, f, 1, 1) feature shape. */
    public static Shape features(int n, int f) {
        return new Shape(n, f, 1, 1);
    }

    /** Total number of elements n*c*h*w. */
    public int size() {
        return n * c * h * w;
    }

    /** Elements per example c*h*w. */
    public int perExample() {
        return c * h * w;
    }

    /** The same shape with batch size {@code n}. */
    public Shape withBatch(int batch) {
        return new Shape(batch, c, h, w);
    }

    /** Flat index of (b, ch, y, x). */
    public int at(int b, int ch, int y, int x) {
        return ((b * c + ch) * h + y) * w + x;
    }

    @Override
    public String toString() {
        return "(" + n + ", " + c + ", " + h + ", " + w + ")";
    }
}
