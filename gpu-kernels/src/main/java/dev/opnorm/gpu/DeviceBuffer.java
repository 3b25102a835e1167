package dev.opnorm.gpu;

import org.jocl.CL;
import org.jocl.cl_mem;

/**
 * A device buffer of {@code length} 4-byte elements owned by one {@link OpenCl} runtime; freed by
 * {@link #close()}. Data moves only through the explicit upload/download methods of the subclasses,
 * each counted by the runtime.
 */
public abstract sealed class DeviceBuffer implements AutoCloseable permits DeviceTensor, DeviceInts {
    final OpenCl cl;
    final cl_mem mem;
    final int length;
    private boolean closed;

    DeviceBuffer(OpenCl cl, int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("device buffer length must be positive, got " + length);
        }
        this.cl = cl;
        this.length = length;
        this.mem = cl.allocate(4L * length);
    }

    /** Number of elements. */
    public int length() {
        return length;
    }

    /** The runtime this buffer belongs to. */
    public OpenCl runtime() {
        return cl;
    }

    public boolean isClosed() {
        return closed;
    }

    void checkUsable(OpenCl by) {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        if (by != cl) {
            throw new IllegalArgumentException(this + " belongs to " + cl + ", not to " + by);
        }
    }

    void checkRange(int offset, int count, String what) {
        if (offset < 0 || count < 0 || (long) offset + count > length) {
            throw new IllegalArgumentException(what + ": range [" + offset + ", " + ((long) offset + count)
                    + ") outside " + this);
        }
    }

    /** Releases the device memory (after the queue has finished with it: the release is deferred by OpenCL). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (!cl.isClosed()) {
                CL.clReleaseMemObject(mem);
            }
        }
    }
}
