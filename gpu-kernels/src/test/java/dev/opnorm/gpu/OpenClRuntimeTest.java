package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device discovery and selection, buffers, transfer counting and the error paths of {@link OpenCl}. */
class OpenClRuntimeTest {

    @Test
    void devices_listAtLeastOneUsableDevice() {
        OpenCl cl = OpenClTesting.runtime();
        List<DeviceInfo> all = OpenCl.devices();
        assertFalse(all.isEmpty());
        assertTrue(OpenCl.available());
        DeviceInfo d = cl.device();
        assertTrue(d.computeUnits > 0 && d.globalMemBytes > 0 && d.maxWorkGroupSize > 0, d.toString());
        assertTrue(d.version.startsWith("OpenCL"), d.version);
        int wg = cl.reduceWorkGroup();
        assertTrue(wg > 0 && (wg & (wg - 1)) == 0 && wg <= d.maxWorkGroupSize, "reduce work-group " + wg);
        assertSame(cl, OpenCl.shared(), "one runtime per JVM");
    }

    @Test
    void select_byIndexNameOrDefault_andRejectsUnknown() {
        List<DeviceInfo> all = OpenCl.devices();
        DeviceInfo first = all.get(0);
        assertSame(first, OpenCl.select(all, "0"));
        assertSame(first, OpenCl.select(all, first.name.substring(0, Math.min(4, first.name.length())).toUpperCase()));
        DeviceInfo dflt = OpenCl.select(all, null);
        assertTrue(dflt.isGpu() || all.stream().noneMatch(DeviceInfo::isGpu), "default prefers a GPU");
        IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class, () -> OpenCl.select(all, "99"));
        assertTrue(e1.getMessage().contains("out of range"), e1.getMessage());
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> OpenCl.select(all, "no-such-device-xyz"));
        assertTrue(e2.getMessage().contains("no-such-device-xyz"), e2.getMessage());
    }

    @Test
    void deviceTensor_roundTrip_countsEachTransfer() {
        OpenCl cl = OpenClTesting.runtime();
        float[] data = {1f, -2f, 3.5f, Float.NaN, 0f};
        long up = cl.uploads(), down = cl.downloads(), upB = cl.uploadedBytes(), downB = cl.downloadedBytes();
        try (DeviceTensor t = DeviceTensor.of(cl, data)) {
            assertEquals(up + 1, cl.uploads());
            assertEquals(upB + 20, cl.uploadedBytes());
            assertArrayEquals(data, t.download());
            assertEquals(-2f, t.readScalar(1));
            assertEquals(down + 2, cl.downloads());
            assertEquals(downB + 24, cl.downloadedBytes());
            float[] part = new float[4];
            t.download(part, 1, 2, 2);
            assertArrayEquals(new float[]{0f, 0f, -2f, 3.5f}, part);
        }
        try (DeviceInts ints = DeviceInts.of(cl, new int[]{4, -1, 7})) {
            int[] back = new int[3];
            ints.download(back, 3);
            assertArrayEquals(new int[]{4, -1, 7}, back);
        }
    }

    @Test
    void deviceOps_rejectShortClosedOrForeignBuffers() {
        OpenCl cl = OpenClTesting.runtime();
        Conv2dDims d = new Conv2dDims(1, 2, 5, 5, 3, 3, 3, 1, 1);
        try (DeviceTensor x = DeviceTensor.allocate(cl, new Shape(1, 2, 5, 5));
             DeviceTensor w = DeviceTensor.allocate(cl, d.weightSize());
             DeviceTensor shortY = DeviceTensor.allocate(cl, d.outputSize() - 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cl.ops().conv2dForward(shortY, x, w, null, d));
            assertTrue(e.getMessage().contains("conv2dForward y"), e.getMessage());
            DeviceTensor closed = DeviceTensor.allocate(cl, d.outputSize());
            closed.close();
            assertThrows(IllegalStateException.class, () -> cl.ops().conv2dForward(closed, x, w, null, d));
            assertThrows(IllegalArgumentException.class, () -> x.upload(new float[3]));
            try (OpenCl other = OpenCl.open(String.valueOf(cl.device().index));
                 DeviceTensor foreign = DeviceTensor.allocate(other, d.outputSize())) {
                IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                        () -> cl.ops().conv2dForward(foreign, x, w, null, d));
                assertTrue(e2.getMessage().contains("belongs to"), e2.getMessage());
            }
        }
    }

    @Test
    void build_failure_reportsDeviceAndFullBuildLog() {
        OpenCl cl = OpenClTesting.runtime();
        OpenClException e = assertThrows(OpenClException.class,
                () -> cl.build("broken.cl", "__kernel void broken(__global float *y) { y[0] = undeclared_name; }"));
        assertTrue(e.getMessage().contains("broken.cl"), e.getMessage());
        assertTrue(e.getMessage().contains(cl.device().name), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared_name"), "the build log names the error: " + e.getMessage());
    }

    @Test
    void allKernelFamilies_build() {
        OpenCl cl = OpenClTesting.runtime();
        cl.buildAll();
        for (OpenCl.Family f : OpenCl.Family.values()) {
            assertTrue(OpenCl.resource(f.resource).contains("__kernel"), f.resource);
        }
    }

    /** Runs {@link NoOpenClProbe} in a JVM whose ICD loader finds no vendor: the error must name the packages. */
    @Test
    void noPlatform_failsWithInstallHint_notAFallback(@TempDir Path emptyVendors) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                NoOpenClProbe.class.getName());
        pb.environment().put("OCL_ICD_VENDORS", emptyVendors.toString()); // ocl-icd: look for .icd files here only
        pb.environment().remove("OCL_ICD_FILENAMES");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("pocl-opencl-icd") && out.contains("ocl-icd-libopencl1"), out);
        assertTrue(Files.isDirectory(emptyVendors));
    }
}
