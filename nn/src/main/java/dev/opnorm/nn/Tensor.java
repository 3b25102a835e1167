package dev.opnorm.nn;

import java.util.Arrays;

/**
 * A float tensor: a flat {@code float[]} with an NCHW {@link Shape}. No views, no strides, no dtype.
 * The array is shared, not copied: a tensor is a label on an array.
 */
public final class Tensor {
    public final Shape shape;
    public final float[] data; // length == shape.size()

    /** A zero tensor. */
    public Tensor(Shape shape) {
        this(shape, new float[shape.size()]);
    }

    /** Wraps {@code data} (not copied). */
    public Tensor(Shape shape, float[] data) {
        if (shape == null || data == null) {
            throw new IllegalArgumentException("shape and data must not be null");
        }
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("data of length " + data.length + " does not match shape "
                    + shape + " (" + shape.size() + " elements)");
        }
        this.shape = shape;
        this.data = data;
    }

    public static Tensor of(int n, int c, int h, int w, float... data) {
        return new Tensor(new Shape(n, c, h, w), data);
    }

    /** A deep copy. */
    public Tensor copy() {
        return new Tensor(shape, data.clone());
    }

    /** The same data under another shape with the same element count. */
    public Tensor reshape(Shape s) {
        if (s.size() != shape.size()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " to " + s);
        }
        return new Tensor(s, data);
    }

    /** Examples [from, from+count) as a new tensor (copied). */
    public Tensor slice(int from, int count) {
        if (from < 0 || count <= 0 || from + count > shape.n()) {
            throw new IllegalArgumentException("slice [" + from + ", " + (from + count) + ") out of batch "
                    + shape.n() + " of " + shape);
        }
        int per = shape.perExample();
        return new Tensor(shape.withBatch(count), Arrays.copyOfRange(data, from * per, (from + count) * per));
    }

    /** Index of the first NaN or infinite element, or -1 when all are finite. */
    public int firstNonFinite() {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "Tensor" + shape;
    }
}
