package dev.opnorm.experiments.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;

import dev.opnorm.gpu.DeviceInfo;
import dev.opnorm.gpu.OpenCl;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code opnorm devices} on the machine's OpenCL runtime (CI installs PoCL). */
class DevicesCommandTest {

    @Test
    void devices_listsEveryDeviceWithItsLimits_andMarksTheSelectedOne() {
        assertTrue(OpenCl.available(), "no OpenCL device: install pocl-opencl-icd ocl-icd-libopencl1");
        StringWriter sw = new StringWriter();
        CommandLine cl = new CommandLine(new OpnormCli());
        cl.setOut(new PrintWriter(sw));
        assertEquals(0, cl.execute("devices"));
        String out = sw.toString();
        for (DeviceInfo d : OpenCl.devices()) {
            assertTrue(out.contains("[" + d.index + "] " + d.name), out);
            assertTrue(out.contains("compute units " + d.computeUnits), out);
            assertTrue(out.contains("max work-group size " + d.maxWorkGroupSize), out);
            assertTrue(out.contains(d.version), out);
        }
        assertTrue(out.contains("Platform: "), out);
        assertEquals(1, out.split("\\(used by --backend opencl\\)", -1).length - 1, out);
    }
}
