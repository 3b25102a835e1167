package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;

/**
 * A weight that its layer applies linearly to the layer's input (a conv kernel, a linear layer's
 * matrix), described for weight regularizers (global spectral norm): the weight read as a matrix, and
 * the operator it really applies on a given input shape. Listed by {@link Layer#linearWeights()}.
 */
public interface LinearWeight {
    /** The layer that applies the weight. */
    Layer layer();

    /** The weight parameter (the layer's own Param object). */
    Param weight();

    /** Rows of the weight read as a row-major matrix: the output channels or features. */
    int rows();

    /** Columns of that matrix: the fan-in (in * kh * kw for a conv, in for a linear layer). */
    int cols();

    /**
     * True when the layer applies the weight to every example as the {@link #rows()} x {@link #cols()}
     * matrix itself (a linear layer on flat features), so the matrix is its operator for any input; false
     * when the operator depends on the input shape (a conv: a larger, structured matrix).
     */
    boolean actsAsMatrix();

    /**
     * The operator the layer applies through this weight to one example of {@code in}'s per-example
     * shape (the batch size is ignored).
     *
     * @throws IllegalArgumentException when the shape does not fit the layer
     */
    WeightOperator operatorOn(Shape in);
}
