package dev.opnorm.robust.analysis;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.layers.SequentialLinearization;

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
        return asSequential(model, upTo).forwardUpTo(x, upTo);
    }

    /** The linearization of phi at x: output phi(x) and its Jacobian. */
    static Linearization linearize(Layer model, String upTo, Tensor x) {
        Linearization lin = model.linearize(x, BnMode.EVAL);
        if (upTo == null) {
            return lin;
        }
        asSequential(model, upTo);
        return ((SequentialLinearization) lin).upTo(upTo);
    }

    private static Sequential asSequential(Layer model, String upTo) {
        if (!(model instanceof Sequential s)) {
            throw new IllegalArgumentException("features up to '" + upTo + "' need a Sequential model, got "
                    + model.qualifiedName());
        }
        return s;
    }
}
