package dev.opnorm.benchmarks;

import dev.opnorm.nn.kernels.Conv2dDims;

/**
 * The convolution layers of the paper's 7-layer CNN (CIFAR-sized 32x32 inputs): 3x3 kernels, stride
 * 1, padding 1 except the last conv (padding 0), a 2x2 max pool after layers 2, 4, 6 and 7. At width
 * 1.0 the channels are 128, 128, 256, 256, 512, 512, 1024; a width factor scales every count but
 * the 3 input channels.
 */
final class Cnn7Shapes {
    static final int LAYERS = 7;
    private static final int[] CHANNELS = {3, 128, 128, 256, 256, 512, 512, 1024};
    private static final int[] SIZE = {32, 32, 16, 16, 8, 8, 4};
    private static final int[] PAD = {1, 1, 1, 1, 1, 1, 0};

    private Cnn7Shapes() {
    }

    /** Channels entering layer {@code layer} (1-based; layer 8 means the conv stack's output) at a width factor. */
    static int channels(double width, int layer) {
        if (layer == 1) {
            return CHANNELS[0];
        }
        int c = (int) Math.round(CHANNELS[layer - 1] * width);
        if (c < 1) {
            throw new IllegalArgumentException("width " + width + " leaves layer " + layer + " without channels");
        }
        return c;
    }

    /** The dims of conv layer {@code layer} (1..7) for a batch of {@code batch} 32x32 images. */
    static Conv2dDims conv(double width, int layer, int batch) {
        if (layer < 1 || layer > LAYERS) {
            throw new IllegalArgumentException("the 7-layer CNN has conv layers 1.." + LAYERS + ", not " + layer);
        }
        if (!(width > 0)) {
            throw new IllegalArgumentException("width must be > 0, got " + width);
        }
        int i = layer - 1;
        return new Conv2dDims(batch, channels(width, layer), SIZE[i], SIZE[i], channels(width, layer + 1),
                3, 3, 1, PAD[i]);
    }

    /**
     * Parses the benchmark label "w{width}-L{layer}", e.g. "w0.25-L3", into the conv's dims.
     *
     * @throws IllegalArgumentException when the label does not have that form
     */
    static Conv2dDims parse(String label, int batch) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("w([0-9.]+)-L([0-9]+)").matcher(label);
        if (!m.matches()) {
            throw new IllegalArgumentException("conv label '" + label + "' is not of the form w{width}-L{layer}, e.g. w1.0-L3");
        }
        return conv(Double.parseDouble(m.group(1)), Integer.parseInt(m.group(2)), batch);
    }

    /** True when a 2x2 max pool follows conv layer {@code layer}. */
    static boolean poolAfter(int layer) {
        return layer == 2 || layer == 4 || layer == 6 || layer == 7;
    }

    /** A compact label for tables: "C->K @HxW" plus " pad 0" where the padding is not 1. */
    static String label(Conv2dDims d) {
        return d.c() + "->" + d.k() + " @" + d.h() + "x" + d.w() + (d.pad() == 1 ? "" : " pad " + d.pad());
    }
}
