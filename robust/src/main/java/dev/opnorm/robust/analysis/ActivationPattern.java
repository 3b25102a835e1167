package dev.opnorm.robust.analysis;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.ActivationSite;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The activation pattern phi_x of a piecewise-linear network at a batch of inputs: the on/off state of
 * every ReLU unit and the selected index of every max-pooling window. Two inputs with the same pattern lie
 * in the same cell X(phi), on which the network is one affine map: f(x + dx) = f(x) + J dx (the setting of
 * Theorem 1). With BatchNorm in EVAL mode and the other layers affine, these are all the pieces.
 *
 * <p>The states are read from the network's linearization, so they follow exactly the conventions the
 * derivative passes use: a ReLU unit is on where its output is &gt; 0 (x &gt; 0 strictly, ReLU'(0) = 0: exactly
 * where its JVP passes a tangent), and a pooling window's index is the input position its JVP gathers from
 * (the kernels' tie rule). The linearization is walked with {@link Linearization#visit}, which descends into
 * every composite - Sequentials and residual blocks alike - so the ReLUs inside a WideResNet's blocks count
 * too; each part reports its own states ({@link Linearization#activationSite()}). Other leaves (conv, BN,
 * linear, flatten, average pooling) are affine and contribute no sites.
 */
public final class ActivationPattern {
    /** What a site records. */
    public enum Kind {
        /** 1 = unit on, 0 = off, per unit (a ReLU; any {@link ActivationSite.Kind#ON_OFF} site). */
        RELU,
        /** Per window, 1 + the per-example flat input index of the maximum ({@link ActivationSite.Kind#SELECTED_INDEX}). */
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

    /** The pattern of {@code model} at x (BatchNorm EVAL). Costs one linearization (forward pass) of x. */
    public static ActivationPattern of(Layer model, Tensor x) {
        if (model == null || x == null) {
            throw new IllegalArgumentException("model and x must not be null");
        }
        return of(model.linearize(x, BnMode.EVAL));
    }

    /**
     * The pattern read from an existing linearization (any BatchNorm mode; the states are those of the
     * linearization's own forward pass). Costs one JVP per max-pooling layer, nothing per ReLU.
     */
    public static ActivationPattern of(Linearization lin) {
        if (lin == null) {
            throw new IllegalArgumentException("linearization must not be null");
        }
        List<Site> sites = new ArrayList<>();
        lin.visit(part -> {
            ActivationSite a = part.activationSite();
            if (a != null) {
                Kind kind = switch (a.kind()) {
                    case ON_OFF -> Kind.RELU;
                    case SELECTED_INDEX -> Kind.MAX_POOL;
                };
                sites.add(new Site(a.layer(), kind, a.perExample(), a.states()));
            }
        });
        return new ActivationPattern(lin.inShape().n(), sites);
    }

    /** Number of ReLU units per example (the length of the ReLU part of the pattern). */
    public long reluUnitsPerExample() {
        long n = 0;
        for (Site s : sites) {
            if (s.kind == Kind.RELU) {
                n += s.perExample;
            }
        }
        return n;
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
