package dev.opnorm.gpu;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import org.jocl.Pointer;

/**
 * A float tensor that lives on the OpenCL device: one {@code cl_mem} of {@code shape.size()} floats
 * (NCHW, the same layout as {@link Tensor}). Nothing is copied implicitly: {@link #upload} and
 * {@link #download} are the only transfers, each counted by {@link OpenCl#uploads()} /
 * {@link OpenCl#downloads()}. Contents are undefined after {@link #allocate} until written.
 */
public final class DeviceTensor extends DeviceBuffer {
    private final Shape shape;

    private DeviceTensor(OpenCl cl, Shape shape) {
        super(cl, shape.size());
        this.shape = shape;
    }

    /** An uninitialized device tensor. */
    public static DeviceTensor allocate(OpenCl cl, Shape shape) {
        return new DeviceTensor(cl, shape);
    }

    /** An uninitialized device vector of {@code length} floats, shape (1, length, 1, 1). */
    public static DeviceTensor allocate(OpenCl cl, int length) {
        return new DeviceTensor(cl, Shape.features(1, length));
    }

    /** A device tensor holding a copy of {@code t} (one upload). */
    public static DeviceTensor of(OpenCl cl, Tensor t) {
        DeviceTensor d = new DeviceTensor(cl, t.shape);
        d.upload(t.data);
        return d;
    }

    /** A device vector holding a copy of {@code data} (one upload). */
    public static DeviceTensor of(OpenCl cl, float[] data) {
        DeviceTensor d = allocate(cl, data.length);
        d.upload(data);
        return d;
    }

    public Shape shape() {
        return shape;
    }

    /** Copies all of {@code src} (length == this length) to the device. Blocking. */
    public void upload(float[] src) {
        if (src.length != length) {
            throw new IllegalArgumentException("upload of " + src.length + " floats into " + this);
        }
        upload(src, 0, 0, length);
    }

    /** Copies src[srcOff, srcOff+count) to elements [dstOff, dstOff+count) of this tensor. Blocking. */
    public void upload(float[] src, int srcOff, int dstOff, int count) {
        checkUsable(cl);
        checkRange(dstOff, count, "upload");
        if (srcOff < 0 || srcOff + count > src.length) {
            throw new IllegalArgumentException("upload source range [" + srcOff + ", " + (srcOff + count)
                    + ") outside a host array of " + src.length);
        }
        if (count > 0) {
            cl.write(mem, 4L * dstOff, 4L * count, Pointer.to(src).withByteOffset(4L * srcOff));
        }
    }

    /** A new host array with the contents (one download; waits for the queue). */
    public float[] download() {
        float[] out = new float[length];
        download(out, 0, 0, length);
        return out;
    }

    /** The contents as a host tensor of the same shape (one download). */
    public Tensor toTensor() {
        return new Tensor(shape, download());
    }

    /** Copies elements [srcOff, srcOff+count) into dst[dstOff...]. Blocking: waits for queued work. */
    public void download(float[] dst, int srcOff, int dstOff, int count) {
        checkUsable(cl);
        checkRange(srcOff, count, "download");
        if (dstOff < 0 || dstOff + count > dst.length) {
            throw new IllegalArgumentException("download target range [" + dstOff + ", " + (dstOff + count)
                    + ") outside a host array of " + dst.length);
        }
        if (count > 0) {
            cl.read(mem, 4L * srcOff, 4L * count, Pointer.to(dst).withByteOffset(4L * dstOff));
        }
    }

    /** Element {@code i} (one 4-byte download): how norms and losses reduced on the device come back. */
    public float readScalar(int i) {
        float[] one = new float[1];
        download(one, i, 0, 1);
        return one[0];
    }

    @Override
    public String toString() {
        return "DeviceTensor" + shape + (isClosed() ? " (closed)" : "");
    }
}
