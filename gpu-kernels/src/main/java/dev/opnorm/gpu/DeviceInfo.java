package dev.opnorm.gpu;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * What one OpenCL device is: its index in {@link OpenCl#devices()}, platform, name, type and the limits
 * the kernels depend on. Queried once when devices are listed.
 */
public final class DeviceInfo {
    public final int index;
    public final String platformName;
    public final String name;
    public final String vendor;
    /** "GPU", "CPU", "ACCELERATOR" or a combination, e.g. "CPU". */
    public final String type;
    public final int computeUnits;
    public final long globalMemBytes;
    public final long localMemBytes;
    public final long maxAllocBytes;
    public final long maxWorkGroupSize;
    /** CL_DEVICE_VERSION, e.g. "OpenCL 3.0 CUDA". */
    public final String version;
    /** CL_DEVICE_OPENCL_C_VERSION, e.g. "OpenCL C 1.2". */
    public final String openClCVersion;
    public final String driverVersion;
    public final String extensions;

    final cl_platform_id platform;
    final cl_device_id device;
    private final long typeBits;

    private DeviceInfo(int index, cl_platform_id platform, cl_device_id device) {
        this.index = index;
        this.platform = platform;
        this.device = device;
        this.platformName = platformString(platform, CL.CL_PLATFORM_NAME);
        this.name = string(device, CL.CL_DEVICE_NAME);
        this.vendor = string(device, CL.CL_DEVICE_VENDOR);
        this.typeBits = longValue(device, CL.CL_DEVICE_TYPE);
        this.type = typeName(typeBits);
        this.computeUnits = (int) intValue(device, CL.CL_DEVICE_MAX_COMPUTE_UNITS);
        this.globalMemBytes = longValue(device, CL.CL_DEVICE_GLOBAL_MEM_SIZE);
        this.localMemBytes = longValue(device, CL.CL_DEVICE_LOCAL_MEM_SIZE);
        this.maxAllocBytes = longValue(device, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE);
        this.maxWorkGroupSize = sizeValue(device, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE);
        this.version = string(device, CL.CL_DEVICE_VERSION);
        this.openClCVersion = string(device, CL.CL_DEVICE_OPENCL_C_VERSION);
        this.driverVersion = string(device, CL.CL_DRIVER_VERSION);
        this.extensions = string(device, CL.CL_DEVICE_EXTENSIONS);
    }

    static DeviceInfo query(int index, cl_platform_id platform, cl_device_id device) {
        return new DeviceInfo(index, platform, device);
    }

    public boolean isGpu() {
        return (typeBits & CL.CL_DEVICE_TYPE_GPU) != 0;
    }

    /** Whether the device supports double precision (batchnorm.cl accumulates in double). */
    public boolean hasFp64() {
        return extensions.contains("cl_khr_fp64");
    }

    @Override
    public String toString() {
        return "#" + index + " " + name + " (" + type + ", " + platformName + ")";
    }

    private static String typeName(long bits) {
        List<String> parts = new ArrayList<>();
        if ((bits & CL.CL_DEVICE_TYPE_GPU) != 0) {
            parts.add("GPU");
        }
        if ((bits & CL.CL_DEVICE_TYPE_CPU) != 0) {
            parts.add("CPU");
        }
        if ((bits & CL.CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            parts.add("ACCELERATOR");
        }
        if (parts.isEmpty()) {
            parts.add("OTHER");
        }
        return String.join("+", parts);
    }

    static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8).trim();
    }

    private static String string(cl_device_id d, int param) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(d, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        CL.clGetPlatformInfo(p, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null);
        return cString(buf);
    }

    private static long longValue(cl_device_id d, int param) {
        long[] v = new long[1];
        CL.clGetDeviceInfo(d, param, Sizeof.cl_long, Pointer.to(v), null);
        return v[0];
    }

    private static long intValue(cl_device_id d, int param) {
        int[] v = new int[1];
        CL.clGetDeviceInfo(d, param, Sizeof.cl_int, Pointer.to(v), null);
        return v[0];
    }

    private static long sizeValue(cl_device_id d, int param) {
        long[] v = new long[1];
        CL.clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }
}
