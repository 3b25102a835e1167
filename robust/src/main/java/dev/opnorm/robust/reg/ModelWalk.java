package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.layers.SequentialLinearization;

import java.util.ArrayList;
import java.util.List;

/**
 * Walks a model's leaf layers in execution order, descending into {@link Sequential} containers (the
 * only container the nn module has). Layers inside any other container are treated as one leaf.
 */
final class ModelWalk {
    private ModelWalk() {
    }

    /** A leaf layer with the per-example input shape (batch 1) it sees in the model. */
    record LeafShape(Layer layer, Shape in) {
    }

    /** A leaf layer with its part of a model linearization. */
    record LeafLin(Layer layer, Linearization lin) {
    }

    /** The leaf layers, in order. */
    static List<Layer> leaves(Layer model) {
        List<Layer> out = new ArrayList<>();
        addLeaves(model, out);
        return out;
    }

    private static void addLeaves(Layer l, List<Layer> out) {
        if (l instanceof Sequential s) {
            for (Layer c : s.children()) {
                addLeaves(c, out);
            }
        } else {
            out.add(l);
        }
    }

    /**
     * The leaf layers with the input shape each one sees when the model gets inputs of {@code input}'s
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
     * The leaf layers paired with their linearizations inside {@code lin}, a linearization of
     * {@code model} (as {@code model.linearize} returns it).
     *
     * @throws IllegalArgumentException when lin is not a linearization of model's structure
     */
    static List<LeafLin> leafLinearizations(Layer model, Linearization lin) {
        List<LeafLin> out = new ArrayList<>();
        addLeafLins(model, lin, out);
        return out;
    }

    private static void addLeafLins(Layer l, Linearization lin, List<LeafLin> out) {
        if (l instanceof Sequential s) {
            if (!(lin instanceof SequentialLinearization sl) || sl.names().size() != s.children().size()) {
                throw new IllegalArgumentException("linearization " + lin + " is not a linearization of Sequential '"
                        + s.qualifiedName() + "'");
            }
            for (Layer c : s.children()) {
                addLeafLins(c, sl.part(c.name()), out);
            }
        } else {
            out.add(new LeafLin(l, lin));
        }
    }
}
