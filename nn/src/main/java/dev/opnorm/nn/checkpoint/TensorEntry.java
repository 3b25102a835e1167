package dev.opnorm.nn.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: element type, shape (row-major, possibly empty for a scalar) and the
 * raw little-endian bytes. Immutable: factories copy their input and accessors return copies or read-only
 * views.
 */
public final class TensorEntry {
    private final DType dtype;
    private final long[] shape;
    private final byte[] data; // numel * dtype.bytes(), little-endian

    /**
     * Wraps raw little-endian bytes (copied).
     *
     * @throws IllegalArgumentException when a dimension is negative or the byte count is not numel * dtype size
     */
    public TensorEntry(DType dtype, long[] shape, byte[] data) {
        this(dtype, shape.clone(), data.clone(), true);
    }

    private TensorEntry(DType dtype, long[] shape, byte[] data, boolean owned) {
        if (dtype == null) {
            throw new IllegalArgumentException("tensor dtype must not be null");
        }
        long n = numel(shape);
        if (n < 0 || n > Integer.MAX_VALUE / dtype.bytes() || n * dtype.bytes() != data.length) {
            throw new IllegalArgumentException("tensor of " + dtype + " " + Arrays.toString(shape) + " needs "
                    + (n < 0 ? "an invalid number of" : String.valueOf(n * dtype.bytes())) + " bytes, got "
                    + data.length);
        }
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /** Takes ownership of arrays the caller promises not to touch again (the reader's buffers). */
    static TensorEntry wrap(DType dtype, long[] shape, byte[] data) {
        return new TensorEntry(dtype, shape, data, true);
    }

    /**
     * Product of the dimensions (1 for the scalar shape {}), or -1 when a dimension is negative or the
     * product overflows a long.
     */
    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return n;
    }

    /** An F32 tensor holding {@code values} (copied) with the given shape. */
    public static TensorEntry f32(float[] values, long... shape) {
        check(values.length, shape);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new TensorEntry(DType.F32, shape.clone(), b.array(), true);
    }

    /** An I64 tensor holding {@code values} (copied) with the given shape. */
    public static TensorEntry i64(long[] values, long... shape) {
        check(values.length, shape);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new TensorEntry(DType.I64, shape.clone(), b.array(), true);
    }

    /** A scalar (shape {}) I64 tensor. */
    public static TensorEntry i64Scalar(long value) {
        return i64(new long[] {value});
    }

    /** An F64 tensor holding {@code values} (copied) with the given shape. */
    public static TensorEntry f64(double[] values, long... shape) {
        check(values.length, shape);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return new TensorEntry(DType.F64, shape.clone(), b.array(), true);
    }

    private static void check(int length, long[] shape) {
        if (numel(shape) != length) {
            throw new IllegalArgumentException(length + " values do not fill shape " + Arrays.toString(shape));
        }
    }

    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long numel() {
        return data.length / dtype.bytes();
    }

    /** Size of the raw data in bytes. */
    public int byteSize() {
        return data.length;
    }

    /** The raw bytes as a read-only little-endian buffer (no copy). */
    public ByteBuffer buffer() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The values of an F32 tensor (a new array). */
    public float[] toFloats() {
        requireType(DType.F32);
        float[] out = new float[data.length / 4];
        buffer().asFloatBuffer().get(out);
        return out;
    }

    /**
     * Overwrites {@code out} with the values of this F32 tensor.
     *
     * @throws IllegalArgumentException when the type is not F32 or the lengths differ
     */
    public void copyFloatsInto(float[] out) {
        requireType(DType.F32);
        if (out.length != data.length / 4) {
            throw new IllegalArgumentException("F32 tensor of " + numel() + " values into an array of " + out.length);
        }
        buffer().asFloatBuffer().get(out);
    }

    /** The values of an I64 tensor (a new array). */
    public long[] toLongs() {
        requireType(DType.I64);
        long[] out = new long[data.length / 8];
        buffer().asLongBuffer().get(out);
        return out;
    }

    /** The values of an F64 tensor (a new array). */
    public double[] toDoubles() {
        requireType(DType.F64);
        double[] out = new double[data.length / 8];
        buffer().asDoubleBuffer().get(out);
        return out;
    }

    private void requireType(DType t) {
        if (dtype != t) {
            throw new IllegalArgumentException("tensor is " + dtype + ", not " + t);
        }
    }

    /** Same type, shape and bytes. */
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t && t.dtype == dtype && Arrays.equals(t.shape, shape)
                && Arrays.equals(t.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
