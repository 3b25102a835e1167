package dev.opnorm.gpu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/**
 * The OpenCL runtime of one device: ONE context, ONE in-order command queue, the kernel programs
 * (one {@code .cl} resource per kernel family) built once per runtime, kernel objects cached, and
 * counters of every host &lt;-&gt; device transfer.
 *
 * <p>Not a fallback: when no OpenCL platform or device exists, {@link #shared()} and {@link #open}
 * throw {@link OpenClException} naming the packages to install; a kernel that does not compile throws
 * with the device name and the full build log. Nothing here ever runs the work on the host instead.
 *
 * <p>Device selection: {@link #open(String)} takes a selector, either a device index (the order of
 * {@link #devices()}) or a case-insensitive substring of the device name; null or empty prefers the
 * first GPU, else the first device of any type. {@link #shared()} uses the system property
 * {@code opnorm.opencl.device} (read once, here and nowhere else) as its selector.
 *
 * <p>Threads: launches set kernel arguments on shared {@code cl_kernel} objects, so every launch
 * synchronizes on this runtime; the queue is in order, so a chain of launches runs in program order.
 */
public final class OpenCl implements AutoCloseable {

    /** The kernel families, one {@code .cl} resource each under {@code dev/opnorm/gpu/}. */
    public enum Family {
        ELEMENTWISE("elementwise.cl"),
        GEMM("gemm.cl"),
        CONV2D("conv2d.cl"),
        BATCHNORM("batchnorm.cl"),
        POOLING("pooling.cl"),
        TRAINING("training.cl"),
        NORMS("norms.cl"),
        ATTACK("attack.cl");

        final String resource;

        Family(String resource) {
            this.resource = resource;
        }
    }

    /** The system property that selects the shared runtime's device (an index or a name substring). */
    public static final String DEVICE_PROPERTY = "opnorm.opencl.device";

    /** Work-group size of the tree reductions (a power of two, fixed per runtime: results depend on it). */
    public static final int REDUCE_WG_MAX = 256;

    static final String INSTALL_HINT = "install an OpenCL runtime: on Debian/Ubuntu "
            + "`apt-get install pocl-opencl-icd ocl-icd-libopencl1` (PoCL, runs on the CPU), "
            + "or the GPU vendor's OpenCL driver (NVIDIA: the driver package with libnvidia-compute / "
            + "nvidia-opencl-icd)";

    private static final Object SHARED_LOCK = new Object();
    private static OpenCl shared;
    private static OpenClException sharedFailure;

    private final DeviceInfo info;
    private final cl_device_id device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final int reduceWg;
    private final int elementWg;
    private final Map<String, cl_program> programs = new HashMap<>(); // by family and row-tile variant
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final OpenClOps ops;
    private boolean closed;

    private final AtomicLong uploads = new AtomicLong();
    private final AtomicLong downloads = new AtomicLong();
    private final AtomicLong uploadedBytes = new AtomicLong();
    private final AtomicLong downloadedBytes = new AtomicLong();
    private final AtomicLong launches = new AtomicLong();
    private final AtomicLong allocations = new AtomicLong();

