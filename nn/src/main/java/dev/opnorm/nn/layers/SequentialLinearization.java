package dev.opnorm.nn.layers;

import dev.opnorm.nn.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The linearization of a {@link Sequential}: J = J_k ... J_2 J_1, each factor the linearization of
 * one child at its input. jvp runs the children forward, vjp backward; intermediate tangents live in
 * two ping-pong buffers sized for the largest intermediate activation, allocated once here.
 * {@link #vjpAll} is one backward sweep that also accumulates every child's parameter gradients and,
 * when no input gradient is wanted, skips the first child's input VJP.
 *
 * <p>{@link #upTo(String)} gives the linearization of a prefix of the network (e.g. input ->
 * penultimate features) that shares the children's residuals, so a norm of J_{phi^{L-1}} costs no
 * second forward pass.
 */
public final class SequentialLinearization extends AbstractLinearization {
    private final List<String> names;
    private final List<Linearization> parts;
    private final float[] bufA; // ping-pong buffers, each >= every intermediate activation size
    private final float[] bufB;

    SequentialLinearization(String owner, BnMode mode, List<String> names, List<Linearization> parts) {
        super(owner, parts.get(0).inShape(), parts.get(parts.size() - 1).outShape(), mode);
        this.names = List.copyOf(names);
        this.parts = List.copyOf(parts);
        int max = 0;
        for (int i = 0; i < parts.size() - 1; i++) {
            max = Math.max(max, parts.get(i).outShape().size());
        }
        this.bufA = new float[max];
        this.bufB = new float[max];
    }

    @Override
    public Tensor output() {
        return parts.get(parts.size() - 1).output();
    }

    /** The children's short names, in order. */
    public List<String> names() {
        return names;
    }

    /** The linearization of the child with this short name. */
    public Linearization part(String name) {
        return parts.get(index(name));
    }

    private int index(String name) {
        int i = names.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException(owner() + ": no child named '" + name + "'; children are " + names);
        }
        return i;
    }

    /**
     * The linearization from this network's input to the output of the child at {@code path}
     * (included). A dotted path ("features.12") descends into a nested Sequential. The prefix shares
     * the residuals of this linearization (no forward pass) and has its own scratch buffers.
     *
     * @throws IllegalArgumentException when no child has that name
     */
    @Override
    public SequentialLinearization upTo(String path) {
        int dot = path.indexOf('.');
        String head = dot < 0 ? path : path.substring(0, dot);
        int last = index(head);
        List<String> n = new ArrayList<>(names.subList(0, last + 1));
        List<Linearization> p = new ArrayList<>(parts.subList(0, last + 1));
        if (dot >= 0) {
            p.set(last, parts.get(last).upTo(path.substring(dot + 1))); // a part that is no chain refuses
        }
        return new SequentialLinearization(owner() + " up to '" + path + "'", mode(), n, p);
    }

    @Override
    protected void jvpImpl(float[] dx, float[] dy) {
        int k = parts.size();
        float[] in = dx;
        for (int i = 0; i < k; i++) {
            float[] out = i == k - 1 ? dy : (i % 2 == 0 ? bufA : bufB);
            parts.get(i).jvp(in, out);
            in = out;
        }
    }

    @Override
    protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
        int k = parts.size();
        float[] in = gy;
        for (int i = k - 1; i >= 0; i--) {
            float[] out = i == 0 ? gx : ((k - 1 - i) % 2 == 0 ? bufA : bufB);
            if (out == null && grads == null) {
                return; // only the first child is left and neither of its outputs is wanted
            }
            parts.get(i).vjpAll(in, out, grads);
            in = out;
        }
    }

    /** The parts' chains, concatenated (element i linearizes element i of the Sequential's chain). */
    @Override
    public List<Linearization> chain() {
        List<Linearization> out = new ArrayList<>();
        for (Linearization p : parts) {
            out.addAll(p.chain());
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void visit(java.util.function.Consumer<Linearization> visitor) {
        visitor.accept(this);
        for (Linearization p : parts) {
            p.visit(visitor);
        }
    }

    /** Commits every child (BatchNorm running statistics in TRAIN mode). */
    @Override
    public void commit() {
        for (Linearization p : parts) {
            p.commit();
        }
    }
}
