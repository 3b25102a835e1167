package dev.opnorm.nn.data;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Splits an example order (e.g. {@link Shuffle#epochOrder}) into consecutive mini-batches of
 * {@code batchSize}; the last partial batch is kept or dropped. Batch {@code b} holds
 * {@code order[b * batchSize .. b * batchSize + size(b))}.
 */
public final class MiniBatches implements Iterable<int[]> {
    private final int[] order;
    private final int batchSize;
    private final int count;

    /**
     * @param order     example indices in visiting order (copied)
     * @param batchSize examples per batch (> 0)
     * @param keepLast  keep the last batch when it has fewer than batchSize examples
     */
    public MiniBatches(int[] order, int batchSize, boolean keepLast) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.order = order.clone();
        this.batchSize = batchSize;
        this.count = keepLast ? (order.length + batchSize - 1) / batchSize : order.length / batchSize;
    }

    /** Number of batches. */
    public int count() {
        return count;
    }

    /** Number of examples in batch {@code b} (batchSize, or less for a kept last batch). */
    public int size(int b) {
        check(b);
        return Math.min(batchSize, order.length - b * batchSize);
    }

    /** The example indices of batch {@code b} (a copy). */
    public int[] indices(int b) {
        check(b);
        return Arrays.copyOfRange(order, b * batchSize, b * batchSize + size(b));
    }

    /**
     * Copies batch {@code b} of {@code data} into {@code images} (overwritten; batch dimension == size(b), other
     * dimensions those of the data set) and {@code labels} (first size(b) entries overwritten).
     */
    public void gather(int b, Dataset data, Tensor images, int[] labels) {
        int n = size(b);
        Shape s = data.images().shape;
        if (!images.shape.equals(s.withBatch(n))) {
            throw new IllegalArgumentException("batch " + b + " of " + n + " examples of " + s + " into a tensor of "
                    + images.shape);
        }
        if (labels.length < n) {
            throw new IllegalArgumentException("batch " + b + " of " + n + " labels into an array of " + labels.length);
        }
        int per = s.perExample();
        for (int i = 0; i < n; i++) {
            int j = order[b * batchSize + i];
            if (j < 0 || j >= s.n()) {
                throw new IllegalArgumentException("example index " + j + " outside " + data.name() + " of " + s.n());
            }
            System.arraycopy(data.images().data, j * per, images.data, i * per, per);
            labels[i] = data.labels()[j];
        }
    }

    /** Iterates the batches' index arrays (fresh copies). */
    @Override
    public Iterator<int[]> iterator() {
        return new Iterator<>() {
            private int b;

            @Override
            public boolean hasNext() {
                return b < count;
            }

            @Override
            public int[] next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return indices(b++);
            }
        };
    }

    /**
     * One gathered batch. From {@link #batches}, the arrays are REUSED: valid until the iterator's next
     * {@code next()}; copy what must outlive it.
     *
     * @param index   batch number
     * @param indices example indices in the data set
     * @param images  (size, c, h, w)
     * @param labels  size labels
     */
    public record Batch(int index, int[] indices, Tensor images, int[] labels) {
        public int size() {
            return indices.length;
        }
    }

    /**
     * Iterates gathered batches of {@code data}, reusing one image buffer for full batches and one for the
     * last partial batch (no allocation per batch).
     */
    public Iterable<Batch> batches(Dataset data) {
        return () -> new Iterator<>() {
            private int b;
            private Tensor full, last;
            private int[] fullLabels, lastLabels;

            @Override
            public boolean hasNext() {
                return b < count;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int n = size(b);
                Shape s = data.images().shape.withBatch(n);
                Tensor img;
                int[] lab;
                if (n == batchSize) {
                    if (full == null) {
                        full = new Tensor(s);
                        fullLabels = new int[n];
                    }
                    img = full;
                    lab = fullLabels;
                } else {
                    if (last == null) {
                        last = new Tensor(s);
                        lastLabels = new int[n];
                    }
                    img = last;
                    lab = lastLabels;
                }
                gather(b, data, img, lab);
                Batch batch = new Batch(b, indices(b), img, lab);
                b++;
                return batch;
            }
        };
    }

    private void check(int b) {
        if (b < 0 || b >= count) {
            throw new IllegalArgumentException("batch " + b + " outside [0, " + count + ")");
        }
    }
}
