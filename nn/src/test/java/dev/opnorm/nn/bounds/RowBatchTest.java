package dev.opnorm.nn.bounds;

import dev.opnorm.nn.Shape;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batches of rows on one window ({@link RowBatch}) against the same rows pulled back one at a time. */
class RowBatchTest {

    /**
     * A batch's bounds over a box are its rows' {@link RowWindow#lowerOver} bit for bit, and a selection of
     * rows is those rows, in the order asked (what a row that stops early, and the rows left, are made of).
     */
    @Test
    void lowerOverAndSelectAreTheRowsOwn() {
        SplittableRandom r = new SplittableRandom(12);
        for (BoundRulesTest.Case c : BoundRulesTest.cases()) {
            Box in = randomBox(c.in(), r, 1);
            RowBatch f = randomBatch(c.in(), r);
            double[] b = f.lowerOver(in);
            int[] keep = {f.rows() - 1, 0};
            RowBatch sel = f.select(keep, keep.length);
            for (int row = 0; row < f.rows(); row++) {
                assertEquals(f.row(row).lowerOver(in), b[row], 0, c.layer().name() + " row " + row);
            }
            for (int t = 0; t < keep.length; t++) {
                RowWindow want = f.row(keep[t]), got = sel.row(t);
                assertArrayEquals(want.lo(), got.lo());
                assertArrayEquals(want.hi(), got.hi());
                assertEquals(want.k(), got.k(), 0);
                assertEquals(want.y0(), got.y0());
                assertEquals(want.x1(), got.x1());
            }
        }
    }

    /**
     * For every layer of {@link BoundRulesTest#cases()} with a batched form (which convolutions, BatchNorm,
     * ReLU and max pools must have), over random boxes (ReLUs on, off and open; pooling windows fixed and
     * open) and random batches (zero entries, exact and interval ones, rows zero on whole channels), each
     * row of the batched pullback equals that row's own windowed pullback bit for bit: window, entries,
     * constant.
     */
    @Test
    void batchedPullbackEqualsRowByRow() {
        Set<String> batched = new java.util.HashSet<>();
        SplittableRandom r = new SplittableRandom(11);
        for (BoundRulesTest.Case c : BoundRulesTest.cases()) {
            for (int trial = 0; trial < 6; trial++) {
                Box in = randomBox(c.in(), r, trial);
                BoundStep step = c.layer().bounds().over(in);
                Shape out = step.output().shape();
                RowBatch f = randomBatch(out, r);
                RowBatch p = step.pullLowerBatch(f);
                if (p == null) {
                    continue;
                }
                batched.add(c.layer().name());
                for (int row = 0; row < f.rows(); row++) {
                    RowWindow one = step.pullLowerWindow(f.row(row)), got = p.row(row);
                    String what = c.layer().name() + " trial " + trial + " row " + row;
                    assertEquals(one.y0() + " " + one.y1() + " " + one.x0() + " " + one.x1(),
                            got.y0() + " " + got.y1() + " " + got.x0() + " " + got.x1(), what + " window");
                    assertArrayEquals(one.lo(), got.lo(), what + " lo");
                    assertArrayEquals(one.hi(), got.hi(), what + " hi");
                    assertEquals(one.k(), got.k(), 0, what + " constant");
                }
            }
        }
        assertTrue(batched.containsAll(Set.of("conv", "conv1x1", "relu", "bn", "pool", "pool2")),
                "layers with a batched form: " + batched);
    }

