package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Ops;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Buffers recycled between linearizations of one {@link PlacedModel}: a training step or a power-method
 * run allocates the same activation and residual shapes every time, and creating device buffers is not
 * free on a GPU driver. A buffer given back is handed out again only for later work; a device queue runs
 * in order, so work enqueued after the hand-out runs after all work that used the buffer before. Contents
 * of a handed-out buffer are undefined. Not thread safe (as the model).
 *
 * @param <F> a buffer of floats
 * @param <I> a buffer of ints
 */
public final class BufferPool<F, I> {
    private final Ops<F, I> ops;
    private final Map<Shape, ArrayDeque<F>> tensors = new HashMap<>();
    private final Map<Integer, ArrayDeque<I>> ints = new HashMap<>();
    private final Map<F, Shape> shapes = new java.util.IdentityHashMap<>(); // shape of every float buffer handed out
    private final Map<I, Integer> lengths = new java.util.IdentityHashMap<>();
    private boolean closed; // after close, buffers given back are freed

    public BufferPool(Ops<F, I> ops) {
        this.ops = ops;
    }

    /** A buffer for a tensor of this shape (a pooled one when there is one). */
    public F tensor(Shape s) {
        ArrayDeque<F> q = tensors.get(s);
        F t = q == null ? null : q.poll();
        if (t == null) {
            t = ops.allocate(s);
        }
        shapes.put(t, s);
        return t;
    }

    /** A buffer of {@code length} ints (a pooled one when there is one). */
    public I ints(int length) {
        ArrayDeque<I> q = ints.get(length);
        I t = q == null ? null : q.poll();
        if (t == null) {
            t = ops.allocateInts(length);
        }
        lengths.put(t, length);
        return t;
    }

    /**
     * Takes a buffer from {@link #tensor} back for reuse (the caller must not use it any more); a buffer that
     * did not come from this pool is freed. Null is ignored.
     */
    public void give(F b) {
        if (b == null) {
            return;
        }
        Shape s = shapes.remove(b);
        if (s == null || closed) {
            ops.release(b); // not from this pool: nothing to key it by
            return;
        }
        tensors.computeIfAbsent(s, k -> new ArrayDeque<>()).push(b);
    }

    /** Takes a buffer from {@link #ints} back for reuse. Null is ignored. */
    public void giveInts(I b) {
        if (b == null) {
            return;
        }
        Integer n = lengths.remove(b);
        if (n == null || closed) {
            ops.releaseInts(b);
            return;
        }
        ints.computeIfAbsent(n, k -> new ArrayDeque<>()).push(b);
    }

    /** Frees every pooled buffer (those handed out stay with their users, who free them when they give them back). */
    public void clear() {
        tensors.values().forEach(q -> q.forEach(ops::release));
        ints.values().forEach(q -> q.forEach(ops::releaseInts));
        tensors.clear();
        ints.clear();
    }

    /** Frees every pooled buffer; buffers given back later are freed, not pooled. */
    public void close() {
        closed = true;
        clear();
    }
}
