package dev.opnorm.nn.data;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.util.Rng;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class DataUtilsTest {
    private static void assertPermutation(int[] p, int n) {
        assertEquals(n, p.length);
        boolean[] seen = new boolean[n];
        for (int v : p) {
            assertTrue(v >= 0 && v < n && !seen[v], "not a permutation: " + Arrays.toString(p));
            seen[v] = true;
        }
    }

    // ---- shuffling ----

    @Test
    void permutation_isValidAndDeterministic() {
        int[] a = Shuffle.permutation(1000, new Rng(8));
        assertPermutation(a, 1000);
        assertArrayEquals(a, Shuffle.permutation(1000, new Rng(8)));
        assertFalse(Arrays.equals(a, Shuffle.permutation(1000, new Rng(9))));
        assertArrayEquals(new int[0], Shuffle.permutation(0, new Rng(1)));
        assertArrayEquals(new int[] {0}, Shuffle.permutation(1, new Rng(1)));
    }

    @Test
    void permutation_followsFisherYatesDraws() {
        // the documented algorithm, replayed on a copy of the generator
        Rng r = new Rng(21), replay = new Rng(21);
        int[] p = Shuffle.permutation(6, r);
        int[] expect = {0, 1, 2, 3, 4, 5};
        for (int i = 5; i > 0; i--) {
            int j = replay.nextInt(i + 1);
            int t = expect[i];
            expect[i] = expect[j];
            expect[j] = t;
        }
        assertArrayEquals(expect, p);
        assertArrayEquals(replay.state(), r.state()); // exactly n - 1 draws
    }

    @Test
    void permutation_isRoughlyUniformOverAllSixOrders() {
        Rng rng = new Rng(4);
        Map<String, Integer> counts = new HashMap<>();
        for (int t = 0; t < 6000; t++) {
            counts.merge(Arrays.toString(Shuffle.permutation(3, rng)), 1, Integer::sum);
        }
        assertEquals(6, counts.size());
        for (int c : counts.values()) {
            assertTrue(c > 850 && c < 1150, counts.toString());
        }
    }

    @Test
    void epochOrder_dependsOnlyOnStreamAndEpoch() {
        Rng stream = new Rng(42).fork("shuffle");
        long[] before = stream.state();
        int[] e0 = Shuffle.epochOrder(50, stream, 0);
        int[] e1 = Shuffle.epochOrder(50, stream, 1);
        assertArrayEquals(before, stream.state()); // not advanced
        assertPermutation(e0, 50);
        assertFalse(Arrays.equals(e0, e1));
        // a resumed run recreates epoch 1 without replaying epoch 0
        assertArrayEquals(e1, Shuffle.epochOrder(50, new Rng(42).fork("shuffle"), 1));
    }

    // ---- mini-batches ----

    private static Dataset tiny(int n, int classes) {
        float[] x = new float[n * 2];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            y[i] = i % classes;
        }
        return new Dataset("tiny", new Tensor(new Shape(n, 2, 1, 1), x), y, classes, Domain.SYMMETRIC);
    }

    @Test
    void miniBatches_keepOrDropTheLastPartialBatch() {
        int[] order = Shuffle.permutation(10, new Rng(1));
        MiniBatches keep = new MiniBatches(order, 4, true);
        assertEquals(3, keep.count());
        assertEquals(4, keep.size(0));
        assertEquals(2, keep.size(2));
        List<Integer> all = new ArrayList<>();
        for (int[] b : keep) {
            for (int i : b) {
                all.add(i);
            }
        }
        assertEquals(Arrays.stream(order).boxed().toList(), all);
        MiniBatches drop = new MiniBatches(order, 4, false);
        assertEquals(2, drop.count());
        assertEquals(2, new MiniBatches(new int[8], 4, false).count());
        assertEquals(0, new MiniBatches(new int[3], 4, false).count());
        assertThrows(IllegalArgumentException.class, () -> keep.size(3));
        assertThrows(IllegalArgumentException.class, () -> new MiniBatches(order, 0, true));
    }

    @Test
    void batches_gatherImagesAndLabels_reusingBuffers() {
        Dataset d = tiny(7, 3);
        int[] order = {6, 0, 3, 1, 5, 2, 4};
        MiniBatches mb = new MiniBatches(order, 3, true);
        List<Tensor> buffers = new ArrayList<>();
        int seen = 0;
        for (MiniBatches.Batch b : mb.batches(d)) {
            buffers.add(b.images());
            for (int i = 0; i < b.size(); i++) {
                int j = order[b.index() * 3 + i];
                assertEquals(j, b.indices()[i]);
                assertEquals(j, b.images().data[2 * i]);
                assertEquals(-j, b.images().data[2 * i + 1]);
                assertEquals(j % 3, b.labels()[i]);
                seen++;
            }
        }
        assertEquals(7, seen);
        assertSame(buffers.get(0), buffers.get(1)); // full batches share one buffer
        assertEquals(new Shape(1, 2, 1, 1), buffers.get(2).shape);
        assertThrows(IllegalArgumentException.class, () -> mb.gather(0, d, new Tensor(new Shape(2, 2, 1, 1)), new int[3]));
    }

    // ---- stratified subsets ----

    @Test
    void stratified_takesKPerClass_sortedAndDeterministic() {
        Rng rng = new Rng(5);
        int[] labels = new int[200];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (i * 7) % 10;
        }
        int[] s = Subsets.stratified(labels, 10, 6, rng);
        assertEquals(60, s.length);
        int[] perClass = new int[10];
        for (int k = 0; k < s.length; k++) {
            perClass[labels[s[k]]]++;
            if (k > 0) {
                assertTrue(s[k] > s[k - 1], "ascending and distinct");
            }
        }
        for (int c : perClass) {
            assertEquals(6, c);
        }
        assertArrayEquals(s, Subsets.stratified(labels, 10, 6, new Rng(5)));
        assertFalse(Arrays.equals(s, Subsets.stratified(labels, 10, 6, new Rng(6))));
        // all of a class when k equals its size
        assertEquals(200, Subsets.stratified(labels, 10, 20, new Rng(1)).length);
    }

    @Test
    void stratified_onDataset_selectsThoseExamples() {
        Dataset d = tiny(30, 3);
        Dataset s = Subsets.stratified(d, 4, new Rng(2));
        assertEquals(12, s.size());
        int[] idx = Subsets.stratified(d.labels(), 3, 4, new Rng(2));
        for (int i = 0; i < 12; i++) {
            assertEquals(idx[i], s.images().data[2 * i]);
            assertEquals(idx[i] % 3, s.labels()[i]);
        }
    }

    @Test
    void stratified_rejectsTooFewExamples_namingTheClasses() {
        int[] labels = {0, 0, 1, 2, 2, 2};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Subsets.stratified(labels, 4, 2, new Rng(1)));
        assertTrue(e.getMessage().contains("class 1 has 1, class 3 has 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Subsets.stratified(new int[] {5}, 4, 1, new Rng(1)));
    }

    // ---- crop and flip ----

    /** One 1x3x4 image with pixels 1..12. */
    private static Tensor image() {
        return Tensor.of(1, 1, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    }

    @Test
    void cropFlip_centreCrop_isIdentity_andFlipMirrorsRows() {
        Tensor in = image(), out = new Tensor(in.shape);
        CropFlip.cropFlip(out.data, in.data, in.shape, 0, 1, 1, false, 1, -1f);
        assertArrayEquals(in.data, out.data);
        CropFlip.cropFlip(out.data, in.data, in.shape, 0, 1, 1, true, 1, -1f);
        assertArrayEquals(new float[] {4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9}, out.data);
    }

    @Test
    void cropFlip_cornerCrops_shiftInTheFillValue() {
        Tensor in = image(), out = new Tensor(in.shape);
        // top-left corner of the padded image: shifted down-right, fill on the top row and left column
        CropFlip.cropFlip(out.data, in.data, in.shape, 0, 0, 0, false, 1, -1f);
        assertArrayEquals(new float[] {-1, -1, -1, -1, -1, 1, 2, 3, -1, 5, 6, 7}, out.data);
        // bottom-right with pad 2: shifted up-left by 2
        CropFlip.cropFlip(out.data, in.data, in.shape, 0, 4, 4, false, 2, 0f);
        assertArrayEquals(new float[] {11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, out.data);
        // crop (dy=1, dx=2) of pad 1, then mirror: rows shifted left by one, then reversed
        CropFlip.cropFlip(out.data, in.data, in.shape, 0, 1, 2, true, 1, -1f);
        assertArrayEquals(new float[] {-1, 4, 3, 2, -1, 8, 7, 6, -1, 12, 11, 10}, out.data);
        assertThrows(IllegalArgumentException.class, () -> CropFlip.cropFlip(out.data, in.data, in.shape, 0, 3, 0, false, 1, 0f));
    }

    @Test
    void apply_drawsDyDxFlipPerExample_inOrder() {
        Shape s = new Shape(5, 2, 3, 4);
        Tensor in = new Tensor(s), out = new Tensor(s), expect = new Tensor(s);
        new Rng(1).fillGaussian(in.data, 0, 1);
        new CropFlip(2, true, -1f).apply(in, out, new Rng(77));
        Rng replay = new Rng(77);
        for (int b = 0; b < 5; b++) {
            int dy = replay.nextInt(5), dx = replay.nextInt(5);
            boolean f = replay.nextBoolean();
            CropFlip.cropFlip(expect.data, in.data, s, b, dy, dx, f, 2, -1f);
        }
        assertArrayEquals(expect.data, out.data);
    }

    @Test
    void apply_perExampleStreams_independentOfBatchComposition() {
        Shape s = new Shape(4, 1, 3, 4);
        Tensor in = new Tensor(s), out = new Tensor(s);
        new Rng(3).fillGaussian(in.data, 0, 1);
        Rng epoch = new Rng(10).fork("augment").fork(0);
        int[] ids = {17, 4, 99, 23};
        new CropFlip(1, true, 0f).apply(in, out, ids, epoch);
        // example 99 augmented alone, in a batch of one, gives the same pixels
        Tensor one = in.slice(2, 1), oneOut = new Tensor(one.shape);
        new CropFlip(1, true, 0f).apply(one, oneOut, new int[] {99}, epoch);
        assertArrayEquals(Arrays.copyOfRange(out.data, 2 * 12, 3 * 12), oneOut.data);
    }

    @Test
    void apply_noPadNoFlip_copies_andRejectsBadBuffers() {
        Tensor in = image(), out = new Tensor(in.shape);
        Rng rng = new Rng(1);
        long[] before = rng.state();
        new CropFlip(0, false, 0f).apply(in, out, rng);
        assertArrayEquals(in.data, out.data);
        assertArrayEquals(before, rng.state()); // nothing to draw
        CropFlip cf = new CropFlip(1, true, 0f);
        assertThrows(IllegalArgumentException.class, () -> cf.apply(in, in, new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> cf.apply(in, new Tensor(new Shape(1, 1, 4, 3)), new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> new CropFlip(-1, true, 0f));
    }
}
