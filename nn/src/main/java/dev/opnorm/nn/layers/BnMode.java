package dev.opnorm.nn.layers;

/**
 * How BatchNorm behaves in a linearization. The mode is part of every linearization, so a result
 * always says which Jacobian it is about.
 */
public enum BnMode {
    /** Running statistics: BN is a per-channel affine map; the Jacobian is per example (block diagonal). */
    EVAL,
    /** Batch statistics: the Jacobian couples the examples of the batch through the mean and variance. */
    TRAIN
}