    private OpenCl(DeviceInfo info) {
        this.info = info;
        this.device = info.device;
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, info.platform);
        this.context = CL.clCreateContext(props, 1, new cl_device_id[]{device}, null, null, null);
        // clCreateCommandQueue is deprecated in OpenCL 2.0 but is the one call every 1.2+ driver has
        @SuppressWarnings("deprecation")
        cl_command_queue q = CL.clCreateCommandQueue(context, device, 0, null);
        this.queue = q;
        int wg = REDUCE_WG_MAX;
        while (wg > info.maxWorkGroupSize) {
            wg /= 2;
        }
        this.reduceWg = wg;
        this.elementWg = (int) Math.min(64, info.maxWorkGroupSize);
        this.ops = new OpenClOps(this);
    }

    // ---- discovery ---------------------------------------------------------------------------------

    /** True when at least one OpenCL device can be found (never throws). */
    public static boolean available() {
        try {
            return !devices().isEmpty();
        } catch (OpenClException e) {
            return false;
        }
    }

    /**
     * Every OpenCL device of every platform, in platform order then device order (the index used by
     * selectors).
     *
     * @throws OpenClException when the OpenCL library or any platform is missing
     */
    public static List<DeviceInfo> devices() {
        cl_platform_id[] platforms;
        try {
            // loads JOCL's native library and libOpenCL; every failing cl* call then throws CLException
            CL.setExceptionsEnabled(true);
            int[] num = new int[1];
            CL.clGetPlatformIDs(0, null, num);
            platforms = new cl_platform_id[num[0]];
            if (num[0] > 0) {
                CL.clGetPlatformIDs(num[0], platforms, null);
            }
        } catch (LinkageError e) {
            throw new OpenClException("the OpenCL library (libOpenCL) could not be loaded (" + e.getMessage()
                    + "); " + INSTALL_HINT, e);
        } catch (CLException e) {
            // the ICD loader reports CL_PLATFORM_NOT_FOUND_KHR when no vendor driver is registered
            throw new OpenClException("no OpenCL platform found (" + e.getMessage() + "); " + INSTALL_HINT, e);
        }
        if (platforms.length == 0) {
            throw new OpenClException("no OpenCL platform found; " + INSTALL_HINT);
        }
        List<DeviceInfo> out = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            int[] num = new int[1];
            try {
                CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, 0, null, num);
            } catch (CLException e) {
                continue; // CL_DEVICE_NOT_FOUND: a platform without devices
            }
            cl_device_id[] ds = new cl_device_id[num[0]];
            CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, num[0], ds, null);
            for (cl_device_id d : ds) {
                out.add(DeviceInfo.query(out.size(), p, d));
            }
        }
        return out;
    }

    /**
     * Opens a runtime on the selected device (see the class comment for selectors).
     *
     * @throws OpenClException          when no OpenCL device exists
     * @throws IllegalArgumentException when the selector matches no device
     */
    public static OpenCl open(String selector) {
        List<DeviceInfo> all = devices();
        if (all.isEmpty()) {
            throw new OpenClException("OpenCL platforms exist but none has a device; " + INSTALL_HINT);
        }
        return new OpenCl(select(all, selector));
    }

    /**
     * The device {@link #shared()} uses among {@code all}: the one {@code -Dopnorm.opencl.device} selects,
     * else the first GPU, else the first device.
     *
     * @throws IllegalArgumentException when the property matches no device
     */
    public static DeviceInfo sharedSelection(List<DeviceInfo> all) {
        return select(all, System.getProperty(DEVICE_PROPERTY));
    }

    static DeviceInfo select(List<DeviceInfo> all, String selector) {
        if (selector == null || selector.isBlank()) {
            for (DeviceInfo d : all) {
                if (d.isGpu()) {
                    return d;
                }
            }
            return all.get(0);
        }
        String s = selector.trim();
        if (s.chars().allMatch(Character::isDigit)) {
            int i = Integer.parseInt(s);
            if (i >= all.size()) {
                throw new IllegalArgumentException("OpenCL device index " + i + " out of range: "
                        + all.size() + " device(s) found (list them with `opnorm devices`)");
            }
            return all.get(i);
        }
        for (DeviceInfo d : all) {
            if (d.name.toLowerCase(Locale.ROOT).contains(s.toLowerCase(Locale.ROOT))) {
                return d;
            }
        }
        throw new IllegalArgumentException("no OpenCL device name contains \"" + s
                + "\" (list them with `opnorm devices`)");
    }

    /**
     * The runtime every caller in this JVM shares (opened on first use with the selector in
     * {@code -Dopnorm.opencl.device}); programs are therefore built once per JVM. Never closed.
     *
     * @throws OpenClException when no OpenCL device exists (the same exception on every call)
     */
    public static OpenCl shared() {
        synchronized (SHARED_LOCK) {
            if (shared != null) {
                return shared;
            }
            if (sharedFailure != null) {
                throw new OpenClException(sharedFailure.getMessage(), sharedFailure);
            }
            try {
                shared = open(System.getProperty(DEVICE_PROPERTY));
                return shared;
            } catch (OpenClException e) {
                sharedFailure = e;
                throw e;
            }
        }
    }

    // ---- accessors ---------------------------------------------------------------------------------

    /** The selected device. */
    public DeviceInfo device() {
        return info;
    }

    /** The device-level operations on this runtime's queue. */
    public OpenClOps ops() {
        return ops;
    }

    /** Work-group size of the deterministic tree reductions on this device (a power of two, at most 256). */
    public int reduceWorkGroup() {
        return reduceWg;
    }

    /** Host-to-device copies so far (each {@link DeviceTensor} upload counts one). */
    public long uploads() {
        return uploads.get();
    }

    /** Device-to-host copies so far (each download or scalar read counts one). */
    public long downloads() {
        return downloads.get();
    }

    public long uploadedBytes() {
        return uploadedBytes.get();
    }

    public long downloadedBytes() {
        return downloadedBytes.get();
    }

    /** Kernel launches enqueued so far. */
    public long launches() {
        return launches.get();
    }

    /** Blocks until every enqueued command has finished. */
    public void finish() {
        CL.clFinish(queue);
    }

    // ---- buffers ------------------------------------------------------------------------------------

    /** Device buffers created so far (DeviceTensor / DeviceInts allocations), for tests of buffer reuse. */
    public long allocations() {
        return allocations.get();
    }

    cl_mem allocate(long bytes) {
        checkOpen();
        try {
            allocations.incrementAndGet();
            return CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, Math.max(bytes, 4), null, null);
        } catch (CLException e) {
            throw new OpenClException("cannot allocate " + bytes + " bytes on " + info.name + ": " + e.getMessage(), e);
        }
    }

    void write(cl_mem mem, long byteOffset, long bytes, Pointer src) {
        checkOpen();
        // blocking: the Java array may move once the call returns
        CL.clEnqueueWriteBuffer(queue, mem, CL.CL_TRUE, byteOffset, bytes, src, 0, null, null);
        uploads.incrementAndGet();
        uploadedBytes.addAndGet(bytes);
    }

    void read(cl_mem mem, long byteOffset, long bytes, Pointer dst) {
        checkOpen();
        CL.clEnqueueReadBuffer(queue, mem, CL.CL_TRUE, byteOffset, bytes, dst, 0, null, null);
        downloads.incrementAndGet();
        downloadedBytes.addAndGet(bytes);
    }

    void copy(cl_mem src, long srcOffset, cl_mem dst, long dstOffset, long bytes) {
        checkOpen();
        CL.clEnqueueCopyBuffer(queue, src, dst, srcOffset, dstOffset, bytes, 0, null, null);
    }

    // ---- programs and launches ----------------------------------------------------------------------

    /**
     * The cached kernel {@code name} of {@code family}, building the family's program on first use.
     * {@code rowTile} selects the build variant of the tiled kernels (-DTSM=16, 32 or 64; 0: default).
     */
    synchronized cl_kernel kernel(Family family, int rowTile, String name) {
        checkOpen();
        String key = family.name() + "/" + rowTile + "/" + name;
        cl_kernel k = kernels.get(key);
        if (k == null) {
            cl_program p = program(family, rowTile);
            try {
                k = CL.clCreateKernel(p, name, null);
            } catch (CLException e) {
                throw new OpenClException("kernel " + name + " not found in " + family.resource + " on "
                        + info.name + ": " + e.getMessage(), e);
            }
            kernels.put(key, k);
        }
        return k;
    }

    /** Builds all kernel families now (otherwise each is built on first use). */
    public synchronized void buildAll() {
        for (Family f : Family.values()) {
            program(f, 0);
        }
    }

    private cl_program program(Family family, int rowTile) {
        String key = family.name() + "/" + rowTile;
        cl_program p = programs.get(key);
        if (p != null) {
            return p;
        }
        if ((family == Family.BATCHNORM || family == Family.TRAINING || family == Family.NORMS
                || family == Family.ATTACK) && !info.hasFp64()) {
            throw new OpenClException("device " + info.name + " lacks cl_khr_fp64, which " + family.resource
                    + " needs for its double-precision statistics and loss (the same precision as the CPU code)");
        }
        p = build(family.resource, resource("common.cl") + "\n" + resource(family.resource),
                rowTile > 0 ? " -DTSM=" + rowTile : "");
        programs.put(key, p);
        return p;
    }

    /**
     * Builds {@code source} for this device; {@code name} labels errors.
     *
     * @throws OpenClException with the device name and the full build log when it does not compile
     */
    cl_program build(String name, String source) {
        return build(name, source, "");
    }

    private cl_program build(String name, String source, String extraOptions) {
        cl_program p = CL.clCreateProgramWithSource(context, 1, new String[]{source}, null, null);
        // no fast-math: the kernels must give the same results as their Java twins
        String options = "-cl-std=CL1.2 -DREDUCE_WG=" + reduceWg + extraOptions;
        try {
            CL.clBuildProgram(p, 1, new cl_device_id[]{device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(p);
            CL.clReleaseProgram(p);
            throw new OpenClException("OpenCL program " + name + " failed to build on device "
                    + info.name + " (" + info.version + ") with options \"" + options + "\": " + e.getMessage()
                    + "\n--- build log ---\n" + log, e);
        }
        return p;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            CL.clGetProgramBuildInfo(p, device, CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] buf = new byte[(int) size[0]];
            CL.clGetProgramBuildInfo(p, device, CL.CL_PROGRAM_BUILD_LOG, buf.length, Pointer.to(buf), null);
            return DeviceInfo.cString(buf);
        } catch (CLException e) {
            return "(build log unavailable: " + e.getMessage() + ")";
        }
    }

    static String resource(String name) {
        try (InputStream in = OpenCl.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing kernel resource dev/opnorm/gpu/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read kernel resource " + name, e);
        }
    }

    /**
     * Enqueues {@code name} of {@code family} over a 1-D or 2-D range. {@code args} are DeviceBuffer,
     * Integer, Float or Double (fp64 programs only) values in parameter order. {@code local} null: a 1-D range in fixed work-groups
     * of 64 (the range rounded up; kernels check their bounds).
     * Returns without waiting.
     */
    void launch(Family family, String name, long[] global, long[] local, Object... args) {
        launch(family, 0, name, global, local, args);
    }

    /** As {@link #launch(Family, String, long[], long[], Object...)} for build variant {@code rowTile}. */
    void launch(Family family, int rowTile, String name, long[] global, long[] local, Object... args) {
        for (long g : global) {
            if (g == 0) {
                return; // an empty range is legal for the caller but an error for clEnqueueNDRangeKernel
            }
        }
        if (local == null) {
            // A fixed work-group size, the range rounded up (every kernel checks its bounds): drivers
            // that specialize a kernel per work-group size (PoCL) then compile each kernel once.
            local = new long[]{elementWg};
            global = new long[]{(global[0] + elementWg - 1) / elementWg * elementWg};
        }
        synchronized (this) {
            cl_kernel k = kernel(family, rowTile, name);
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                if (a instanceof DeviceBuffer) {
                    DeviceBuffer b = (DeviceBuffer) a;
                    b.checkUsable(this);
                    CL.clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(b.mem));
                } else if (a instanceof Integer) {
                    CL.clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[]{(Integer) a}));
                } else if (a instanceof Float) {
                    CL.clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[]{(Float) a}));
                } else if (a instanceof Double) {
                    CL.clSetKernelArg(k, i, Sizeof.cl_double, Pointer.to(new double[]{(Double) a}));
                } else {
                    throw new IllegalArgumentException("unsupported kernel argument " + i + " of " + name + ": " + a);
                }
            }
            CL.clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null);
            launches.incrementAndGet();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("OpenCL runtime on " + info.name + " is closed");
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Releases the kernels, programs, queue and context. Buffers must be closed by their owners first. */
    @Override
    public synchronized void close() {
        if (closed || this == shared) {
            return;
        }
        closed = true;
        CL.clFinish(queue);
        kernels.values().forEach(CL::clReleaseKernel);
        programs.values().forEach(CL::clReleaseProgram);
        CL.clReleaseCommandQueue(queue);
        CL.clReleaseContext(context);
    }

    @Override
    public String toString() {
        return "OpenCl[" + info.name + "]";
    }
}
