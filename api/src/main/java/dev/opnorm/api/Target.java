package dev.opnorm.api;

import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Sequential;

import java.util.List;

/**
 * Which function's Jacobian a norm, spectrum or matrix is about: the network's logits f(x), its
 * penultimate features phi^{L-1}(x) (the input of the last layer, as in the paper's Sec. 5), or the
 * output of a named intermediate layer. Immutable and thread safe.
 */
public final class Target {
    private static final Target LOGITS = new Target(Kind.LOGITS, null);
    private static final Target PENULTIMATE = new Target(Kind.PENULTIMATE, null);

    private enum Kind { LOGITS, PENULTIMATE, LAYER }

    private final Kind kind;
    private final String path;

    private Target(Kind kind, String path) {
        this.kind = kind;
        this.path = path;
    }

    /** The whole network: input -> logits. The default everywhere. */
    public static Target logits() {
        return LOGITS;
    }

    /**
     * Input -> the input of the network's last child (for {@code Models.cnn7} the flattened "features",
     * for {@code Models.wideResNet} the flattened pooled map before "fc"). Needs a {@link Sequential} model
     * with at least two children.
     */
    public static Target penultimate() {
        return PENULTIMATE;
    }

    /**
     * Input -> the output of the child at a dotted path (PyTorch module names, e.g. "features" or
     * "features.12"), that child included.
     *
     * @param path the child's dotted name
     * @return the target
     * @throws IllegalArgumentException for a null or blank path
     */
    public static Target layer(String path) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("target layer path must not be blank");
        }
        return new Target(Kind.LAYER, path.trim());
    }

    /**
     * The linearization of this target, a prefix of {@code lin} sharing its residuals (no second forward
     * pass).
     *
     * @param model the network {@code lin} was taken from
     * @throws IllegalArgumentException when the target needs a chain of named layers (a {@link Sequential})
     *                                  and the model is not one, or no child has the requested name
     */
    Linearization select(Layer model, Linearization lin) {
        if (kind == Kind.LOGITS) {
            return lin;
        }
        if (kind == Kind.LAYER) {
            return lin.upTo(path);
        }
        List<Layer> children = model.children();
        if (children.size() < 2) {
            throw new IllegalArgumentException("target penultimate: model '" + model.name() + "' ("
                    + model.getClass().getSimpleName() + ") has " + children.size() + " children, needs a chain of "
                    + "at least 2");
        }
        return lin.upTo(children.get(children.size() - 2).name());
    }

    /** "logits", "penultimate" or "layer:&lt;path&gt;". */
    @Override
    public String toString() {
        return switch (kind) {
            case LOGITS -> "logits";
            case PENULTIMATE -> "penultimate";
            case LAYER -> "layer:" + path;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Target t && t.kind == kind && java.util.Objects.equals(t.path, path);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + java.util.Objects.hashCode(path);
    }
}
