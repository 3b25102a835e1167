package dev.opnorm.gpu;

import org.jocl.Pointer;

/**
 * An int buffer on the OpenCL device (max-pooling argmax indices). Same rules as {@link DeviceTensor}:
 * explicit, counted transfers only.
 */
public final class DeviceInts extends DeviceBuffer {

    private DeviceInts(OpenCl cl, int length) {
        super(cl, length);
    }

    /** An uninitialized device int buffer. */
    public static DeviceInts allocate(OpenCl cl, int length) {
        return new DeviceInts(cl, length);
    }

    /** A device copy of {@code data} (one upload). */
    public static DeviceInts of(OpenCl cl, int[] data) {
        DeviceInts d = new DeviceInts(cl, data.length);
        d.upload(data);
        return d;
    }

    /** Copies all of {@code src} (length == this length) to the device. Blocking. */
    public void upload(int[] src) {
        if (src.length != length) {
            throw new IllegalArgumentException("upload of " + src.length + " ints into " + this);
        }
        upload(src, length);
    }

    /** Copies src[0, count) to elements [0, count). Blocking. */
    public void upload(int[] src, int count) {
        checkUsable(cl);
        checkRange(0, count, "upload");
        if (count > src.length) {
            throw new IllegalArgumentException("upload of " + count + " ints from a host array of " + src.length);
        }
        if (count > 0) {
            cl.write(mem, 0, 4L * count, Pointer.to(src));
        }
    }

    /** Copies the first {@code count} elements into dst[0, count). Blocking. */
    public void download(int[] dst, int count) {
        checkUsable(cl);
        checkRange(0, count, "download");
        if (count > dst.length) {
            throw new IllegalArgumentException("download of " + count + " ints into a host array of " + dst.length);
        }
        if (count > 0) {
            cl.read(mem, 0, 4L * count, Pointer.to(dst));
        }
    }

    @Override
    public String toString() {
        return "DeviceInts(" + length + ")" + (isClosed() ? " (closed)" : "");
    }
}
