package dev.opnorm.robust.reg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.opnorm.linalg.BatchOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Sequential;

import java.util.function.ToDoubleBiFunction;

import org.junit.jupiter.api.Test;

/**
 * What crosses the seam between the data-dependent regularizers (written once) and an engine: the host engine
 * with counters on the calls a device engine pays a transfer for (uploads, downloads, scalar reads, row
 * coefficients sent up), on the forward passes it runs, and on the buffers and linearizations it hands out.
 * Each regularizer moves only its start vectors up, one read per iteration and one for its penalty; gives every
 * buffer back; reuses the step's TRAIN linearization for f(x); and computes exactly the host regularizer.
 */
class RegEngineContractTest {
    private static final int B = 3;

    /** Counters around the host engine. */
    static final class Counts {
        int uploads, downloads, reads, rowCoefficients, live, liveScalars, forwards, open;
    }

    static RegEngine<float[], float[], int[], Grads<float[]>> counting(Sequential net, Counts c) {
        RegEngine<float[], float[], int[], Grads<float[]>> host = RegEngine.onHost(PlacedModel.host(net));
        RegNetwork<float[], Grads<float[]>> network = (x, shape, mode) -> {
            c.forwards++;
            c.open++;
            RegNetwork.Linearized<float[], Grads<float[]>> lin = host.network().linearize(x, shape, mode);
            return new RegNetwork.Linearized<>() {
                @Override public BnMode mode() { return lin.mode(); }
                @Override public float[] output() { return lin.output(); }
                @Override public Shape outputShape() { return lin.outputShape(); }
                @Override public dev.opnorm.linalg.BatchMap<float[]> asBatchMap() { return lin.asBatchMap(); }
                @Override public void vjpParams(float[] gy, Grads<float[]> g) { lin.vjpParams(gy, g); }
                @Override public void tangentGradient(float[] t, float[] ct, Grads<float[]> g) { lin.tangentGradient(t, ct, g); }
                @Override public void close() { c.open--; lin.close(); }
            };
        };
        BatchOps<float[], float[]> h = host.batchOps();
        BatchOps<float[], float[]> batchOps = new BatchOps<>() {
            @Override public float[] allocate(int rows, int cols) { c.live++; return h.allocate(rows, cols); }
            @Override public void release(float[] v) { c.live--; }
            @Override public float[] scalars(int count) { c.liveScalars++; return h.scalars(count); }
            @Override public void releaseScalars(float[] s) { c.liveScalars--; }
            @Override public void upload(float[] src, float[] dst, int r, int k) { c.uploads++; h.upload(src, dst, r, k); }
            @Override public float[] download(float[] src, int r, int k) { c.downloads++; return h.download(src, r, k); }
            @Override public void rowNorms(float[] out, int off, float[] a, int r, int k, double p) { h.rowNorms(out, off, a, r, k, p); }
            @Override public double[] read(float[] s, int count) { c.reads++; return h.read(s, count); }
            @Override public void divideRows(float[] y, float[] x, float[] n, int off, int r, int k) { h.divideRows(y, x, n, off, r, k); }
            @Override public void dualRows(float[] out, float[] a, int r, int k, double q) { h.dualRows(out, a, r, k, q); }
            @Override public void sphereStep(float[] v, float[] z, double al, int r, int k, double p) { h.sphereStep(v, z, al, r, k, p); }
            @Override public void checkSphereStep(double p) { h.checkSphereStep(p); }
            @Override public void copyRowsWhere(float[] dst, float[] src, boolean[] rows, int k) { h.copyRowsWhere(dst, src, rows, k); }
        };
        RegOps<float[], float[], int[]> o = host.ops();
        RegOps<float[], float[], int[]> ops = new RegOps<>() {
            @Override public float[] allocate(Shape s) { c.live++; return o.allocate(s); }
            @Override public void release(float[] v) { if (v != null) c.live--; }
            @Override public void addScaled(float[] out, float[] a, float s, float[] b, int len) { o.addScaled(out, a, s, b, len); }
            @Override public void scale(float[] out, float[] a, float s, int len) { o.scale(out, a, s, len); }
            @Override public void scaleDouble(float[] out, float[] a, double s, int len) { o.scaleDouble(out, a, s, len); }
            @Override public void qPowerGrad(float[] out, float[] a, double cf, double q, int len) { o.qPowerGrad(out, a, cf, q, len); }
            @Override public void dotRows(float[] out, float[] a, float[] b, int r, int k) { o.dotRows(out, a, b, r, k); }
            @Override public void scaleRows(float[] out, float[] a, float[] cf, int r, int k) { c.rowCoefficients++; o.scaleRows(out, a, cf, r, k); }
            @Override public void softmaxGradRows(float[] out, float[] z, int[] y, int r, int k) { o.softmaxGradRows(out, z, y, r, k); }
            @Override public void softmaxHessianRows(float[] hh, float[] s, float[] w, int[] y, int r, int k, double cf) { o.softmaxHessianRows(hh, s, w, y, r, k, cf); }
        };
        return new RegEngine<>(network, batchOps, ops);
    }

    /** net's host linearization at x in mode as a step's pass the engine reuses. */
    private static RegNetwork.Linearized<float[], Grads<float[]>> trainAt(Sequential net, BnMode mode, Tensor x) {
        return RegEngine.train(PlacedModel.host(net).view(net.linearize(x, mode), x.data), x.data);
    }

    private static Tensor x() {
        return RegTestSupport.gaussian(RegTestSupport.smallCnnInput(B), 61);
    }

