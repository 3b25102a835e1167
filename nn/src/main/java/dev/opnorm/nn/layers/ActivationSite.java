package dev.opnorm.nn.layers;

/**
 * The discrete state a piecewise-linear layer's Jacobian was selected by at a batch of inputs, read
 * from its linearization ({@link Linearization#activationSite()}): inputs with equal states lie in
 * the same linear piece of the layer.
 *
 * @param layer      the layer's qualified name
 * @param kind       what the states mean
 * @param perExample states per example
 * @param states     batch * perExample states, example-major
 */
public record ActivationSite(String layer, Kind kind, int perExample, int[] states) {
    /** What a state records. */
    public enum Kind {
        /** Per unit: 1 when the unit passes its tangent (a ReLU with x &gt; 0), 0 when it does not. */
        ON_OFF,
        /** Per window: 1 + the per-example flat input index the window selects (max pooling's argmax). */
        SELECTED_INDEX
    }
}
