package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.gpu.AttackOps;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.robust.attack.AdversarialLoss;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.PgaBackend;
import dev.opnorm.robust.attack.PgaNetwork;
import dev.opnorm.robust.attack.PgaOps;

/**
 * robust's {@link PgaOps} on the device: the operations of the PGA ({@code Pga.run}, written once) on
 * {@link DeviceTensor}s of a {@link PlacedModel}, through the kernels of {@link AttackOps} (attack.cl), with
 * the model's EVAL linearization as the network ({@link #engine}). The iterates, gradients, losses and
 * the kept worst case per example never leave the device: a restart uploads its start offsets (drawn on
 * the host by {@code Pga.startOffsets}, so every example starts where the host attack starts), the
 * statistics come back once at the end ({@link AttackOps#STATS} floats per example), and an iteration
 * moves nothing (an iterate listener downloads each iterate it receives). {@link #backend} runs
 * {@code Pga.on(...)}, {@code Pga.outcome} and {@code RobustAccuracy.of} on the device.
 *
 * <p>Agreement with the host: the gradient is computed by the device network (float sums in other orders,
 * ~1e-6 relative), projections and norms in double with tree-ordered sums; the loss and the norm are kept
 * as floats (restart ties are decided on the float loss). p = inf and p = 1 take signs / the argmax of the
 * gradient, so a coordinate whose gradient is within rounding of 0 (or of another coordinate's magnitude,
 * p = 1) may step differently than on the host; otherwise x* agrees with the host attack to ~1e-6
 * relative. Buffers come from the model's pool and go back to it. Not thread safe (as the model).
 */
public final class DevicePgaOps implements PgaOps<DeviceTensor, DeviceInts, DeviceTensor> {
    private final PlacedModel<DeviceTensor, DeviceInts> model;
    private final AttackOps aops;

    private DevicePgaOps(PlacedModel<DeviceTensor, DeviceInts> model) {
        this.model = model;
        this.aops = new AttackOps(DeviceNetworks.runtime(model));
    }

    /** The PGA engine of a device model: its EVAL linearization and these operations on its pool. */
    public static PgaBackend.Engine<DeviceTensor, DeviceInts, DeviceTensor> engine(PlacedModel<DeviceTensor, DeviceInts> model) {
        if (model == null) {
            throw new IllegalArgumentException("the device PGA needs a device model");
        }
        model.checkOpen();
        return new PgaBackend.Engine<>(new PgaNetwork<>() {
            @Override
            public Shape outputShape(Shape in) {
                return model.outputShape(in);
            }

            @Override
            public Linearized<DeviceTensor> linearize(DeviceTensor x, Shape shape) {
                if (!x.shape().equals(shape)) {
                    throw new IllegalArgumentException("attack input " + x + " does not have the shape " + shape);
                }
                PlacedLinearization<DeviceTensor> lin = model.linearize(x, shape, BnMode.EVAL);
                return new Linearized<>() {
                    @Override
                    public DeviceTensor output() {
                        return lin.output();
                    }

                    @Override
                    public Shape outputShape() {
                        return lin.outShape();
                    }

                    @Override
                    public void vjp(DeviceTensor gy, DeviceTensor gx) {
                        lin.vjp(gy, gx);
                    }

                    @Override
                    public void close() {
                        lin.close();
                    }
                };
            }
        }, new DevicePgaOps(model));
    }

    /**
     * The OpenCL backend of the PGA on {@code cl}: a host network runs as its cached device mirror
     * ({@link DeviceNetworks#model}; release it with {@link DeviceNetworks#release}).
     */
    public static PgaBackend backend(OpenCl cl) {
        if (cl == null) {
            throw new IllegalArgumentException("the device PGA needs an OpenCL runtime");
        }
        return net -> engine(DeviceNetworks.model(cl, net));
    }

    @Override
    public DeviceTensor allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(DeviceTensor t) {
        model.pool().give(t);
    }

    @Override
    public DeviceInts labels(int n) {
        model.checkOpen();
        return model.pool().ints(n);
    }

    @Override
    public void releaseLabels(DeviceInts labels) {
        model.pool().giveInts(labels);
    }

