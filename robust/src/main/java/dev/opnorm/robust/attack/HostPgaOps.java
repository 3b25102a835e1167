package dev.opnorm.robust.attack;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.Projections;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;

import java.util.Arrays;

/**
 * {@link PgaOps} on host arrays, the reference arithmetic of the attack: buffers are {@code float[]},
 * labels {@code int[]}, the statistics keep the loss and the perturbation norm in double (restart ties are
 * decided on the double loss). Every row operation is the per-example loop of linalg's maps and
 * {@link AdversarialLoss}; uploads and downloads are copies, {@link #view} wraps without copying.
 */
final class HostPgaOps implements PgaOps<float[], int[], HostPgaOps.Stats> {
    static final HostPgaOps INSTANCE = new HostPgaOps();

    private HostPgaOps() {
    }

    /** Per-example bookkeeping (see {@link PgaOps}). */
    static final class Stats {
        final int[] clean, ref, pred, restart;
        final boolean[] success, better;
        final double[] loss, norm;

        Stats(int n) {
            clean = new int[n];
            ref = new int[n];
            pred = new int[n];
            restart = new int[n];
            success = new boolean[n];
            better = new boolean[n];
            loss = new double[n];
            norm = new double[n];
        }
    }

    /** The engine of {@link PgaBackend#host()}: net's EVAL linearization on float arrays. */
    static PgaBackend.Engine<float[], int[], Stats> engine(Layer net) {
        if (net == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        return new PgaBackend.Engine<>(new PgaNetwork<>() {
            @Override
            public Shape outputShape(Shape in) {
                return net.outputShape(in);
            }

            @Override
            public Linearized<float[]> linearize(float[] x, Shape shape) {
                Linearization lin = net.linearize(new Tensor(shape, x), BnMode.EVAL);
                return new Linearized<>() {
                    @Override
                    public float[] output() {
                        return lin.output().data;
                    }

                    @Override
                    public Shape outputShape() {
                        return lin.output().shape;
                    }

                    @Override
                    public void vjp(float[] gy, float[] gx) {
                        lin.vjp(gy, gx);
                    }

                    @Override
                    public void close() {
                        // garbage collected
                    }
                };
            }
        }, INSTANCE);
    }

    @Override
    public float[] allocate(Shape shape) {
        return new float[shape.size()];
    }

    @Override
    public void release(float[] v) {
        // garbage collected
    }

    @Override
    public int[] labels(int n) {
        return new int[n];
    }

    @Override
    public void releaseLabels(int[] labels) {
        // garbage collected
    }

    @Override
    public Stats stats(int n) {
        return new Stats(n);
    }

    @Override
    public void releaseStats(Stats stats) {
        // garbage collected
    }

    @Override
    public void upload(float[] src, float[] dst, int len) {
        System.arraycopy(src, 0, dst, 0, len);
    }

    @Override
    public void uploadLabels(int[] labels, int[] dst, int n) {
        System.arraycopy(labels, 0, dst, 0, n);
    }

    @Override
    public float[] download(float[] src, int len) {
        return Arrays.copyOf(src, len);
    }

    @Override
    public Tensor view(float[] v, Shape s) {
        return new Tensor(s, v);
    }

    @Override
    public void copy(float[] dst, float[] src, int len) {
        System.arraycopy(src, 0, dst, 0, len);
    }

    @Override
    public void initStats(Stats stats, int[] ref, float[] clean, boolean usePredicted, int n, int classes) {
        int[] pred = argmax(clean, n, classes);
        for (int i = 0; i < n; i++) {
            if (usePredicted) {
                ref[i] = pred[i];
            }
            stats.clean[i] = pred[i];
            stats.ref[i] = ref[i];
        }
    }

    @Override
    public void lossGrad(float[] gy, float[] z, float[] clean, int[] ref, AdversarialLoss loss, boolean targeted,
                         int n, int classes) {
        for (int i = 0; i < n; i++) {
            loss.gradient(z, clean, i * classes, classes, ref[i], gy);
            if (targeted) {
                for (int j = i * classes; j < (i + 1) * classes; j++) {
                    gy[j] = -gy[j];
                }
            }
        }
    }

    @Override
    public void start(float[] xk, float[] x, float[] off, Domain domain, int len) {
        if (off == null) {
            System.arraycopy(x, 0, xk, 0, len);
        } else {
            for (int j = 0; j < len; j++) {
                xk[j] = x[j] + off[j];
            }
        }
        clamp(xk, 0, len, domain);
    }

    @Override
    public void step(float[] xk, float[] g, float[] x, double p, double alpha, double eps, Domain domain, int n,
                     int per) {
        float[] dir = new float[per]; // N_p(g) of one example
        boolean infinite = alpha == Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int o = i * per;
            if (p == 1) {
                maskSaturated(g, xk, o, per, domain);
            }
            DualMaps.steepestAscent(g, o, per, p, dir, 0);
            if (infinite) {
                for (int j = 0; j < per; j++) {
                    xk[o + j] = (float) (x[o + j] + eps * dir[j]);
                }
            } else {
                for (int j = 0; j < per; j++) {
                    g[o + j] = (float) ((double) xk[o + j] - x[o + j] + alpha * dir[j]); // the offset before projection
                }
                Projections.ontoBall(g, o, per, p, eps, g, o);
                for (int j = o; j < o + per; j++) {
                    xk[j] = x[j] + g[j];
                }
            }
            clamp(xk, o, per, domain);
        }
    }

