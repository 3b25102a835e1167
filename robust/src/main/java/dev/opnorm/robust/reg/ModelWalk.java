package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;

import java.util.ArrayList;
import java.util.List;

/**
 * A model's chain of layers ({@link Layer#chain()}: Sequentials expanded, any other layer one link)
 * paired with what the algorithms here need per link: the input shape it sees, or its part of a
 * linearization.
 */
final class ModelWalk {
    private ModelWalk() {
    }

    /** A link of the chain with the per-example input shape (batch 1) it sees in the model. */
    record LeafShape(Layer layer, Shape in) {
    }

    /** A link of the chain with its part of a model linearization. */
    record LeafLin(Layer layer, Linearization lin) {
    }

    /** The links, in execution order. */
    static List<Layer> leaves(Layer model) {
        return model.chain();
    }

    /**
     * The links with the input shape each one sees when the model gets inputs of {@code input}'s
     * per-example shape (batch set to 1).
     *
     * @throws IllegalArgumentException when the input shape does not fit the model
     */
    static List<LeafShape> leavesWithShapes(Layer model, Shape input) {
        List<LeafShape> out = new ArrayList<>();
        Shape s = input.withBatch(1);
        for (Layer l : leaves(model)) {
            out.add(new LeafShape(l, s));
            s = l.outputShape(s);
        }
        return out;
    }

    /**
     * The links paired with their linearizations inside {@code lin}, a linearization of {@code model}
     * (as {@code model.linearize} returns it).
     *
     * @throws IllegalArgumentException when lin is not a linearization of model's structure
     */
    static List<LeafLin> leafLinearizations(Layer model, Linearization lin) {
        List<Layer> layers = model.chain();
        List<Linearization> parts = lin.chain();
        if (layers.size() != parts.size()) {
            throw new IllegalArgumentException(lin + " is not a linearization of '" + model.qualifiedName() + "': "
                    + parts.size() + " parts for " + layers.size() + " layers");
        }
        List<LeafLin> out = new ArrayList<>(layers.size());
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            Linearization p = parts.get(i);
            if (!l.outputShape(p.inShape()).equals(p.outShape())) {
                throw new IllegalArgumentException(lin + " is not a linearization of '" + model.qualifiedName()
                        + "': part " + i + " maps " + p.inShape() + " to " + p.outShape() + ", layer '"
                        + l.qualifiedName() + "' gives " + l.outputShape(p.inShape()));
            }
            out.add(new LeafLin(l, p));
        }
        return out;
    }
}