    /**
     * Runs {@code call} on the counting engine and {@code reg.accumulate} on a RegBatch with the same seed,
     * checks the bits agree, and returns the counts.
     */
    private static Counts check(Regularizer reg, boolean withTrain,
                                ToDoubleBiFunction<RegEngine<float[], float[], int[], Grads<float[]>>, Object[]> call) {
        Sequential net = RegTestSupport.smallCnn(62);
        Tensor x = x();
        int[] labels = {1, 4, 0};
        ParamGrads want = new ParamGrads(), got = new ParamGrads();
        double wantValue = reg.accumulate(new RegBatch(net, x, labels, 63,
                withTrain ? net.linearize(x, BnMode.TRAIN) : null), want);
        Counts c = new Counts();
        var e = counting(net, c);
        double value = call.applyAsDouble(e, new Object[]{net, x, labels, got});
        assertEquals(wantValue, value, 0, reg.name() + ": the value, bit for bit");
        for (Param p : net.params()) {
            assertEquals(want.has(p), got.has(p), p.name());
            if (want.has(p)) {
                assertArrayEquals(want.of(p), got.of(p), reg.name() + ": gradient of " + p.name() + ", bit for bit");
            }
        }
        assertEquals(0, c.live, reg.name() + ": every buffer given back");
        assertEquals(0, c.liveScalars, reg.name() + ": every scalar buffer given back");
        assertEquals(0, c.open, reg.name() + ": every linearization it opened is closed");
        assertEquals(0, c.downloads, reg.name() + ": no vector comes back");
        return c;
    }

    @Test
    void ddOperatorNorm_movesTheStartsUp_readsOncePerIterationAndOnce_reusesTheTrainPass() {
        for (boolean reuse : new boolean[]{false, true}) {
            DdOperatorNorm reg = new DdOperatorNorm(2, 1.5, 3.0, 0.2, 4, true, BnMode.TRAIN);
            Counts c = check(reg, reuse, (e, a) -> {
                Sequential net = (Sequential) a[0];
                Tensor x = (Tensor) a[1];
                var train = reuse ? trainAt(net, BnMode.TRAIN, x) : null;
                return reg.accumulate(e, x.data, x.shape, 63, train, (ParamGrads) a[3]);
            });
            assertEquals(1, c.uploads, "the start vectors, once");
            assertEquals(4 + 1, c.reads, "one read per (p,q) iteration, one of ||d_i||_q");
            assertEquals(0, c.rowCoefficients, "nothing else goes up");
            assertEquals(reuse ? 2 : 3, c.forwards, "EVAL at x, TRAIN at x + eps v, and TRAIN at x unless given");
        }
    }

    @Test
    void ddSpectralNorm_movesTheStartsAndTheCoefficientsUp_readsOncePerIterationAndOnce() {
        DdSpectralNorm reg = new DdSpectralNorm(2.0, 5);
        Counts c = check(reg, false, (e, a) -> {
            Tensor x = (Tensor) a[1];
            return reg.accumulate(e, x.data, x.shape, 63, (ParamGrads) a[3]);
        });
        assertEquals(1, c.uploads, "the start vectors, once");
        assertEquals(5 + 1, c.reads, "one read per power iteration, one of s");
        assertEquals(1, c.rowCoefficients, "the cotangent coefficients (lambda / B) s_i, once");
        assertEquals(1, c.forwards, "one EVAL pass");
    }

    @Test
    void inputGradient_readsOnce_andNothingGoesUp() {
        InputGradient reg = new InputGradient(0.8);
        Counts c = check(reg, false, (e, a) -> {
            Tensor x = (Tensor) a[1];
            return reg.accumulate(e, x.data, x.shape, (int[]) a[2], (ParamGrads) a[3]);
        });
        assertEquals(0, c.uploads + c.rowCoefficients, "nothing goes up");
        assertEquals(1, c.reads, "||g_i||_2, once");
        assertEquals(1, c.forwards, "one EVAL pass");
    }

    @Test
    void badCalls_areRefusedBeforeAnythingIsAccumulated_andGiveBuffersBack() {
        Sequential net = RegTestSupport.smallCnn(62);
        Tensor x = x();
        Counts c = new Counts();
        var e = counting(net, c);
        ParamGrads grads = new ParamGrads();
        DdOperatorNorm dd = DdOperatorNorm.sumOfSquares(1, 0.1, 2, BnMode.TRAIN);
        var eval = trainAt(net, BnMode.EVAL, x);
        IllegalArgumentException notTrain = assertThrows(IllegalArgumentException.class,
                () -> dd.accumulate(e, x.data, x.shape, 1, eval, grads));
        assertEquals("dd-snr-sos: the given linearization must be TRAIN-mode at x, got EVAL", notTrain.getMessage());
        assertEquals(0, c.forwards, "refused before the (p,q) iteration runs");
        assertThrows(IllegalArgumentException.class, () -> dd.accumulate(e, x.data, x.shape, 1, null, null));
        assertThrows(IllegalArgumentException.class,
                () -> new DdSpectralNorm(1, 2).penalty(e, trainAt(net, BnMode.TRAIN, x),
                        new float[B * 5], x.data, grads));
        assertThrows(IllegalArgumentException.class,
                () -> new InputGradient(1).accumulate(e, x.data, x.shape, null, grads));
        for (Param p : net.params()) {
            assertEquals(false, grads.has(p), "nothing accumulated into " + p.name());
        }
        assertEquals(0, c.live + c.liveScalars + c.open, "buffers and linearizations given back");
    }
}
