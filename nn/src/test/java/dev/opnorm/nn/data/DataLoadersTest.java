package dev.opnorm.nn.data;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.*;

class DataLoadersTest {
    @TempDir
    Path dir;

    private static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt((type << 8) | dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    private static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bo)) {
            o.write(raw);
        }
        return bo.toByteArray();
    }

    private void writeFashion(int n, boolean gz, byte[] labels) throws IOException {
        byte[] pixels = new byte[n * 28 * 28];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i % 256);
        }
        byte[] img = idx(8, new int[] {n, 28, 28}, pixels);
        byte[] lab = idx(8, new int[] {n}, labels);
        Files.write(dir.resolve("t10k-images-idx3-ubyte" + (gz ? ".gz" : "")), gz ? gzip(img) : img);
        Files.write(dir.resolve("t10k-labels-idx1-ubyte" + (gz ? ".gz" : "")), gz ? gzip(lab) : lab);
    }

    @Test
    void fashionMnist_loadsAndScales_gzipAndPlain() throws IOException {
        for (boolean gz : new boolean[] {true, false}) {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            writeFashion(3, gz, new byte[] {0, 9, 4});
            Dataset d = FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC);
            assertEquals(3, d.size());
            assertArrayEquals(new int[] {0, 9, 4}, d.labels());
            assertEquals(-1f, d.images().data[0], 0f);
            assertEquals(1f, d.images().data[255], 1e-6f);
            assertEquals(-1f + 2f * 7 / 255f, d.images().data[7], 1e-6f);
            Dataset p = d.padTo(32, 32);
            assertEquals(32, p.images().shape.h());
            assertEquals(-1f, p.images().data[0], 0f);
            // pixel (0,0) of example 0 lands at (2,2)
            assertEquals(d.images().data[0], p.images().data[2 * 32 + 2], 0f);
            assertEquals(d.images().data[5], p.images().data[2 * 32 + 7], 0f);
        }
    }

    @Test
    void fashionMnist_truncatedImages_namesFileAndOffset() throws IOException {
        writeFashion(2, false, new byte[] {1, 2});
        Path img = dir.resolve("t10k-images-idx3-ubyte");
        byte[] all = Files.readAllBytes(img);
        Files.write(img, java.util.Arrays.copyOf(all, all.length - 100));
        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC));
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
        assertTrue(e.getMessage().contains("truncated at offset " + (all.length - 100)), e.getMessage());
    }

    @Test
    void fashionMnist_truncatedGzip_namesTheFile() throws IOException {
        writeFashion(4, true, new byte[] {1, 2, 3, 4});
        Path img = dir.resolve("t10k-images-idx3-ubyte.gz");
        byte[] all = Files.readAllBytes(img);
        Files.write(img, java.util.Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC));
        assertTrue(e.getMessage().startsWith(img.toString()) && e.getMessage().contains("gzip"), e.getMessage());
    }

    @Test
    void fashionMnist_badMagic_andBadLabel_andMissing_areClearErrors() throws IOException {
        IOException missing = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC));
        assertTrue(missing.getMessage().contains("not found"), missing.getMessage());

        writeFashion(2, false, new byte[] {1, 12});
        IOException label = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC));
        assertTrue(label.getMessage().contains("label 12 at offset 9"), label.getMessage());

        Files.write(dir.resolve("t10k-images-idx3-ubyte"), idx(0x0d, new int[] {2, 28, 28}, new byte[0]));
        IOException type = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.SYMMETRIC));
        assertTrue(type.getMessage().contains("element type 0xd"), type.getMessage());
    }

    @Test
    void fashionMnist_labelCountMismatch_isAnError() throws IOException {
        writeFashion(2, false, new byte[] {1, 2});
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idx(8, new int[] {3}, new byte[] {1, 2, 3}));
        IOException e = assertThrows(IOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TEST, Domain.UNIT));
        assertTrue(e.getMessage().contains("3 labels but"), e.getMessage());
    }

    @Test
    void fashionMnist_realDebianFiles_haveTheKnownShape() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.DEBIAN_DIR),
                "dataset-fashion-mnist is not installed");
        Dataset d = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TEST, Domain.SYMMETRIC);
        assertEquals(10_000, d.size());
        int[] counts = new int[10];
        for (int y : d.labels()) {
            counts[y]++;
        }
        for (int c : counts) {
            assertEquals(1000, c); // the test split is balanced
        }
    }

    private void writeCifar(String name, int records, int badLabelAt) throws IOException {
        byte[] raw = new byte[records * Cifar10.RECORD];
        for (int r = 0; r < records; r++) {
            raw[r * Cifar10.RECORD] = (byte) (r == badLabelAt ? 10 : r % 10);
            for (int i = 0; i < 3072; i++) {
                raw[r * Cifar10.RECORD + 1 + i] = (byte) ((r + i) % 256);
            }
        }
        Path sub = dir.resolve("cifar-10-batches-bin");
        Files.createDirectories(sub);
        Files.write(sub.resolve(name), raw);
    }

    @Test
    void cifar10_loadsTestBatch_inChwOrder() throws IOException {
        writeCifar("test_batch.bin", Cifar10.RECORDS_PER_FILE, -1);
        Dataset d = Cifar10.load(dir, Cifar10.Split.TEST, Domain.UNIT);
        assertEquals(10_000, d.size());
        assertEquals(3, d.images().shape.c());
        assertEquals(7, d.labels()[17]);
        // record 5, channel 1 (green), pixel (0, 3): byte (5 + 1024 + 3) % 256
        assertEquals(((5 + 1024 + 3) % 256) / 255f, d.images().data[d.images().shape.at(5, 1, 0, 3)], 1e-6f);
    }

    @Test
    void cifar10_truncatedFile_andBadLabel_areClearErrors() throws IOException {
        writeCifar("test_batch.bin", 10, -1);
        IOException e = assertThrows(IOException.class, () -> Cifar10.load(dir, Cifar10.Split.TEST, Domain.UNIT));
        assertTrue(e.getMessage().contains("test_batch.bin") && e.getMessage().contains("truncated at offset 30730"),
                e.getMessage());

        writeCifar("test_batch.bin", Cifar10.RECORDS_PER_FILE, 42);
        IOException l = assertThrows(IOException.class, () -> Cifar10.load(dir, Cifar10.Split.TEST, Domain.UNIT));
        assertTrue(l.getMessage().contains("label 10 at offset " + 42 * Cifar10.RECORD), l.getMessage());

        IOException m = assertThrows(IOException.class, () -> Cifar10.load(dir, Cifar10.Split.TRAIN, Domain.UNIT));
        assertTrue(m.getMessage().contains("data_batch_1.bin"), m.getMessage());
    }
}
