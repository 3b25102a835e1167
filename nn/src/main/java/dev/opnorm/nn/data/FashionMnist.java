package dev.opnorm.nn.data;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST (Xiao et al. 2017): 28x28 grey images of 10 clothing classes, 60000 training and 10000
 * test examples, in the IDX format of MNIST, gzip-compressed or plain. Debian ships it:
 * {@code apt-get install dataset-fashion-mnist} puts the files in {@link #DEBIAN_DIR}.
 */
public final class FashionMnist {
    /** Where Debian's dataset-fashion-mnist package installs the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public static final String[] CLASS_NAMES = {
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

    public enum Split {
        TRAIN("train"), TEST("t10k");
        final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private FashionMnist() {
    }

    /**
     * Loads one split from {@code dir}, scaling pixels to {@code domain}.
     *
     * @throws IOException naming the file when it is missing, truncated, or its header does not match
     */
    public static Dataset load(Path dir, Split split, Domain domain) throws IOException {
        Path images = find(dir, split.prefix + "-images-idx3-ubyte");
        Path labels = find(dir, split.prefix + "-labels-idx1-ubyte");
        Idx.Content img = Idx.read(images, 3);
        Idx.Content lab = Idx.read(labels, 1);
        int n = img.dims()[0], h = img.dims()[1], w = img.dims()[2];
        if (h != 28 || w != 28) {
            throw new IOException(images + ": images are " + h + "x" + w + ", Fashion-MNIST has 28x28");
        }
        if (lab.dims()[0] != n) {
            throw new IOException(labels + ": " + lab.dims()[0] + " labels but " + images + " has " + n + " images");
        }
        float[] table = new float[256];
        for (int b = 0; b < 256; b++) {
            table[b] = domain.fromByte(b);
        }
        float[] x = new float[n * h * w];
        byte[] raw = img.data();
        for (int i = 0; i < x.length; i++) {
            x[i] = table[raw[i] & 0xff];
        }
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = lab.data()[i] & 0xff;
            if (y[i] >= 10) {
                throw new IOException(labels + ": label " + y[i] + " at offset " + (8 + i) + " is not in 0..9");
            }
        }
        return new Dataset("fashion-mnist/" + split.name().toLowerCase(), new Tensor(new Shape(n, 1, h, w), x), y, 10,
                domain);
    }

    /** The file {@code base} or {@code base.gz} in dir. */
    private static Path find(Path dir, String base) throws IOException {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IOException("Fashion-MNIST file " + base + "[.gz] not found in " + dir
                + " (on Debian: apt-get install dataset-fashion-mnist, files land in " + DEBIAN_DIR + ")");
    }
}
