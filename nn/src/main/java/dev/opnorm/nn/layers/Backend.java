package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.Ops;

import java.util.function.Function;

/**
 * Where a layer's linearization runs: the {@link Ops} it computes with, the buffers holding the layers'
 * parameters and buffers there (host: the {@link Param} arrays themselves; a {@link PlacedModel}: its
 * uploaded copies), and where activation and residual buffers come from (host: new arrays, dropped with
 * the linearization; a placed model: its {@link BufferPool}).
 *
 * <p>The host backend is special in one way: each layer computes with its own {@link Kernels}
 * ({@link AbstractLayer#kernels()}), and a layer that has only a host linearization
 * ({@link AbstractLayer#linearizeImpl(dev.opnorm.nn.Tensor, BnMode, Shape)}) can take part in a composite.
 *
 * @param <F> a buffer of floats
 * @param <I> a buffer of ints
 */
public final class Backend<F, I> {
    private final Ops<F, I> ops;
    private final Function<Param, F> params;
    private final BufferPool<F, I> pool; // null: allocate, never reuse
    private final boolean host;

    private Backend(Ops<F, I> ops, Function<Param, F> params, BufferPool<F, I> pool, boolean host) {
        if (ops == null || params == null) {
            throw new IllegalArgumentException("a backend needs ops and a parameter binding");
        }
        this.ops = ops;
        this.params = params;
        this.pool = pool;
        this.host = host;
    }

    /** Host arrays computed with {@code kernels}; parameters are the Param arrays themselves. */
    public static Backend<float[], int[]> host(Kernels kernels) {
        return new Backend<>(kernels, p -> p.value, null, true);
    }

    /** Buffers of {@code ops}; {@code params} maps a parameter (or BN buffer) to its copy there. */
    public static <F, I> Backend<F, I> of(Ops<F, I> ops, Function<Param, F> params, BufferPool<F, I> pool) {
        return new Backend<>(ops, params, pool, false);
    }

    /** True for host arrays ({@link #host}). */
    public boolean isHost() {
        return host;
    }

    public Ops<F, I> ops() {
        return ops;
    }

    /** The buffer holding parameter (or buffer) p on this backend. */
    public F param(Param p) {
        return params.apply(p);
    }

    /** The parameter p's buffer, or null when p is null (an absent bias). */
    public F paramOrNull(Param p) {
        return p == null ? null : params.apply(p);
    }

    /** A buffer for a tensor of shape s (contents undefined). */
    public F tensor(Shape s) {
        return pool == null ? ops.allocate(s) : pool.tensor(s);
    }

    /** A buffer of n ints (contents undefined). */
    public I ints(int n) {
        return pool == null ? ops.allocateInts(n) : pool.ints(n);
    }

    /** Gives a buffer from {@link #tensor} back. */
    public void give(F b) {
        if (pool == null) {
            ops.release(b);
        } else {
            pool.give(b);
        }
    }

    /** Gives a buffer from {@link #ints} back. */
    public void giveInts(I b) {
        if (pool == null) {
            ops.releaseInts(b);
        } else {
            pool.giveInts(b);
        }
    }
}
