package dev.opnorm.nn.layers;

import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Ops;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link PlacedModel} linearized at an input batch x on its backend: the network's own
 * {@link Linearized} (the forward pass ran at construction; every residual stays on the backend) with the
 * argument checks of the entry point and views for linalg's iterations (the network-level tangent
 * gradient walks its {@link Linearized#chain()}: robust.reg.TangentGradient). {@link #jvp}, {@link #vjp},
 * {@link #vjpParams} and {@link #vjpAll} only run kernels (on a device: enqueue them, no transfer, no
 * waiting).
 *
 * <p>Conventions as {@link Linearization}: jvp / vjp OVERWRITE their output, parameter gradients
 * ACCUMULATE (+=); inputs are not modified; an output must not be its input. Buffers may be longer than
 * the shape needs. The parameters are read when kernels run: an optimizer step on the backend makes the
 * linearization stale, as on the host. Not thread safe; {@link #close()} gives the residuals back to the
 * model's buffer pool (do not use {@link #output()} after it) and frees the input when
 * {@link PlacedModel#linearize(dev.opnorm.nn.Tensor, BnMode)} uploaded it.
 *
 * @param <F> a buffer of floats
 */
public final class PlacedLinearization<F> implements AutoCloseable {
    private final PlacedModel<F, ?> model;
    private final Ops<F, ?> ops;
    private final Linearized<F> root;
    private final F x;
    private final boolean ownsInput;
    private final List<F> mapBuffers = new ArrayList<>();
    private boolean committed;
    private boolean closed;

    PlacedLinearization(PlacedModel<F, ?> model, Linearized<F> root, F x, boolean ownsInput) {
        this.model = model;
        this.ops = model.ops();
        this.root = root;
        this.x = x;
        this.ownsInput = ownsInput;
    }

    public Shape inShape() {
        return root.inShape();
    }

    public Shape outShape() {
        return root.outShape();
    }

    public BnMode mode() {
        return root.mode();
    }

    public PlacedModel<F, ?> model() {
        return model;
    }

    /** The network's own linearization (its parts: {@link Linearized#chain()}, {@link Linearized#visit}). */
    public Linearized<F> linearized() {
        checkOpen();
        return root;
    }

    /** The input batch x (on the backend). */
    public F input() {
        return x;
    }

    /** f(x) on the backend; do not modify it. */
    public F output() {
        checkOpen();
        return root.output();
    }

    /**
     * dy = J dx (forward mode), overwritten; dx has inShape().size() elements, dy outShape().size().
     *
     * @throws IllegalArgumentException when a buffer is null, too short, or dx == dy
     */
    public void jvp(F dx, F dy) {
        check("jvp", "dx", dx, inShape(), "dy", dy, outShape());
        root.jvp(dx, dy);
    }

    /** gx = J^T gy (reverse mode), overwritten. */
    public void vjp(F gy, F gx) {
        check("vjp", "gy", gy, outShape(), "gx", gx, inShape());
        root.vjp(gy, gx, null);
    }

    /** grads += (df/dp)^T gy for every parameter p (accumulated); the input gradient is not computed. */
    public void vjpParams(F gy, Grads<F> grads) {
        if (grads == null) {
            throw new IllegalArgumentException("vjpParams needs gradient buffers");
        }
        check("vjpParams", "gy", gy, outShape(), null, null, null);
        root.vjp(gy, null, grads);
    }

    /** One backward sweep: gx = J^T gy (overwritten) unless gx is null, grads += unless grads is null. */
    public void vjpAll(F gy, F gx, Grads<F> grads) {
        check("vjpAll", "gy", gy, outShape(), gx == null ? null : "gx", gx, inShape());
        if (gx != null || grads != null) {
            root.vjp(gy, gx, grads);
        }
    }

    /**
     * Folds the TRAIN batch statistics into the BatchNorm running statistics on the backend (momentum), as
     * the host commit. Nothing happens in EVAL mode.
     *
     * @throws IllegalStateException when called a second time
     */
    public void commit() {
        checkOpen();
        if (committed) {
            throw new IllegalStateException("commit() called twice on one " + this);
        }
        committed = true;
        root.commit();
    }

    /**
     * The block-diagonal batch of per-example Jacobians (EVAL mode only) on backend buffers: apply is
     * {@link #jvp}, applyTranspose {@link #vjp}, nothing moves. With the backend's batch operations it runs
     * linalg's batched power method and (p,q) iteration there.
     *
     * @throws IllegalArgumentException in TRAIN mode (the batch statistics couple the examples)
     */
    public BatchMap<F> asBatchMap() {
        if (mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("the per-example iterations need an EVAL linearization: in TRAIN mode "
                    + "the batch statistics couple the examples");
        }
        checkOpen();
        Shape in = inShape();
        Shape out = outShape();
        return new BatchMap<>() {
            @Override
            public int batch() {
                return in.n();
            }

            @Override
            public int inDim() {
                return in.perExample();
            }

            @Override
            public int outDim() {
                return out.perExample();
            }

            @Override
            public void apply(F v, F o) {
                jvp(v, o);
            }

            @Override
            public void applyTranspose(F u, F o) {
                vjp(u, o);
            }
        };
    }

    /**
     * The block-diagonal batch of per-example Jacobians (EVAL mode only) as a host {@link BatchLinearMap}:
     * each apply / applyTranspose uploads the vector, runs the jvp / vjp on the backend and downloads the
     * result (two transfers per call), so the host iterations drive the backend map through host arrays.
     * {@link #asBatchMap()} keeps the vectors on the backend instead.
     *
     * @throws IllegalArgumentException in TRAIN mode (the batch statistics couple the examples)
     */
    public BatchLinearMap asBatchLinearMap() {
        if (mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("asBatchLinearMap needs an EVAL linearization: in TRAIN mode the "
                    + "batch statistics couple the examples");
        }
        checkOpen();
        Shape in = inShape();
        Shape out = outShape();
        return new BatchLinearMap() {
            private F dIn;
            private F dOut;

            @Override
            public int batch() {
                return in.n();
            }

            @Override
            public int inDim() {
                return in.perExample();
            }

            @Override
            public int outDim() {
                return out.perExample();
            }

            @Override
            public void apply(float[] v, float[] o) {
                buffers();
                ops.upload(dIn, v, in.size());
                jvp(dIn, dOut);
                ops.download(dOut, o, out.size());
            }

            @Override
            public void applyTranspose(float[] u, float[] o) {
                buffers();
                ops.upload(dOut, u, out.size());
                vjp(dOut, dIn);
                ops.download(dIn, o, in.size());
            }

            private void buffers() {
                if (dIn == null) {
                    dIn = ops.allocate(in);
                    dOut = ops.allocate(out);
                    mapBuffers.add(dIn);
                    mapBuffers.add(dOut);
                }
            }
        };
    }

    private void check(String op, String aName, F a, Shape aShape, String bName, F b, Shape bShape) {
        checkOpen();
        if (a == null) {
            throw new IllegalArgumentException(op + ": " + aName + " must not be null");
        }
        if (ops.length(a) < aShape.size()) {
            throw new IllegalArgumentException(op + ": " + aName + " " + a + " is shorter than shape " + aShape);
        }
        if (bName == null) {
            return;
        }
        if (b == null) {
            throw new IllegalArgumentException(op + ": " + bName + " must not be null");
        }
        if (ops.length(b) < bShape.size()) {
            throw new IllegalArgumentException(op + ": " + bName + " " + b + " is shorter than shape " + bShape);
        }
        if (a == b) {
            throw new IllegalArgumentException(op + ": " + aName + " and " + bName + " must not be the same tensor");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        model.checkOpen();
    }

    @Override
    public String toString() {
        return root.toString() + " on " + ops.name();
    }

    /** Gives the residuals back to the model's pool; frees the input when it uploaded it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        root.close();
        mapBuffers.forEach(ops::release);
        if (ownsInput) {
            ops.release(x);
        }
    }
}
