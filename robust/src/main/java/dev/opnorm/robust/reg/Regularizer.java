package dev.opnorm.robust.reg;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;

import java.util.List;
import java.util.Map;

/**
 * A penalty added to the training loss. For one batch it computes its value and ACCUMULATES (+=) its
 * parameter gradient into a {@link ParamGrads}; the training method adds the value to the loss.
 *
 * <p>Values are batch means of per-example penalties (data-dependent regularizers) or per-step
 * penalties (global ones), so they add to a mean cross-entropy with the paper's meaning of lambda.
 * Random choices (power-iteration start vectors) are drawn from {@link RegBatch#seed()} only, so a
 * step is a pure function of the model, the batch and that seed.
 */
public interface Regularizer {
    /** A short identifier, e.g. "dd-snr", used in logs and loss breakdowns. */
    String name();

    /**
     * The penalty for this batch; its parameter gradient is added to {@code grads}. May run forward
     * and derivative passes of the model (in the BatchNorm mode the regularizer documents); never
     * commits BatchNorm statistics.
     *
     * @return the penalty value (finite unless the model diverged)
     */
    double accumulate(RegBatch batch, ParamGrads grads);

    /**
     * Persistent state that must survive a checkpoint for a resumed run to be bit-identical (e.g. the
     * power-iteration vectors of global spectral norm regularization), as named tensors. The arrays are
     * the live state: loading a checkpoint writes into them. Default: none.
     */
    default List<Param> state() {
        return List.of();
    }

    /** The settings, for the run's configuration record (JSON-compatible values). */
    Map<String, Object> config();
}
