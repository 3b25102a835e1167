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
        throw new IllegalArgumentException("unknown model '" + spec
                + "': expected cnn7, cnn7-w<width factor> (e.g. cnn7-w0.25) or wrn-<depth>-<k> (e.g. wrn-28-10)");
    }
}
