package dev.opnorm.nn.models;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.Sequential;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Networks by name, for command lines and configuration files:
 * <ul>
 *   <li>{@code cnn7} or {@code cnn7-w<factor>} (e.g. {@code cnn7-w0.25}): the 7-layer CNN, width factor 1 by default;</li>
 *   <li>{@code wrn-<depth>-<k>} (e.g. {@code wrn-28-10}, {@code wrn-10-1}): WideResNet-depth-k.</li>
 * </ul>
 */
public final class Models {
    private static final Pattern CNN7 = Pattern.compile("cnn7(?:-w([0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?))?");
    private static final Pattern WRN = Pattern.compile("wrn-([0-9]+)-([0-9]+)");

    private Models() {
    }

    /** With the default kernels. */
    public static Sequential create(String spec, int inChannels, int classes, long seed) {
        return create(spec, inChannels, classes, seed, Engine.kernels());
    }

    /**
     * The network named by {@code spec}, initialized from {@code seed}.
     *
     * @throws IllegalArgumentException for an unknown name (the message lists the accepted forms) or
     *                                  invalid numbers
     */
    public static Sequential create(String spec, int inChannels, int classes, long seed, Kernels kernels) {
        // refuse a network that cannot fit before allocating any of it: an OutOfMemoryError half-way is no answer
        double floats = parameterCount(spec, inChannels, classes);
        long heap = Runtime.getRuntime().maxMemory();
        if (floats * Float.BYTES > heap) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "model '%s' has %.3g parameters "
                    + "and buffers (%s as float32), more than the whole Java heap (%s): choose a smaller model or "
                    + "width, or give the JVM more memory (-Xmx)", spec, floats, bytes(floats * Float.BYTES),
                    bytes(heap)));
        }
        String s = spec == null ? "" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        Matcher m = CNN7.matcher(s);
        if (m.matches()) {
            double width = m.group(1) == null ? 1.0 : Double.parseDouble(m.group(1));
            return Cnn7.create(width, inChannels, classes, seed, kernels);
        }
        m = WRN.matcher(s);
        if (m.matches()) {
            try {
                return WideResNet.create(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), inChannels,
                        classes, seed, kernels);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("model '" + spec + "': number out of range");
            }
        }
        throw unknown(spec);
    }

    private static IllegalArgumentException unknown(String spec) {
        return new IllegalArgumentException("unknown model '" + spec
                + "': expected cnn7, cnn7-w<width factor> (e.g. cnn7-w0.25) or wrn-<depth>-<k> (e.g. wrn-28-10)");
    }

    /**
     * How many float values (parameters and BatchNorm buffers) the network named by {@code spec} holds,
     * computed from its architecture without building it (as a double: a hostile width overflows a long's
     * worth of floats long before it is refused). 0 when the spec's numbers are out of range, so that
     * {@link #create} reports them.
     *
     * @throws IllegalArgumentException for an unknown name
     */
    public static double parameterCount(String spec, int inChannels, int classes) {
        String s = spec == null ? "" : spec.trim().toLowerCase(java.util.Locale.ROOT);
        Matcher m = CNN7.matcher(s);
        if (m.matches()) {
            double width = m.group(1) == null ? 1.0 : Double.parseDouble(m.group(1));
            if (!(width > 0) || Double.isInfinite(width)) {
                return 0;
            }
            double total = 0, c = inChannels;
            for (int base : Cnn7.WIDTHS) {
                double k = Math.max(1, Math.round(base * width));
                total += c * k * 9 + k + 2 * k; // conv weight and bias, BatchNorm running mean and variance
                c = k;
            }
            return total + c * classes + classes;
        }
        m = WRN.matcher(s);
        if (m.matches()) {
            int depth, widen;
            try {
                depth = Integer.parseInt(m.group(1));
                widen = Integer.parseInt(m.group(2));
            } catch (NumberFormatException e) {
                return 0;
            }
            if (depth < 10 || (depth - 4) % 6 != 0 || widen <= 0) {
                return 0;
            }
            int n = (depth - 4) / 6;
            double[] w = {16, 16.0 * widen, 32.0 * widen, 64.0 * widen};
            double total = inChannels * w[0] * 9;
            for (int g = 0; g < 3; g++) {
                for (int i = 0; i < n; i++) {
                    double in = i == 0 ? w[g] : w[g + 1], out = w[g + 1];
                    total += 4 * in + in * out * 9 + 4 * out + out * out * 9 + (in != out ? in * out : 0);
                }
            }
            return total + 4 * w[3] + w[3] * classes + classes;
        }
        throw unknown(spec);
    }

    /** A byte count for messages: "372 GB". */
    public static String bytes(double b) {
        String[] units = {"bytes", "kB", "MB", "GB", "TB", "PB"};
        int u = 0;
        while (b >= 1000 && u < units.length - 1) {
            b /= 1000;
            u++;
        }
        return String.format(java.util.Locale.ROOT, u == 0 ? "%.0f %s" : "%.3g %s", b, units[u]);
    }
}