    @Override
    public DeviceTensor stats(int n) {
        DeviceTensor s = allocate(Shape.features(n, AttackOps.STATS));
        DeviceNetworks.ops(model).fill(s, 0f, n * AttackOps.STATS); // pooled buffers hold old contents
        return s;
    }

    @Override
    public void releaseStats(DeviceTensor stats) {
        release(stats);
    }

    @Override
    public void upload(float[] src, DeviceTensor dst, int len) {
        dst.upload(src, 0, 0, len);
    }

    @Override
    public void uploadLabels(int[] labels, DeviceInts dst, int n) {
        dst.upload(labels, n);
    }

    @Override
    public float[] download(DeviceTensor src, int len) {
        float[] out = new float[len];
        src.download(out, 0, 0, len);
        return out;
    }

    @Override
    public Tensor view(DeviceTensor v, Shape s) {
        return new Tensor(s, download(v, s.size()));
    }

    @Override
    public void copy(DeviceTensor dst, DeviceTensor src, int len) {
        DeviceNetworks.ops(model).copy(dst, src, len);
    }

    @Override
    public void initStats(DeviceTensor stats, DeviceInts ref, DeviceTensor clean, boolean usePredicted, int n,
                          int classes) {
        aops.initStats(stats, ref, clean, usePredicted, n, classes);
    }

    @Override
    public void lossGrad(DeviceTensor gy, DeviceTensor z, DeviceTensor clean, DeviceInts ref, AdversarialLoss loss,
                         boolean targeted, int n, int classes) {
        aops.lossGrad(gy, z, clean, ref, lossCode(loss), targeted, n, classes);
    }

    @Override
    public void start(DeviceTensor xk, DeviceTensor x, DeviceTensor off, Domain domain, int len) {
        aops.start(xk, x, off, domain.low(), domain.high(), len);
    }

    @Override
    public void step(DeviceTensor xk, DeviceTensor g, DeviceTensor x, double p, double alpha, double eps,
                     Domain domain, int n, int per) {
        boolean infinite = alpha == Double.POSITIVE_INFINITY;
        aops.pgaStep(xk, g, x, AttackOps.normCode(p), infinite ? 1 : alpha, eps, infinite, domain.low(),
                domain.high(), n, per);
    }

    @Override
    public void keepBest(DeviceTensor stats, DeviceTensor z, DeviceTensor clean, DeviceInts ref, AdversarialLoss loss,
                         boolean targeted, int restart, int n, int classes) {
        aops.keepBest(stats, z, clean, ref, lossCode(loss), targeted, restart, n, classes);
    }

    @Override
    public void copyRowsWhereBetter(DeviceTensor dst, DeviceTensor src, DeviceTensor stats, int n, int len) {
        aops.copyRowsWhereBetter(dst, src, stats, n, len);
    }

    @Override
    public void norms(DeviceTensor stats, DeviceTensor a, DeviceTensor b, double p, int n, int per) {
        aops.norms(stats, a, b, AttackOps.normCode(p), n, per);
    }

    @Override
    public Pga.Outcome read(DeviceTensor stats, int n) {
        int w = AttackOps.STATS;
        float[] st = download(stats, n * w);
        int[] clean = new int[n], ref = new int[n], pred = new int[n], restart = new int[n];
        boolean[] success = new boolean[n];
        double[] loss = new double[n], norm = new double[n];
        for (int i = 0; i < n; i++) {
            clean[i] = (int) st[i * w];
            ref[i] = (int) st[i * w + 1];
            pred[i] = (int) st[i * w + 2];
            success[i] = st[i * w + 3] != 0f;
            loss[i] = st[i * w + 4];
            norm[i] = st[i * w + 5];
            restart[i] = (int) st[i * w + 6];
        }
        return new Pga.Outcome(clean, ref, pred, success, loss, norm, restart);
    }

    /** The kernel code of an adversarial loss (AttackOps): 0 cross-entropy, 1 / 2 / 3 the l_1 / l_2 / l_inf logit loss. */
    static int lossCode(AdversarialLoss loss) {
        return loss.isLogitLoss() ? AttackOps.normCode(loss.q()) : 0;
    }
}
