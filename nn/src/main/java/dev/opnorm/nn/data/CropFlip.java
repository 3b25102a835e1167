package dev.opnorm.nn.data;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.util.Rng;

/**
 * The standard CIFAR augmentation, per example: pad by {@code pad} pixels with {@code fill}, take a random
 * crop of the original size, then mirror left-right with probability 1/2 (torchvision's
 * {@code RandomCrop(size, padding=pad, fill=fill)} followed by {@code RandomHorizontalFlip()}). With the crop's
 * top-left corner (dy, dx) in the padded image, dy, dx in [0, 2 pad]:
 * <pre>
 *   out[c][y][x] = in[c][y + dy - pad][x' + dx - pad],  x' = flip ? w - 1 - x : x,   fill where outside
 * </pre>
 * Use {@code fill = domain.low()} (a black pixel) for images scaled to [-1, 1], 0 for zero padding.
 * Draws per example, in this order: {@code dy = nextInt(2 pad + 1)}, {@code dx = nextInt(2 pad + 1)}, then
 * (when flipping is enabled) {@code flip = nextBoolean()}; no crop draws when {@code pad = 0}.
 */
public final class CropFlip {
    private final int pad;
    private final boolean flip;
    private final float fill;

    /**
     * @param pad  padding in pixels (>= 0; 0 = no crop)
     * @param flip random horizontal flips
     * @param fill value of padded pixels
     */
    public CropFlip(int pad, boolean flip, float fill) {
        if (pad < 0) {
            throw new IllegalArgumentException("crop padding must be >= 0, got " + pad);
        }
        this.pad = pad;
        this.flip = flip;
        this.fill = fill;
    }

    /**
     * Augments every example of {@code in} into {@code out} (overwritten), drawing from {@code rng} in example
     * order: the result depends on each example's position in the batch.
     *
     * @throws IllegalArgumentException when the shapes differ or in and out share storage
     */
    public void apply(Tensor in, Tensor out, Rng rng) {
        check(in, out);
        for (int b = 0; b < in.shape.n(); b++) {
            apply(in, out, b, rng);
        }
    }

    /**
     * Augments example {@code b} with its own generator {@code stream.fork(exampleIds[b])}, e.g. the data
     * set indices of the batch and a per-epoch stream: the result is then a function of (stream, example id)
     * only - the same for any batch size, order or resume point. {@code stream} is not advanced.
     */
    public void apply(Tensor in, Tensor out, int[] exampleIds, Rng stream) {
        check(in, out);
        if (exampleIds.length != in.shape.n()) {
            throw new IllegalArgumentException(exampleIds.length + " example ids for a batch of " + in.shape.n());
        }
        for (int b = 0; b < in.shape.n(); b++) {
            apply(in, out, b, stream.fork(exampleIds[b]));
        }
    }

    private void apply(Tensor in, Tensor out, int b, Rng rng) {
        int dy = pad == 0 ? pad : rng.nextInt(2 * pad + 1);
        int dx = pad == 0 ? pad : rng.nextInt(2 * pad + 1);
        boolean f = flip && rng.nextBoolean();
        cropFlip(out.data, in.data, in.shape, b, dy, dx, f, pad, fill);
    }

    private static void check(Tensor in, Tensor out) {
        if (!in.shape.equals(out.shape)) {
            throw new IllegalArgumentException("augmentation output " + out.shape + " differs from input " + in.shape);
        }
        if (in.data == out.data) {
            throw new IllegalArgumentException("augmentation input and output must not alias");
        }
    }

    /**
     * One example, no randomness: writes example {@code b} of {@code out} (overwritten) as the crop at (dy, dx)
     * of the padded example {@code b} of {@code in}, mirrored when {@code mirror}.
     *
     * @param out (n, c, h, w), only example b written
     * @param in  (n, c, h, w)
     */
    public static void cropFlip(float[] out, float[] in, Shape s, int b, int dy, int dx, boolean mirror, int pad,
            float fill) {
        if (dy < 0 || dy > 2 * pad || dx < 0 || dx > 2 * pad) {
            throw new IllegalArgumentException("crop offset (" + dy + ", " + dx + ") outside [0, " + 2 * pad + "]");
        }
        int h = s.h(), w = s.w();
        for (int c = 0; c < s.c(); c++) {
            for (int y = 0; y < h; y++) {
                int sy = y + dy - pad;
                int o = s.at(b, c, y, 0);
                if (sy < 0 || sy >= h) {
                    java.util.Arrays.fill(out, o, o + w, fill);
                    continue;
                }
                int row = s.at(b, c, sy, 0);
                for (int x = 0; x < w; x++) {
                    int sx = (mirror ? w - 1 - x : x) + dx - pad;
                    out[o + x] = sx >= 0 && sx < w ? in[row + sx] : fill;
                }
            }
        }
    }
}
