package dev.opnorm.experiments.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.opnorm.gpu.DeviceInfo;
import dev.opnorm.gpu.OpenCl;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code opnorm devices}: lists the OpenCL platforms and devices the {@code opencl} backend can use,
 * with the limits that matter to it, and marks the one it picks by default. With no OpenCL runtime it
 * fails with the packages to install (exit code 2), never with an empty list.
 */
@Command(name = "devices",
        mixinStandardHelpOptions = true,
        description = {"List the OpenCL platforms and devices (type, compute units, global memory, max work-group "
                + "size, OpenCL version) usable by --backend opencl.",
                "The default device is the first GPU, else the first device; choose another with "
                        + "-Dopnorm.opencl.device=<index or name substring> (OPNORM_JAVA_OPTS for ./opnorm)."})
public final class DevicesCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<DeviceInfo> devices = OpenCl.devices(); // throws OpenClException (reported as an error) when none
        if (devices.isEmpty()) {
            throw new IllegalStateException("OpenCL platforms exist but none has a device; install an OpenCL "
                    + "driver (Debian: apt-get install pocl-opencl-icd ocl-icd-libopencl1, or the GPU vendor's driver)");
        }
        DeviceInfo chosen = OpenCl.sharedSelection(devices);
        String platform = null;
        for (DeviceInfo d : devices) {
            if (!d.platformName.equals(platform)) {
                platform = d.platformName;
                out.println("Platform: " + platform);
            }
            out.printf(Locale.ROOT, "  [%d] %s%s%n", d.index, d.name, d == chosen ? "   (used by --backend opencl)" : "");
            out.printf(Locale.ROOT, "      type %s, vendor %s%n", d.type, d.vendor);
            out.printf(Locale.ROOT, "      compute units %d, global memory %.2f GiB (max allocation %.2f GiB), "
                            + "local memory %d KiB%n", d.computeUnits, d.globalMemBytes / GIB, d.maxAllocBytes / GIB,
                    d.localMemBytes / 1024);
            out.printf(Locale.ROOT, "      max work-group size %d, fp64 %s%n", d.maxWorkGroupSize,
                    d.hasFp64() ? "yes" : "no (the batchnorm kernels need it)");
            out.printf(Locale.ROOT, "      %s, %s, driver %s%n", d.version, d.openClCVersion, d.driverVersion);
        }
        out.flush();
        return 0;
    }

    private static final double GIB = 1024.0 * 1024 * 1024;
}
