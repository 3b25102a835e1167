package dev.opnorm.nn.layers;

import dev.opnorm.linalg.BatchOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Ops;

import java.util.Arrays;

/**
 * linalg's {@link BatchOps} on any backend: the vector operations of the batched power method and (p,q)
 * iteration ({@code linalg.PowerMethod} / {@code linalg.OperatorNorm}, written once) on the buffers of a
 * {@link PlacedModel}, through its {@link Ops} ({@link Ops#rowNorms}, {@link Ops#divideRows},
 * {@link Ops#dualRows}, {@link Ops#sphereStep}, {@link Ops#copyRowsWhere}). With
 * {@link PlacedLinearization#asBatchMap()} as the map the iterates never leave the backend: an iteration
 * moves only what {@link #read} downloads (one float per scalar) and, when the rows chosen by
 * {@link #copyRowsWhere} change, one int per row up.
 *
 * <p>Buffers come from the model's pool ({@code rows x cols} as a features shape) and go back to it;
 * after the model is closed, {@link #release} frees them. The per-row scalars are floats (each norm rounded
 * once from its double sum): on host arrays every vector this computes is linalg's {@code HostBatchOps}'
 * bit for bit given the same scalars, but {@code HostBatchOps} keeps the norms in double, so whole runs
 * agree to float rounding, not bitwise. One instance per model ({@link #of}); not thread safe, as the model.
 *
 * @param <F> the backend's buffer of floats (vectors and scalars)
 * @param <I> the backend's buffer of ints
 */
public final class PlacedBatchOps<F, I> implements BatchOps<F, F>, AutoCloseable {
    private final PlacedModel<F, I> model;
    private final Ops<F, I> ops;
    private I flags;
    private int flagsLength;
    private int[] uploaded; // what flags holds on the backend, null when unknown

    private PlacedBatchOps(PlacedModel<F, I> model) {
        this.model = model;
        this.ops = model.ops();
    }

    /**
     * The vector operations of linalg's batched power method and (p,q) iteration on {@code model}'s buffers,
     * one per model (closed with it): with {@link PlacedLinearization#asBatchMap()} they run
     * {@code PowerMethod.sigmaMax} and {@code OperatorNorm.estimate} on the model's backend.
     */
    public static <F, I> PlacedBatchOps<F, I> of(PlacedModel<F, I> model) {
        return model.attached(PlacedBatchOps.class, () -> new PlacedBatchOps<>(model));
    }

    @Override
    public F allocate(int rows, int cols) {
        model.checkOpen();
        F t = model.pool().tensor(Shape.features(rows, cols));
        ops.fill(t, 0f, rows * cols); // pooled buffers hold old contents
        return t;
    }

    @Override
    public void release(F t) {
        model.pool().give(t);
    }

    @Override
    public F scalars(int count) {
        model.checkOpen();
        return model.pool().tensor(Shape.features(1, count));
    }

    @Override
    public void releaseScalars(F s) {
        release(s);
    }

    @Override
    public void upload(float[] src, F dst, int rows, int cols) {
        ops.upload(dst, src, rows * cols);
    }

    @Override
    public float[] download(F src, int rows, int cols) {
        float[] out = new float[rows * cols];
        ops.download(src, out, rows * cols);
        return out;
    }

    @Override
    public void rowNorms(F out, int off, F a, int rows, int cols, double p) {
        ops.rowNorms(out, off, a, rows, cols, p);
    }

    @Override
    public double[] read(F s, int count) {
        float[] f = new float[count];
        ops.download(s, f, count);
        double[] d = new double[count];
        for (int i = 0; i < count; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Override
    public void divideRows(F y, F x, F norms, int off, int rows, int cols) {
        ops.divideRows(y, x, norms, off, rows, cols);
    }

    @Override
    public void dualRows(F out, F a, int rows, int cols, double q) {
        ops.dualRows(out, a, rows, cols, q);
    }

    @Override
    public void sphereStep(F v, F z, double alpha, int rows, int cols, double p) {
        ops.checkSphereStep(p);
        ops.sphereStep(v, z, alpha, rows, cols, p);
    }

    @Override
    public void checkSphereStep(double p) {
        ops.checkSphereStep(p);
    }

    /** Uploads the row flags (one int per row) only when they differ from the ones already on the backend. */
    @Override
    public void copyRowsWhere(F dst, F src, boolean[] rows, int cols) {
        model.checkOpen();
        int[] f = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            f[r] = rows[r] ? 1 : 0;
        }
        if (flags == null || flagsLength != f.length) {
            if (flags != null) {
                model.pool().giveInts(flags);
            }
            flags = model.pool().ints(f.length);
            flagsLength = f.length;
            uploaded = null;
        }
        if (!Arrays.equals(uploaded, f)) {
            ops.uploadInts(flags, f, f.length);
            uploaded = f;
        }
        ops.copyRowsWhere(dst, src, flags, rows.length, cols);
    }

    /** Frees the flag buffer (the model calls this when it closes). */
    @Override
    public void close() {
        if (flags != null) {
            ops.releaseInts(flags);
            flags = null;
            uploaded = null;
        }
    }
}
