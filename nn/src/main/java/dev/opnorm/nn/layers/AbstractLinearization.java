package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

/**
 * Common plumbing of the built-in linearizations: shapes, mode, output, and argument checks on every
 * jvp/vjp (null, too short, aliasing) before the layer's own {@link #jvpImpl} / {@link #vjpImpl}.
 * Both VJP flavours go through the single {@link #vjpImpl}, so a layer writes its backward pass once.
 */
public abstract class AbstractLinearization implements Linearization {
    private final String owner;   // layer description for messages
    private final Shape in;
    private final Shape out;
    private final BnMode mode;

    protected AbstractLinearization(String owner, Shape in, Shape out, BnMode mode) {
        this.owner = owner;
        this.in = in;
        this.out = out;
        this.mode = mode;
    }

    @Override
    public final Shape inShape() {
        return in;
    }

    @Override
    public final Shape outShape() {
        return out;
    }

    @Override
    public final BnMode mode() {
        return mode;
    }

    /** Who this is the linearization of, e.g. "Conv2d 'features.0'". */
    public final String owner() {
        return owner;
    }

    @Override
    public final void jvp(float[] dx, float[] dy) {
        check("jvp", "dx", dx, in, "dy", dy, out);
        jvpImpl(dx, dy);
    }

    @Override
    public final void vjp(float[] gy, float[] gx) {
        check("vjp", "gy", gy, out, "gx", gx, in);
        vjpImpl(gy, gx, null);
    }

    @Override
    public final void vjpParams(float[] gy, ParamGrads grads) {
        if (grads == null) {
            throw new IllegalArgumentException(owner + ": vjpParams needs a ParamGrads");
        }
        check("vjpParams", "gy", gy, out, null, null, null);
        vjpImpl(gy, null, grads);
    }

    @Override
    public final void vjpAll(float[] gy, float[] gx, ParamGrads grads) {
        check("vjpAll", "gy", gy, out, gx == null ? null : "gx", gx, in);
        if (gx == null && grads == null) {
            return;
        }
        vjpImpl(gy, gx, grads);
    }

    /** dy = J dx, overwritten; arguments already checked. */
    protected abstract void jvpImpl(float[] dx, float[] dy);

    /**
     * gx = J^T gy (overwritten) unless gx is null; grads += parameter gradients unless grads is null.
     * Arguments already checked; not both null.
     */
    protected abstract void vjpImpl(float[] gy, float[] gx, ParamGrads grads);

    private void check(String op, String aName, float[] a, Shape aShape, String bName, float[] b, Shape bShape) {
        if (a == null) {
            throw new IllegalArgumentException(owner + ": " + op + ": " + aName + " must not be null");
        }
        if (a.length < aShape.size()) {
            throw new IllegalArgumentException(owner + ": " + op + ": " + aName + " has " + a.length
                    + " elements, shape " + aShape + " needs " + aShape.size());
        }
        if (bName == null) {
            return;
        }
        if (b == null) {
            throw new IllegalArgumentException(owner + ": " + op + ": " + bName + " must not be null");
        }
        if (b.length < bShape.size()) {
            throw new IllegalArgumentException(owner + ": " + op + ": " + bName + " has " + b.length
                    + " elements, shape " + bShape + " needs " + bShape.size());
        }
        if (a == b) {
            throw new IllegalArgumentException(owner + ": " + op + ": " + aName + " and " + bName
                    + " must not be the same array");
        }
    }

    /** "linearization of Conv2d 'features.0'", for messages. */
    @Override
    public String toString() {
        return "linearization of " + owner;
    }

    /** Convenience for subclasses: the output tensor is part of every linearization. */
    @Override
    public abstract Tensor output();
}
