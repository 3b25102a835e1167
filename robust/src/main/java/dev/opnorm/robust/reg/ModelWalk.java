package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Layer;

import java.util.ArrayList;
import java.util.List;

/**
 * A model's chain of layers ({@link Layer#chain()}: Sequentials expanded, any other layer one link)
 * paired with what the algorithms here need per link: the input shape it sees.
 */
final class ModelWalk {
    private ModelWalk() {
    }

    /** A link of the chain with the per-example input shape (batch 1) it sees in the model. */
    record LeafShape(Layer layer, Shape in) {
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
}
