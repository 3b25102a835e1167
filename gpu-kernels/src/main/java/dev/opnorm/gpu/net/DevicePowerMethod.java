package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;

/**
 * The batched (2,2) power method of {@code linalg.PowerMethod} run entirely on the device: per example
 * i, sigma_max of the Jacobian block J_i of an EVAL {@link DeviceLinearization}. Each iteration is
 * w = J v, ||w_i||^2 on the device ({@code dotRows}), u = w / ||w|| on the device
 * ({@code scaleRowsInvSqrt}), z = J^T u, v = z / ||z||; the ONLY transfer per iteration is one download
 * of the batch's squared norms ||w_i||^2 (4 bytes per example), from which the host decides convergence.
 * Setup uploads the start vectors once.
 *
 * <p>Semantics follow {@code PowerMethod.sigmaMax(BatchLinearMap, Options)}: the same Gaussian start
 * vectors ({@link StartVectors#exampleSeed}), sigma_i = ||J_i v_i|| for the unit v_i of the last
 * iteration, an example stops when |sigma_k - sigma_{k-1}| <= relTol sigma_k or at maxIterations; the
 * batch keeps running while any example is active (stopped examples keep being iterated on the device,
 * their reported sigma is frozen). Norms are float sums on the device (the host sums in double), so
 * results agree to float rounding, not bitwise.
 */
public final class DevicePowerMethod {
    private DevicePowerMethod() {
    }

    /**
     * Per-example results.
     *
     * @param sigma      sigma_max estimate of each example
     * @param iterations products with J used by each example
     * @param converged  whether each example passed the relative-change test
     */
    public record Result(double[] sigma, int[] iterations, boolean[] converged) {
    }

    /**
     * Runs the power method on {@code lin} (EVAL mode).
     *
     * @throws IllegalArgumentException in TRAIN mode (the Jacobian is not block diagonal)
     */
    public static Result sigmaMax(DeviceLinearization lin, PowerMethod.Options o) {
        Shape in = lin.inShape();
        int b = in.n(), n = in.perExample();
        float[] start = new float[b * n];
        for (int i = 0; i < b; i++) {
            StartVectors.gaussian(StartVectors.exampleSeed(o.seed(), i), start, i * n, n);
        }
        return sigmaMax(lin, o, start);
    }

    /**
     * As {@link #sigmaMax(DeviceLinearization, PowerMethod.Options)}, starting from the given vectors
     * (batch * perExample, example after example; not modified), as {@code PowerMethod.sigmaMax(map, o, start)}.
     */
    public static Result sigmaMax(DeviceLinearization lin, PowerMethod.Options o, float[] start) {
        return run(lin, o, start, null, null);
    }

    /**
     * sigma_max with the singular vectors kept ON THE DEVICE: {@link #sigmaMax(DeviceLinearization,
     * PowerMethod.Options, float[])} plus, per example, v = the unit vector of its last iteration
     * (B, input shape) and u = J v / sigma (B, output shape; 0 when sigma = 0), as
     * {@code PowerMethod.Result.v() / u()}. Each example's vectors are copied into the result on the
     * device in the iteration it stops; that costs one upload of one int per example in iterations where
     * some example stops. The caller must close the result.
     *
     * @param start start vectors (batch * perExample; not modified), or null for the Gaussian starts of
     *              {@link #sigmaMax(DeviceLinearization, PowerMethod.Options)}
     */
    public static WithVectors sigmaMaxWithVectors(DeviceLinearization lin, PowerMethod.Options o, float[] start) {
        Shape in = lin.inShape();
        if (start == null) {
            int b = in.n(), n = in.perExample();
            start = new float[b * n];
            for (int i = 0; i < b; i++) {
                StartVectors.gaussian(StartVectors.exampleSeed(o.seed(), i), start, i * n, n);
            }
        }
        DevicePool pool = lin.model().pool();
        DeviceTensor v = pool.tensor(in), u = pool.tensor(lin.outShape());
        try {
            Result r = run(lin, o, start, v, u);
            WithVectors out = new WithVectors(lin.model(), r, v, u);
            v = null;
            u = null;
            return out;
        } finally {
            if (v != null) {
                pool.give(v);
                pool.give(u);
            }
        }
    }