    @Override
    public void keepBest(Stats s, float[] z, float[] clean, int[] ref, AdversarialLoss loss, boolean targeted,
                         int restart, int n, int classes) {
        int[] pred = argmax(z, n, classes);
        for (int i = 0; i < n; i++) {
            double l = loss.value(z, clean, i * classes, classes, ref[i]);
            boolean ok = targeted ? pred[i] == ref[i] : pred[i] != ref[i];
            boolean better = restart == 0 || (ok && !s.success[i])
                    || (ok == s.success[i] && (targeted ? l < s.loss[i] : l > s.loss[i]));
            if (better) {
                s.pred[i] = pred[i];
                s.loss[i] = l;
                s.success[i] = ok;
                s.restart[i] = restart;
            }
            s.better[i] = better;
        }
    }

    @Override
    public void copyRowsWhereBetter(float[] dst, float[] src, Stats stats, int n, int len) {
        for (int i = 0; i < n; i++) {
            if (stats.better[i]) {
                System.arraycopy(src, i * len, dst, i * len, len);
            }
        }
    }

    @Override
    public void norms(Stats stats, float[] a, float[] b, double p, int n, int per) {
        double[] d = new double[per];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < per; j++) {
                d[j] = (double) a[i * per + j] - b[i * per + j];
            }
            stats.norm[i] = Norms.lp(d, p);
        }
    }

    @Override
    public Pga.Outcome read(Stats s, int n) {
        return new Pga.Outcome(Arrays.copyOf(s.clean, n), Arrays.copyOf(s.ref, n), Arrays.copyOf(s.pred, n),
                Arrays.copyOf(s.success, n), Arrays.copyOf(s.loss, n), Arrays.copyOf(s.norm, n),
                Arrays.copyOf(s.restart, n));
    }

    /**
     * l1 only: N_1 puts the whole step on one coordinate; if that coordinate already sits on the domain boundary
     * and the gradient pushes it outward, clamping undoes the step and the attack stalls for good. Such
     * coordinates are dropped from the choice (their gradient entry zeroed), so the step goes to the steepest
     * coordinate that can move. p = 2 and inf spread the step over all coordinates and keep the plain N_p.
     */
    private static void maskSaturated(float[] g, float[] xk, int off, int len, Domain domain) {
        float lo = domain.low(), hi = domain.high();
        for (int j = off; j < off + len; j++) {
            if ((g[j] > 0 && xk[j] >= hi) || (g[j] < 0 && xk[j] <= lo)) {
                g[j] = 0;
            }
        }
    }

    private static void clamp(float[] a, int off, int len, Domain domain) {
        float lo = domain.low(), hi = domain.high();
        for (int j = off; j < off + len; j++) {
            a[j] = Math.max(lo, Math.min(hi, a[j]));
        }
    }

    /** Index of the largest logit per example (first on ties). */
    static int[] argmax(float[] logits, int n, int classes) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < classes; j++) {
                if (logits[i * classes + j] > logits[i * classes + best]) {
                    best = j;
                }
            }
            out[i] = best;
        }
        return out;
    }
}
