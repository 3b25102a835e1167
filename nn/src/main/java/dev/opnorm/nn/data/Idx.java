package dev.opnorm.nn.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader for the IDX format of (Fashion-)MNIST: a big-endian header (two zero bytes, a type byte,
 * the number of dimensions, then each dimension as a 32-bit int) followed by the raw data. Only
 * unsigned bytes (type 0x08) are accepted. Gzip-compressed files (.gz) are detected by their magic
 * bytes, not by name. Every problem is reported with the file and the byte offset.
 */
public final class Idx {
    private Idx() {
    }

    /** The dimensions and bytes of one IDX file. */
    public record Content(int[] dims, byte[] data) {
    }

    /**
     * Reads an IDX file of unsigned bytes with exactly {@code expectedRank} dimensions.
     *
     * @throws IOException with the file name and offset when the file is missing, truncated or malformed
     */
    public static Content read(Path file, int expectedRank) throws IOException {
        try {
            return readChecked(file, expectedRank);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
                throw e;
            }
            // the stream's own errors (a truncated or corrupt .gz: "Unexpected end of ZLIB input stream",
            // an unreadable file) do not say which file
            throw new IOException(file + ": " + (e instanceof java.util.zip.ZipException
                    || String.valueOf(e.getMessage()).contains("ZLIB") ? "corrupt or truncated gzip data ("
                    + e.getMessage() + ")" : "cannot read (" + e + ")"), e);
        }
    }

    private static Content readChecked(Path file, int expectedRank) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException(file + ": is a folder, not an IDX file");
        }
        try (InputStream raw = open(file); DataInputStream in = new DataInputStream(raw)) {
            long offset = 0;
            int magic;
            try {
                magic = in.readInt();
            } catch (EOFException e) {
                throw new IOException(file + ": truncated at offset 0: no IDX header");
            }
            offset += 4;
            if ((magic >>> 16) != 0) {
                throw new IOException(file + ": bad IDX magic 0x" + Integer.toHexString(magic)
                        + " at offset 0 (expected 0x0000TTRR)");
            }
            int type = (magic >>> 8) & 0xff, rank = magic & 0xff;
            if (type != 0x08) {
                throw new IOException(file + ": IDX element type 0x" + Integer.toHexString(type)
                        + " at offset 2 is not unsigned byte (0x08)");
            }
            if (rank != expectedRank) {
                throw new IOException(file + ": IDX file has " + rank + " dimensions at offset 3, expected "
                        + expectedRank);
            }
            int[] dims = new int[rank];
            long count = 1;
            for (int i = 0; i < rank; i++) {
                try {
                    dims[i] = in.readInt();
                } catch (EOFException e) {
                    throw new IOException(file + ": truncated at offset " + offset + " inside the IDX header");
                }
                if (dims[i] <= 0) {
                    throw new IOException(file + ": IDX dimension " + i + " is " + dims[i] + " at offset " + offset);
                }
                offset += 4;
                count *= dims[i];
            }
            if (count > Integer.MAX_VALUE - 16) {
                throw new IOException(file + ": IDX data of " + count + " bytes is too large");
            }
            byte[] data = new byte[(int) count];
            int got = in.readNBytes(data, 0, data.length);
            if (got < data.length) {
                throw new IOException(file + ": truncated at offset " + (offset + got) + ": expected " + count
                        + " data bytes after the " + offset + "-byte header, found " + got);
            }
            if (in.read() != -1) {
                throw new IOException(file + ": trailing bytes after offset " + (offset + count));
            }
            return new Content(dims, data);
        }
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in;
        try {
            in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file");
        }
        in.mark(2);
        int b0 = in.read(), b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }
}
