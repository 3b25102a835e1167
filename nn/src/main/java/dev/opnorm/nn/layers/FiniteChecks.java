package dev.opnorm.nn.layers;

/**
 * The switch for NaN/Inf checks on layer inputs. Off by default (a pass over every activation costs
 * time); the command line turns it on. When on, every leaf layer checks its input in {@code forward}
 * and {@code linearize} and throws an IllegalArgumentException naming the layer and the first
 * non-finite element, so the first layer that received a bad value is the one reported.
 */
public final class FiniteChecks {
    private static volatile boolean enabled;

    private FiniteChecks() {
    }

    /** Whether layer inputs are checked for NaN and infinities. */
    public static boolean enabled() {
        return enabled;
    }

    /** Turns the checks on or off for all layers (process wide). */
    public static void setEnabled(boolean on) {
        enabled = on;
    }
}