    /**
     * Each windowed pullback (the batched code) against the dense reference {@link BoundStep#pullLower} of
     * the same row, for every layer with a windowed form (strided, padded and 1x1 convolutions included):
     * zero outside its window, and the same coefficient intervals and constant up to rounding (1e-12 of
     * the row's scale). A radius bounded more loosely than the dense one (as by the row's largest entry)
     * fails here.
     */
    @Test
    void windowedPullbackMatchesTheDenseReference() {
        SplittableRandom r = new SplittableRandom(12);
        int compared = 0;
        for (BoundRulesTest.Case c : BoundRulesTest.cases()) {
            for (int trial = 0; trial < 4; trial++) {
                Box in = randomBox(c.in(), r, trial);
                BoundStep step = c.layer().bounds().over(in);
                RowBatch f = randomBatch(step.output().shape(), r);
                for (int row = 0; row < f.rows(); row++) {
                    RowWindow w = step.pullLowerWindow(f.row(row));
                    if (w == null) {
                        continue;
                    }
                    compared++;
                    LinearRows win = w.toLinearRows(), dense = step.pullLower(f.row(row).toLinearRows());
                    double scale = 1e-12;
                    for (int j = 0; j < dense.coef().cols(); j++) {
                        scale = Math.max(scale, 1e-12 * Math.max(Math.abs(dense.coef().lo()[j]), Math.abs(dense.coef().hi()[j])));
                    }
                    String what = c.layer().name() + " trial " + trial + " row " + row;
                    for (int j = 0; j < dense.coef().cols(); j++) {
                        assertEquals(dense.coef().lo()[j], win.coef().lo()[j], scale, what + " lo " + j);
                        assertEquals(dense.coef().hi()[j], win.coef().hi()[j], scale, what + " hi " + j);
                    }
                    assertEquals(dense.c()[0], win.c()[0], 1e-12 * (1 + Math.abs(dense.c()[0])), what + " constant");
                }
            }
        }
        assertTrue(compared > 20, "windowed rows compared: " + compared);
    }

    @Test
    void unitsAtDifferentPositionsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RowBatch.units(2, 3, 3, new int[]{0, 1}, new double[]{1, 1}, 2));
        assertTrue(e.getMessage().contains("different positions"), e.getMessage());
        RowBatch ok = RowBatch.units(2, 3, 3, new int[]{4, 13, 4}, new double[]{1, -1, -1}, 3);
        assertEquals(RowWindow.unit(new Shape(1, 2, 3, 3), 13, -1).lo()[1], ok.row(1).lo()[1]);
        assertArrayEquals(RowWindow.unit(new Shape(1, 2, 3, 3), 4, -1).lo(), ok.row(2).lo());
    }

    private static Box randomBox(Shape s, SplittableRandom r, int trial) {
        Shape one = s.withBatch(1);
        int n = one.size();
        double[] lo = new double[n], hi = new double[n];
        for (int j = 0; j < n; j++) {
            double c = r.nextGaussian(), w = trial == 0 ? 0 : r.nextDouble() < 0.3 ? 0 : 0.5 * trial * r.nextDouble();
            lo[j] = c - w;
            hi[j] = c + w;
        }
        return new Box(one, lo, hi);
    }

    /** Five rows on a random window of the output: zeros, exact entries, intervals; row 0 zero outside channel 0. */
    private static RowBatch randomBatch(Shape out, SplittableRandom r) {
        int c = out.c(), h = out.h(), w = out.w(), rows = 5;
        int y0 = r.nextInt(h), y1 = y0 + r.nextInt(h - y0), x0 = r.nextInt(w), x1 = x0 + r.nextInt(w - x0);
        int size = c * (y1 - y0 + 1) * (x1 - x0 + 1), plane = size / c;
        double[] lo = new double[size * rows], hi = new double[lo.length], k = new double[rows];
        for (int q = 0; q < size; q++) {
            for (int t = 0; t < rows; t++) {
                double u = r.nextDouble(), v = r.nextGaussian();
                int at = q * rows + t;
                if (u < 0.3 || (t == 0 && q >= plane)) {
                    continue;
                }
                lo[at] = v;
                hi[at] = u < 0.6 ? v : v + 1e-3 * r.nextDouble();
            }
        }
        for (int t = 0; t < rows; t++) {
            k[t] = r.nextGaussian();
        }
        return new RowBatch(rows, c, h, w, y0, y1, x0, x1, lo, hi, k);
    }
}