    /** A {@link Result} with the device vectors u and v; {@link #close()} gives them back. */
    public static final class WithVectors implements AutoCloseable {
        private final DeviceModel model;
        private final Result result;
        private final DeviceTensor v;
        private final DeviceTensor u;
        private boolean closed;

        WithVectors(DeviceModel model, Result result, DeviceTensor v, DeviceTensor u) {
            this.model = model;
            this.result = result;
            this.v = v;
            this.u = u;
        }

        public Result result() {
            return result;
        }

        /** Right singular vectors (B, input shape), unit l2 norm. */
        public DeviceTensor v() {
            checkOpen();
            return v;
        }

        /** Left singular vectors u = J v / sigma (B, output shape). */
        public DeviceTensor u() {
            checkOpen();
            return u;
        }

        private void checkOpen() {
            if (closed) {
                throw new IllegalStateException("DevicePowerMethod.WithVectors is closed");
            }
        }

        /** Gives the vectors back to the model's pool (frees them when the model is closed). */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            for (DeviceTensor t : new DeviceTensor[]{v, u}) {
                if (model.isOpen()) {
                    model.pool().give(t);
                } else {
                    t.close();
                }
            }
        }
    }

    private static Result run(DeviceLinearization lin, PowerMethod.Options o, float[] start, DeviceTensor keepV,
                              DeviceTensor keepU) {
        if (lin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("the per-example power method needs an EVAL linearization");
        }
        Shape in = lin.inShape(), out = lin.outShape();
        int b = in.n(), n = in.perExample(), m = out.perExample();
        if (start.length != b * n) {
            throw new IllegalArgumentException("start vectors length " + start.length + ", expected batch*inDim "
                    + b * n);
        }
        OpenCl cl = lin.model().runtime();
        OpenClOps ops = cl.ops();
        double[] sigma = new double[b];
        int[] iters = new int[b];
        boolean[] active = new boolean[b], converged = new boolean[b];
        float[] ssHost = new float[b];
        DevicePool pool = lin.model().pool();
        DeviceTensor v = pool.tensor(in), w = pool.tensor(out), z = pool.tensor(in),
                ss = pool.tensor(Shape.features(1, 2 * b));
        boolean keep = keepV != null;
        DeviceInts stopped = keep ? pool.ints(b) : null;
        int[] stoppedNow = new int[b];
        try {
            v.upload(start);
            ops.dotRows(ss, b, v, v, b, n);
            ops.scaleRowsInvSqrt(v, v, ss, b, b, n);
            java.util.Arrays.fill(sigma, Double.NaN);
            java.util.Arrays.fill(active, true);
            int remaining = b;
            for (int k = 1; k <= o.maxIterations() && remaining > 0; k++) {
                lin.jvp(v, w);
                ops.dotRows(ss, 0, w, w, b, m);
                ss.download(ssHost, 0, 0, b); // the iteration's only transfer: b scalars
                boolean anyStopped = false;
                for (int i = 0; i < b; i++) {
                    stoppedNow[i] = 0;
                    if (!active[i]) {
                        continue;
                    }
                    iters[i] = k;
                    double s = Math.sqrt(ssHost[i]);
                    double prev = sigma[i];
                    sigma[i] = s;
                    converged[i] = s == 0 || Math.abs(s - prev) <= o.relTol() * s;
                    if (converged[i] || k == o.maxIterations()) {
                        active[i] = false;
                        remaining--;
                        stoppedNow[i] = 1;
                        anyStopped = true;
                    }
                }
                ops.scaleRowsInvSqrt(w, w, ss, 0, b, m);       // u = w / ||w|| (a zero row stays zero)
                if (keep && anyStopped) {                      // freeze the vectors of examples that stop now
                    stopped.upload(stoppedNow);
                    ops.copyRowsWhere(keepV, v, stopped, b, n);
                    ops.copyRowsWhere(keepU, w, stopped, b, m);
                }
                if (remaining == 0) {
                    break;
                }
                lin.vjp(w, z);                                  // z = J^T u
                ops.dotRows(ss, b, z, z, b, n);
                ops.scaleRowsInvSqrt(v, z, ss, b, b, n);        // v = z / ||z||
            }
        } finally {
            for (DeviceTensor t : new DeviceTensor[]{v, w, z, ss}) {
                pool.give(t);
            }
            if (stopped != null) {
                pool.give(stopped);
            }
        }
        return new Result(sigma, iters, converged);
    }
}
