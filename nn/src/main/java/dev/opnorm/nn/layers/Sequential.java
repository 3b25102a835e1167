package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Layers applied one after the other, PyTorch's {@code nn.Sequential} with named children: a child
 * named "0" with a parameter "weight" contributes "0.weight" to {@link #params()}. The composition
 * rules (chain rule in both directions, ping-pong buffers, the one backward sweep of
 * {@code vjpAll}) live in {@link SequentialLinearization} and nowhere else.
 */
public final class Sequential extends AbstractLayer {
    private final List<Layer> children;
    private final List<Param> params;
    private final List<Param> buffers;

    /** Children in order; their names must be unique. */
    public Sequential(String name, List<? extends Layer> children) {
        super(name, Engine.kernels());
        if (children == null || children.isEmpty()) {
            throw new IllegalArgumentException("Sequential '" + name + "' needs at least one child");
        }
        Set<String> names = new HashSet<>();
        for (Layer c : children) {
            if (c == null) {
                throw new IllegalArgumentException("Sequential '" + name + "': null child");
            }
            if (!names.add(c.name())) {
                throw new IllegalArgumentException("Sequential '" + name + "': duplicate child name '" + c.name() + "'");
            }
        }
        this.children = List.copyOf(children);
        for (Layer c : this.children) {
            if (c instanceof AbstractLayer a) {
                a.attachTo(this);
            }
        }
        this.params = prefixed(this.children, false);
        this.buffers = prefixed(this.children, true);
    }

    public Sequential(String name, Layer... children) {
        this(name, List.of(children));
    }

    /** The children in order (unmodifiable). */
    @Override
    public List<Layer> children() {
        return children;
    }

    /** The children's chains, concatenated: every leaf (or residual block) in execution order. */
    @Override
    public List<Layer> chain() {
        List<Layer> out = new ArrayList<>();
        for (Layer c : children) {
            out.addAll(c.chain());
        }
        return Collections.unmodifiableList(out);
    }

    /** The child with the given short name. */
    public Layer child(String childName) {
        return children.get(indexOf(childName));
    }

    /** Position of the child with this short name. */
    public int indexOf(String childName) {
        for (int i = 0; i < children.size(); i++) {
            if (children.get(i).name().equals(childName)) {
                return i;
            }
        }
        throw error("no child named '" + childName + "'; children are " + childNames());
    }

    List<String> childNames() {
        List<String> names = new ArrayList<>();
        for (Layer c : children) {
            names.add(c.name());
        }
        return names;
    }

    @Override
    public Shape outputShape(Shape in) {
        Shape s = in;
        for (Layer c : children) {
            s = c.outputShape(s);
        }
        return s;
    }

    @Override
    protected boolean checksFiniteInput() {
        return false;
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        Tensor t = x;
        for (Layer c : children) {
            t = c.forward(t);
        }
        return t;
    }

    @Override
    protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
        List<Linearization> parts = new ArrayList<>(children.size());
        Tensor t = x;
        for (Layer c : children) {
            Linearization l = c.linearize(t, mode);
            parts.add(l);
            t = l.output();
        }
        return new SequentialLinearization(describe(), mode, childNames(), parts);
    }

    /** Runs the layers up to and including the child at {@code path} (dotted for nested Sequentials). */
    @Override
    public Tensor forwardUpTo(Tensor x, String path) {
        int dot = path.indexOf('.');
        String head = dot < 0 ? path : path.substring(0, dot);
        int last = indexOf(head);
        Tensor t = x;
        for (int i = 0; i < last; i++) {
            t = children.get(i).forward(t);
        }
        Layer c = children.get(last);
        if (dot < 0) {
            return c.forward(t);
        }
        return c.forwardUpTo(t, path.substring(dot + 1)); // a child that is no chain of named layers refuses
    }

    /** The children's parameters under "child.name" keys; the same Param objects on every call. */
    @Override
    public List<Param> params() {
        return params;
    }

    /** The children's buffers under "child.name" keys; the same Param objects on every call. */
    @Override
    public List<Param> buffers() {
        return buffers;
    }

    /** Children's params (or buffers) renamed with the child's name as prefix, computed once. */
    private static List<Param> prefixed(List<? extends Layer> children, boolean buffers) {
        List<Param> out = new ArrayList<>();
        for (Layer c : children) {
            for (Param p : buffers ? c.buffers() : c.params()) {
                out.add(p.renamed(c.name() + "." + p.name()));
            }
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void initParameters(SplittableRandom rnd) {
        for (Layer c : children) {
            c.initParameters(rnd);
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return ChainBounds.of(chain());
    }
}
