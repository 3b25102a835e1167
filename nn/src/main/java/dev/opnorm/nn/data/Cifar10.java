package dev.opnorm.nn.data;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CIFAR-10, binary version ({@code cifar-10-batches-bin/}: data_batch_1..5.bin and test_batch.bin;
 * the official archive has MD5 c32a1d4ab5d03f1284b67883e8d87530). Each file holds 10000 records of
 * 1 label byte followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32x32), which
 * is already CHW order.
 */
public final class Cifar10 {
    public static final int RECORD = 1 + 3 * 32 * 32;
    public static final int RECORDS_PER_FILE = 10_000;
    public static final String[] CLASS_NAMES = {
            "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

    public enum Split { TRAIN, TEST }

    private Cifar10() {
    }

    /** Loads a split from {@code dir} (the cifar-10-batches-bin folder, or its parent). */
    public static Dataset load(Path dir, Split split, Domain domain) throws IOException {
        Path base = Files.isDirectory(dir.resolve("cifar-10-batches-bin")) ? dir.resolve("cifar-10-batches-bin") : dir;
        String[] names = split == Split.TEST ? new String[] {"test_batch.bin"}
                : new String[] {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                "data_batch_5.bin"};
        int n = names.length * RECORDS_PER_FILE;
        float[] x = new float[n * 3072];
        int[] y = new int[n];
        float[] table = new float[256];
        for (int b = 0; b < 256; b++) {
            table[b] = domain.fromByte(b);
        }
        int ex = 0;
        for (String name : names) {
            Path f = base.resolve(name);
            if (!Files.isRegularFile(f)) {
                throw new IOException("CIFAR-10 file " + f + " not found (expected the binary version, folder "
                        + "cifar-10-batches-bin)");
            }
            long size = Files.size(f);
            if (size != (long) RECORD * RECORDS_PER_FILE) {
                long whole = size / RECORD;
                throw new IOException(f + ": " + size + " bytes, expected " + (long) RECORD * RECORDS_PER_FILE
                        + " (10000 records of 3073 bytes); " + (size < (long) RECORD * RECORDS_PER_FILE
                        ? "truncated at offset " + size + " inside record " + whole : "trailing bytes"));
            }
            byte[] raw = Files.readAllBytes(f);
            for (int r = 0; r < RECORDS_PER_FILE; r++, ex++) {
                int off = r * RECORD;
                int label = raw[off] & 0xff;
                if (label >= 10) {
                    throw new IOException(f + ": label " + label + " at offset " + off + " (record " + r
                            + ") is not in 0..9");
                }
                y[ex] = label;
                for (int i = 0; i < 3072; i++) {
                    x[ex * 3072 + i] = table[raw[off + 1 + i] & 0xff];
                }
            }
        }
        return new Dataset("cifar10/" + split.name().toLowerCase(), new Tensor(new Shape(n, 3, 32, 32), x), y, 10,
                domain);
    }
}
