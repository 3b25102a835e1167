package dev.opnorm.nn.layers;


/**
 * A trainable tensor of a layer: a name (unique within a model, e.g. "features.0.weight"), its value
 * and its logical dimensions (e.g. {k, c, r, s} for a conv kernel). The value array is owned by the
 * layer and updated in place by optimizers.
 */
public final class Param {
    private final String name;
    private final int[] dims;
    public final float[] value;

    public Param(String name, float[] value, int... dims) {
        long size = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("parameter " + name + ": non-positive dimension in "
                        + java.util.Arrays.toString(dims));
            }
            size *= d;
        }
        if (size != value.length) {
            throw new IllegalArgumentException("parameter " + name + ": " + value.length
                    + " values for dims " + java.util.Arrays.toString(dims));
        }
        this.name = name;
        this.value = value;
        this.dims = dims.clone();
    }

    public String name() {
        return name;
    }

    public int[] dims() {
        return dims.clone();
    }

    public int size() {
        return value.length;
    }

    /** The same storage under a new (qualified) name. */
    public Param renamed(String newName) {
        return new Param(newName, value, dims);
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(dims);
    }

}
