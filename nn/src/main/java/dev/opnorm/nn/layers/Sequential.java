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
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        List<Linearized<F>> parts = new ArrayList<>(children.size());
        F t = x;
        Shape s = in;
        try {
            for (Layer c : children) {
                Linearized<F> l = c.linearizeOn(b, t, s, mode);
                parts.add(l);
                t = l.output();
                s = l.outShape();
            }
        } catch (RuntimeException e) {
            parts.forEach(Linearized::close);
            throw e;
        }
        return new Lin<>(this, describe(), b, mode, childNames(), parts, parts);
    }

    /** Runs on a backend when every child does. */
    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        for (Layer c : children) {
            if (!c.runsOn(backend)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The linearization of a Sequential: J = J_k ... J_2 J_1, each factor the linearization of one child
     * at its input. jvp runs the children forward, vjp backward; intermediate tangents live in two
     * ping-pong buffers sized for the largest intermediate activation, made on first use. vjp is one
     * backward sweep that also accumulates every child's parameter gradients and, when no input gradient
     * is wanted, skips the first child's input VJP. {@link #upTo} gives the linearization of a prefix
     * that shares the children's residuals (no forward pass).
     */
    static final class Lin<F> extends Linearized<F> {
        final List<String> names;
        final List<Linearized<F>> parts;
        private final List<Linearized<F>> ownedParts; // closed with this (a prefix shares the others)
        private final int max;  // the largest intermediate activation
        private F bufA;         // ping-pong buffers, each >= every intermediate activation size
        private F bufB;

        Lin(Layer layer, String owner, Backend<F, ?> b, BnMode mode, List<String> names, List<Linearized<F>> parts,
            List<Linearized<F>> ownedParts) {
            super(layer, owner, b, parts.get(0).inShape(), parts.get(parts.size() - 1).outShape(), mode);
            this.names = List.copyOf(names);
            this.parts = List.copyOf(parts);
            this.ownedParts = List.copyOf(ownedParts);
            int m = 0;
            for (int i = 0; i < parts.size() - 1; i++) {
                m = Math.max(m, parts.get(i).outShape().size());
            }
            this.max = m;
            setOutput(parts.get(parts.size() - 1).output());
        }

        int index(String name) {
            int i = names.indexOf(name);
            if (i < 0) {
                throw new IllegalArgumentException(owner() + ": no child named '" + name + "'; children are " + names);
            }
            return i;
        }

        private void buffers() {
            if (bufA == null && max > 0) {
                bufA = vector(max);
                bufB = vector(max);
            }
        }

        @Override
        public void jvp(F dx, F dy) {
            buffers();
            int k = parts.size();
            F in = dx;
            for (int i = 0; i < k; i++) {
                F out = i == k - 1 ? dy : (i % 2 == 0 ? bufA : bufB);
                parts.get(i).jvp(in, out);
                in = out;
            }
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            buffers();
            int k = parts.size();
            F in = gy;
            for (int i = k - 1; i >= 0; i--) {
                F out = i == 0 ? gx : ((k - 1 - i) % 2 == 0 ? bufA : bufB);
                if (out == null && grads == null) {
                    return; // only the first child is left and neither of its outputs is wanted
                }
                parts.get(i).vjp(in, out, grads);
                in = out;
            }
        }

        /** The prefix up to the child at the dotted {@code path} (included), sharing the residuals. */
        @Override
        public Lin<F> upTo(String path) {
            int dot = path.indexOf('.');
            String head = dot < 0 ? path : path.substring(0, dot);
            int last = index(head);
            List<String> n = new ArrayList<>(names.subList(0, last + 1));
            List<Linearized<F>> p = new ArrayList<>(parts.subList(0, last + 1));
            List<Linearized<F>> own = new ArrayList<>();
            if (dot >= 0) {
                Linearized<F> inner = parts.get(last).upTo(path.substring(dot + 1)); // a part that is no chain refuses
                p.set(last, inner);
                own.add(inner);
            }
            return new Lin<>(layer(), owner() + " up to '" + path + "'", backend, mode(), n, p, own);
        }

        @Override
        public List<Linearized<F>> parts() {
            return parts;
        }

        @Override
        protected List<Linearized<F>> ownedParts() {
            return ownedParts;
        }

        @Override
        public List<Linearized<F>> chain() {
            return chains(parts);
        }

        /** Commits every child (BatchNorm running statistics in TRAIN mode). */
        @Override
        public void commit() {
            for (Linearized<F> p : parts) {
                p.commit();
            }
        }

        @Override
        Linearization hostView(Linearized<float[]> self) {
            @SuppressWarnings("unchecked")
            Lin<float[]> lin = (Lin<float[]>) self;
            return new SequentialLinearization(lin);
        }
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
