package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.BatchOps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;

import java.util.Arrays;

/**
 * linalg's {@link BatchOps} on the device: the vector operations of the batched power method and (p,q)
 * iteration ({@code linalg.PowerMethod} / {@code linalg.OperatorNorm}, written once) on
 * {@link DeviceTensor}s of a {@link PlacedModel}, through {@link OpenClOps}. With
 * {@link PlacedLinearization#asBatchMap()} as the map, the iterates never leave the device: an iteration
 * moves only what {@link #read} downloads (one float per scalar) and, when the rows chosen by
 * {@link #copyRowsWhere} change, one int per row up.
 *
 * <p>Buffers come from the model's pool ({@code rows x cols} as a features shape) and go back to it;
 * after the model is closed, {@link #release} frees them. The per-row scalars are floats (rounded once
 * from double sums), so results agree with the host's to float rounding, not bitwise. The finite-alpha
 * sphere step exists for p = 1, 2, inf ({@link OpenClOps#sphereStep}). One instance per model
 * ({@link DeviceBatchOps#of}); not thread safe, as the model.
 */
public final class DeviceBatchOps implements BatchOps<DeviceTensor, DeviceTensor>, AutoCloseable {
    private final PlacedModel<DeviceTensor, DeviceInts> model;
    private final OpenClOps ops;
    private DeviceInts flags;
    private int[] uploaded; // what flags holds on the device, null when unknown

    private DeviceBatchOps(PlacedModel<DeviceTensor, DeviceInts> model) {
        this.model = model;
        this.ops = DeviceNetworks.ops(model);
    }

    /**
     * The vector operations of linalg's batched power method and (p,q) iteration on {@code model}'s buffers,
     * one per model (closed with it): with {@link PlacedLinearization#asBatchMap()} they run
     * {@code PowerMethod.sigmaMax} and {@code OperatorNorm.estimate} on the device.
     */
    public static DeviceBatchOps of(PlacedModel<DeviceTensor, DeviceInts> model) {
        return model.attached(DeviceBatchOps.class, () -> new DeviceBatchOps(model));
    }

    @Override
    public DeviceTensor allocate(int rows, int cols) {
        model.checkOpen();
        DeviceTensor t = model.pool().tensor(Shape.features(rows, cols));
        ops.fill(t, 0f, rows * cols); // pooled buffers hold old contents
        return t;
    }

    @Override
    public void release(DeviceTensor t) {
        model.pool().give(t);
    }

    @Override
    public DeviceTensor scalars(int count) {
        model.checkOpen();
        return model.pool().tensor(Shape.features(1, count));
    }

    @Override
    public void releaseScalars(DeviceTensor s) {
        release(s);
    }

    @Override
    public void upload(float[] src, DeviceTensor dst, int rows, int cols) {
        dst.upload(src, 0, 0, rows * cols);
    }

    @Override
    public float[] download(DeviceTensor src, int rows, int cols) {
        float[] out = new float[rows * cols];
        src.download(out, 0, 0, rows * cols);
        return out;
    }

    @Override
    public void rowNorms(DeviceTensor out, int off, DeviceTensor a, int rows, int cols, double p) {
        ops.rowNorms(out, off, a, rows, cols, p);
    }

    @Override
    public double[] read(DeviceTensor s, int count) {
        float[] f = new float[count];
        s.download(f, 0, 0, count);
        double[] d = new double[count];
        for (int i = 0; i < count; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Override
    public void divideRows(DeviceTensor y, DeviceTensor x, DeviceTensor norms, int off, int rows, int cols) {
        ops.divideRows(y, x, norms, off, rows, cols);
    }

    @Override
    public void dualRows(DeviceTensor out, DeviceTensor a, int rows, int cols, double q) {
        ops.dualRows(out, a, rows, cols, q);
    }

    @Override
    public void sphereStep(DeviceTensor v, DeviceTensor z, double alpha, int rows, int cols, double p) {
        checkSphereStep(p);
        ops.sphereStep(v, z, alpha, rows, cols, p);
    }

    /**
     * @throws IllegalArgumentException for p other than 1, 2, inf: the projection from outside other l_p balls
     *                                  is a nested bisection / Newton solve the device does not implement
     */
    @Override
    public void checkSphereStep(double p) {
        Norms.checkP(p, "p");
        if (!(p == 1 || p == 2 || p == Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("the device (p,q) iteration with a finite alpha projects onto the l_p "
                    + "sphere for p = 1, 2, inf only, got p = " + Norms.format(p) + " (use alpha = inf, or the CPU backend)");
        }
    }

    /** Uploads the row flags (one int per row) only when they differ from the ones already on the device. */
    @Override
    public void copyRowsWhere(DeviceTensor dst, DeviceTensor src, boolean[] rows, int cols) {
        model.checkOpen();
        int[] f = new int[rows.length];
        for (int r = 0; r < rows.length; r++) {
            f[r] = rows[r] ? 1 : 0;
        }
        if (flags == null || flags.length() != f.length) {
            if (flags != null) {
                model.pool().giveInts(flags);
            }
            flags = model.pool().ints(f.length);
            uploaded = null;
        }
        if (!Arrays.equals(uploaded, f)) {
            flags.upload(f);
            uploaded = f;
        }
        ops.copyRowsWhere(dst, src, flags, rows.length, cols);
    }

    /** Frees the flag buffer (the model calls this when it closes). */
    @Override
    public void close() {
        if (flags != null) {
            flags.close();
            flags = null;
            uploaded = null;
        }
    }
}
