package dev.opnorm.robust.analysis;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The activation pattern phi_x of a piecewise-linear network at a batch of inputs: the on/off state of
 * every ReLU unit and the selected index of every max-pooling window. Two inputs with the same pattern lie
 * in the same cell X(phi), on which the network is one affine map: f(x + dx) = f(x) + J dx (the setting of
 * Theorem 1). With BatchNorm in EVAL mode and the other layers affine, these are all the pieces.
 *
 * <p>The states are read through the layers' own Jacobians, so they follow exactly the conventions the
 * derivative passes use: a ReLU unit is on where its JVP passes a tangent (x &gt; 0 strictly, ReLU'(0) = 0),
 * and a pooling window's index is the input position its JVP gathers from (the kernels' tie rule). The
 * network is walked through nested {@link Sequential}s; ReLU and MaxPool2d leaves contribute sites, other
 * leaves (conv, BN, linear, flatten, average pooling) are affine and contribute none. A container that is not
 * a Sequential is treated as one opaque leaf.
 */
public final class ActivationPattern {
    /** What a site records. */
    public enum Kind {
        /** 1 = unit on, 0 = off, per unit. */
        RELU,
        /** Per window, 1 + the per-example flat input index of the maximum. */
        MAX_POOL
    }

    /**
     * One ReLU or max-pooling layer's states for the whole batch.
     *
     * @param layer      the layer's qualified name
     * @param kind       what the states mean
     * @param perExample states per example
     * @param states     batch * perExample states, example-major
     */
    public record Site(String layer, Kind kind, int perExample, int[] states) {
    }

    private final int batch;
    private final List<Site> sites;

    private ActivationPattern(int batch, List<Site> sites) {
        this.batch = batch;
        this.sites = Collections.unmodifiableList(sites);
    }

    /** The pattern of {@code model} at x (BatchNorm EVAL). Costs one forward pass and one JVP per ReLU/pooling layer. */
    public static ActivationPattern of(Layer model, Tensor x) {
        if (model == null || x == null) {
            throw new IllegalArgumentException("model and x must not be null");
        }
        List<Site> sites = new ArrayList<>();
        walk(model, x, sites);
        return new ActivationPattern(x.shape.n(), sites);
    }

    private static Tensor walk(Layer layer, Tensor x, List<Site> sites) {
        if (layer instanceof Sequential s) {
            Tensor t = x;
            for (Layer c : s.children()) {
                t = walk(c, t, sites);
            }
            return t;
        }
        Linearization lin = layer.linearize(x, BnMode.EVAL);
        if (layer instanceof ReLU || layer instanceof MaxPool2d) {
            int per = x.shape.perExample();
            float[] probe = new float[x.data.length];
            for (int j = 0; j < probe.length; j++) {
                // ReLU: any nonzero tangent shows the mask; pooling: a ramp reveals the gathered index.
                // Per-example indices stay far below 2^24, so they are exact in float.
                probe[j] = layer instanceof ReLU ? 1f : j % per + 1;
            }
            float[] out = new float[lin.outShape().size()];
            lin.jvp(probe, out);
            int[] states = new int[out.length];
            for (int j = 0; j < out.length; j++) {
                states[j] = (int) out[j];
            }
            sites.add(new Site(layer.qualifiedName(), layer instanceof ReLU ? Kind.RELU : Kind.MAX_POOL,
                    lin.outShape().perExample(), states));
        }
        return lin.output();
    }

    public int batch() {
        return batch;
    }

    /** The sites in network order. */
    public List<Site> sites() {
        return sites;
    }

    /** Per example: the number of ReLU units and pooling windows whose state differs from {@code other}'s. */
    public int[] differences(ActivationPattern other) {
        checkCompatible(other);
        int[] d = new int[batch];
        for (int s = 0; s < sites.size(); s++) {
            Site a = sites.get(s), b = other.sites.get(s);
            for (int j = 0; j < a.states.length; j++) {
                if (a.states[j] != b.states[j]) {
                    d[j / a.perExample]++;
                }
            }
        }
        return d;
    }

    /** Per example: whether both inputs lie in the same cell (every state equal). */
    public boolean[] sameCell(ActivationPattern other) {
        int[] d = differences(other);
        boolean[] out = new boolean[batch];
        for (int i = 0; i < batch; i++) {
            out[i] = d[i] == 0;
        }
        return out;
    }

    /** Per example: the fraction of ReLU units whose on/off state agrees with {@code other}'s (Fig. 5). */
    public double[] sharedReluFraction(ActivationPattern other) {
        checkCompatible(other);
        long[] same = new long[batch];
        long total = 0;
        for (int s = 0; s < sites.size(); s++) {
            Site a = sites.get(s), b = other.sites.get(s);
            if (a.kind != Kind.RELU) {
                continue;
            }
            total += a.perExample;
            for (int j = 0; j < a.states.length; j++) {
                if (a.states[j] == b.states[j]) {
                    same[j / a.perExample]++;
                }
            }
        }
        if (total == 0) {
            throw new IllegalArgumentException("the network has no ReLU layers");
        }
        double[] out = new double[batch];
        for (int i = 0; i < batch; i++) {
            out[i] = same[i] / (double) total;
        }
        return out;
    }

    private void checkCompatible(ActivationPattern o) {
        if (o.batch != batch || o.sites.size() != sites.size()) {
            throw new IllegalArgumentException("patterns of different batches or networks: batch " + batch + " vs "
                    + o.batch + ", " + sites.size() + " vs " + o.sites.size() + " sites");
        }
        for (int s = 0; s < sites.size(); s++) {
            if (!sites.get(s).layer.equals(o.sites.get(s).layer)
                    || sites.get(s).states.length != o.sites.get(s).states.length) {
                throw new IllegalArgumentException("patterns of different networks: site " + s + " is "
                        + sites.get(s).layer + " vs " + o.sites.get(s).layer);
            }
        }
    }
}
