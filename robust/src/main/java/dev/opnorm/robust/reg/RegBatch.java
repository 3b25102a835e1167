package dev.opnorm.robust.reg;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;

/**
 * What a regularizer sees of one training step.
 *
 * @param model  the network being trained (its current parameters)
 * @param x      the clean input batch (n, c, h, w); never modified
 * @param labels n class labels
 * @param seed   seed of this step's random choices (start vectors)
 * @param train  the model's TRAIN-mode linearization at exactly {@code x} when the training method has
 *               one (so f(x) need not be recomputed), else null; regularizers must not commit it
 */
public record RegBatch(Layer model, Tensor x, int[] labels, long seed, Linearization train) {
    public RegBatch {
        if (model == null || x == null) {
            throw new IllegalArgumentException("RegBatch: model and x must not be null");
        }
        if (labels != null && labels.length != x.shape.n()) {
            throw new IllegalArgumentException("RegBatch: " + labels.length + " labels for a batch of " + x.shape);
        }
        if (train != null && (train.mode() != BnMode.TRAIN || !train.inShape().equals(x.shape))) {
            throw new IllegalArgumentException("RegBatch: the given linearization must be TRAIN-mode at x " + x.shape
                    + ", got " + train.mode() + " at " + train.inShape());
        }
    }

    /** A batch without a reusable TRAIN linearization. */
    public RegBatch(Layer model, Tensor x, int[] labels, long seed) {
        this(model, x, labels, seed, null);
    }

    /** The batch size. */
    public int n() {
        return x.shape.n();
    }

    /**
     * The model's linearization at x in {@code mode}: the given TRAIN one when it fits, else a new
     * one (one forward pass).
     */
    public Linearization linearization(BnMode mode) {
        if (mode == BnMode.TRAIN && train != null) {
            return train;
        }
        return model.linearize(x, mode);
    }
}
