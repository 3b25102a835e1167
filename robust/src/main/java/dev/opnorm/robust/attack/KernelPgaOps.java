package dev.opnorm.robust.attack;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.PlacedModel;

/**
 * {@link PgaOps} on any backend's {@link Ops}: the statistics are a float buffer in the backend's own layout
 * ({@link Ops#pgaStatsWidth}), every row operation is the backend's {@code pga...} method (on the host the
 * reference arithmetic of {@code nn.kernels.AttackRows}, the loss and the norm kept in double; on a device its
 * kernels). Buffers come from the placed model's pool.
 *
 * @param <F> the backend's float buffer
 * @param <I> the backend's int buffer
 */
final class KernelPgaOps<F, I> implements PgaOps<F, I, F> {
    private final Ops<F, I> ops;
    private final PlacedModel<F, I> model;

    private KernelPgaOps(Ops<F, I> ops, PlacedModel<F, I> model) {
        this.ops = ops;
        this.model = model;
    }

    /** The engine of a placed model: its EVAL linearization and its backend's row operations on its pool. */
    static <F, I> PgaBackend.Engine<F, I, F> placed(PlacedModel<F, I> model) {
        if (model == null) {
            throw new IllegalArgumentException("the PGA needs a placed model");
        }
        model.checkOpen();
        return new PgaBackend.Engine<>(new PgaNetwork<>() {
            @Override
            public Shape outputShape(Shape in) {
                return model.outputShape(in);
            }

            @Override
            public Linearized<F> linearize(F x, Shape shape) {
                PlacedLinearization<F> lin = model.linearize(x, shape, BnMode.EVAL);
                return new Linearized<>() {
                    @Override
                    public F output() {
                        return lin.output();
                    }

                    @Override
                    public Shape outputShape() {
                        return lin.outShape();
                    }

                    @Override
                    public void vjp(F gy, F gx) {
                        lin.vjp(gy, gx);
                    }

                    @Override
                    public void close() {
                        lin.close();
                    }
                };
            }
        }, new KernelPgaOps<>(model.ops(), model));
    }

    @Override
    public F allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(F v) {
        if (v != null) {
            model.pool().give(v);
        }
    }

    @Override
    public I labels(int n) {
        model.checkOpen();
        return model.pool().ints(n);
    }

    @Override
    public void releaseLabels(I labels) {
        if (labels != null) {
            model.pool().giveInts(labels);
        }
    }

    @Override
    public F stats(int n) {
        int len = n * ops.pgaStatsWidth();
        F s = allocate(Shape.features(n, ops.pgaStatsWidth()));
        ops.fill(s, 0f, len); // pooled buffers hold old contents
        return s;
    }

    @Override
    public void releaseStats(F stats) {
        release(stats);
    }

    @Override
    public void upload(float[] src, F dst, int len) {
        ops.upload(dst, src, len);
    }

    @Override
    public void uploadLabels(int[] labels, I dst, int n) {
        ops.uploadInts(dst, labels, n);
    }

    @Override
    public float[] download(F src, int len) {
        float[] out = new float[len];
        ops.download(src, out, len);
        return out;
    }

    @Override
    public Tensor view(F v, Shape s) {
        return new Tensor(s, download(v, s.size()));
    }

    @Override
    public void copy(F dst, F src, int len) {
        ops.copy(dst, src, len);
    }

    @Override
    public void initStats(F stats, I ref, F clean, boolean usePredicted, int n, int classes) {
        ops.pgaInitStats(stats, ref, clean, usePredicted, n, classes);
    }

    @Override
    public void lossGrad(F gy, F z, F clean, I ref, AdversarialLoss loss, boolean targeted, int n, int classes) {
        ops.pgaLossGrad(gy, z, clean, ref, loss.q(), targeted, n, classes);
    }

    @Override
    public void start(F xk, F x, F off, Domain domain, int len) {
        ops.pgaStart(xk, x, off, domain, len);
    }

    @Override
    public void step(F xk, F g, F x, double p, double alpha, double eps, Domain domain, int n, int per) {
        ops.pgaStep(xk, g, x, p, alpha, eps, domain, n, per);
    }

    @Override
    public void keepBest(F stats, F z, F clean, I ref, AdversarialLoss loss, boolean targeted, int restart, int n,
                         int classes) {
        ops.pgaKeepBest(stats, z, clean, ref, loss.q(), targeted, restart, n, classes);
    }

    @Override
    public void copyRowsWhereBetter(F dst, F src, F stats, int n, int len) {
        ops.pgaCopyRowsWhereBetter(dst, src, stats, n, len);
    }

    @Override
    public void norms(F stats, F a, F b, double p, int n, int per) {
        ops.pgaNorms(stats, a, b, p, n, per);
    }

    @Override
    public Pga.Outcome read(F stats, int n) {
        double[] st = ops.pgaReadStats(stats, n);
        int[] clean = new int[n], ref = new int[n], pred = new int[n], restart = new int[n];
        boolean[] success = new boolean[n];
        double[] loss = new double[n], norm = new double[n];
        for (int i = 0; i < n; i++) {
            clean[i] = (int) st[i * 7];
            ref[i] = (int) st[i * 7 + 1];
            pred[i] = (int) st[i * 7 + 2];
            success[i] = st[i * 7 + 3] != 0;
            loss[i] = st[i * 7 + 4];
            norm[i] = st[i * 7 + 5];
            restart[i] = (int) st[i * 7 + 6];
        }
        return new Pga.Outcome(clean, ref, pred, success, loss, norm, restart);
    }
}
