package dev.opnorm.robust.analysis;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;

/**
 * phi = the network up to (and including) a named child - e.g. "features" of the 7-layer CNN, the penultimate
 * features phi^{L-1} of the paper's figures - or the whole network when the path is null. BatchNorm EVAL.
 */
final class Features {
    private Features() {
    }

    /** phi(x), no residuals kept. */
    static Tensor forward(Layer model, String upTo, Tensor x) {
        if (upTo == null) {
            return model.forward(x);
        }
        return model.forwardUpTo(x, upTo);
    }

    /**
     * The linearization of phi at x: output phi(x) and its Jacobian.
     *
     * @throws IllegalArgumentException when the model is not a chain of named layers or has no such child
     */
    static Linearization linearize(Layer model, String upTo, Tensor x) {
        Linearization lin = model.linearize(x, BnMode.EVAL);
        return upTo == null ? lin : lin.upTo(upTo);
    }
}
