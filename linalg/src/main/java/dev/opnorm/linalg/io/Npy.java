package dev.opnorm.linalg.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.ejml.data.DMatrixRMaj;

/**
 * Reader and writer of NumPy .npy files (format versions 1.0, 2.0, 3.0) holding float32 or float64
 * arrays, little or big endian, C or Fortran order.
 *
 * <p>Layout (numpy.lib.format): the magic string "\x93NUMPY", a major and a minor version byte, the
 * header length (uint16 little endian in version 1, uint32 in versions 2 and 3), then the header: a
 * Python dict literal such as {@code {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }}
 * (ASCII; UTF-8 in version 3), then the raw values.
 *
 * <p>Every problem is an {@link IllegalArgumentException} whose message names the file, the byte
 * offset or header field, and what was expected: a wrong magic, an unknown version, a header that is
 * not a dict literal, a missing or unknown field, an unsupported dtype (only f4 and f8 are read), a
 * negative or overflowing shape, a truncated or over-long data section. I/O failures stay
 * {@link IOException}s.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Reads a .npy file. */
    public static NpyArray read(Path file) throws IOException {
        return decode(Files.readAllBytes(file), file.toString());
    }

    /**
     * Decodes the bytes of a .npy file; {@code name} is used in error messages.
     *
     * @throws IllegalArgumentException if the bytes are not a supported .npy file
     */
    public static NpyArray decode(byte[] bytes, String name) {
        if (bytes.length < 10) fail(name, 0, "file too short for a .npy header (" + bytes.length + " bytes, need at least 10)");
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) fail(name, i, "not a .npy file: bad magic string (expected \\x93NUMPY)");
        }
        int major = bytes[6] & 0xff, minor = bytes[7] & 0xff;
        int headerLen, headerStart;
        if (major == 1) {
            headerLen = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) fail(name, 8, "file too short for a version " + major + " header length");
            long len = (bytes[8] & 0xffL) | (bytes[9] & 0xffL) << 8 | (bytes[10] & 0xffL) << 16 | (bytes[11] & 0xffL) << 24;
            if (len > Integer.MAX_VALUE) fail(name, 8, "header length " + len + " is too large");
            headerLen = (int) len;
            headerStart = 12;
        } else {
            fail(name, 6, "unsupported format version " + major + "." + minor + " (supported: 1.0, 2.0, 3.0)");
            return null;
        }
        if ((long) headerStart + headerLen > bytes.length) {
            fail(name, headerStart, "truncated header: declared length " + headerLen + " bytes, only " + (bytes.length - headerStart) + " present");
        }
        String header = new String(bytes, headerStart, headerLen, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = new HeaderParser(header, name, headerStart).parse();

        int itemSize;
        ByteOrder order;
        String d = h.descr;
        if (d.length() == 3 && (d.charAt(1) == 'f') && (d.charAt(2) == '4' || d.charAt(2) == '8')
                && (d.charAt(0) == '<' || d.charAt(0) == '>')) {
            itemSize = d.charAt(2) - '0';
            order = d.charAt(0) == '<' ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        } else {
            fail(name, headerStart, "field 'descr': unsupported dtype '" + d + "' (supported: '<f4', '>f4', '<f8', '>f8')");
            return null;
        }
        long count = 1;
        for (int i = 0; i < h.shape.length; i++) {
            count *= h.shape[i];
            if (count > Integer.MAX_VALUE) fail(name, headerStart, "field 'shape': " + Arrays.toString(h.shape) + " has more than 2^31-1 elements");
        }
        int dataStart = headerStart + headerLen;
        long need = count * itemSize, have = bytes.length - (long) dataStart;
        if (have < need) {
            fail(name, dataStart, "truncated data: shape " + Arrays.toString(h.shape) + " of " + d + " needs " + need + " bytes, file has " + have);
        }
        if (have > need) {
            fail(name, dataStart + need, "unexpected " + (have - need) + " trailing bytes after the data of shape " + Arrays.toString(h.shape));
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes, dataStart, (int) need).order(order);
        double[] raw = new double[(int) count];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = itemSize == 4 ? buf.getFloat() : buf.getDouble();
        }
        double[] data = h.fortranOrder ? fortranToC(raw, h.shape) : raw;
        return new NpyArray(h.shape, data, d, h.fortranOrder);
    }

    /** Writes a float64 array (little endian, C order, format 1.0) to a temporary file renamed into place. */
    public static void write(Path file, double[] data, int... shape) throws IOException {
        writeAtomically(file, encode(data, shape));
    }

    /** Writes a float32 array (little endian, C order, format 1.0) to a temporary file renamed into place. */
    public static void write(Path file, float[] data, int... shape) throws IOException {
        writeAtomically(file, encode(data, shape));
    }

    /** Writes an EJML matrix as a 2-D float64 array. */
    public static void write(Path file, DMatrixRMaj m) throws IOException {
        write(file, Arrays.copyOf(m.data, m.getNumElements()), m.numRows, m.numCols);
    }

    /** The bytes of a float64 .npy file (little endian, C order, format 1.0). */
    public static byte[] encode(double[] data, int... shape) {
        checkCount(data.length, shape);
        ByteBuffer b = header("<f8", shape, data.length * 8L);
        for (double x : data) b.putDouble(x);
        return b.array();
    }

    /** The bytes of a float32 .npy file (little endian, C order, format 1.0). */
    public static byte[] encode(float[] data, int... shape) {
        checkCount(data.length, shape);
        ByteBuffer b = header("<f4", shape, data.length * 4L);
        for (float x : data) b.putFloat(x);
        return b.array();
    }

    private static ByteBuffer header(String descr, int[] shape, long dataBytes) {
        StringBuilder s = new StringBuilder("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) s.append(shape[i]).append(shape.length == 1 ? "," : (i + 1 < shape.length ? ", " : ""));
        s.append("), }");
        // pad with spaces so that magic + version + length + header (ending in \n) is a multiple of 64
        int total = 10 + s.length() + 1;
        int pad = (64 - total % 64) % 64;
        s.append(" ".repeat(pad)).append('\n');
        byte[] h = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        long size = 10 + h.length + dataBytes;
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("array too large for one .npy buffer: " + size + " bytes");
        ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) h.length).put(h);
        return b;
    }

    private static void checkCount(int length, int[] shape) {
        long count = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            count *= d;
        }
        if (count != length) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + count + " elements, data has " + length);
    }

    private static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reorders column-major values of the given shape into row-major order. */
    private static double[] fortranToC(double[] f, int[] shape) {
        int nd = shape.length;
        double[] c = new double[f.length];
        if (nd <= 1) {
            System.arraycopy(f, 0, c, 0, f.length);
            return c;
        }
        int[] idx = new int[nd];
        long[] fStride = new long[nd];
        long st = 1;
        for (int k = 0; k < nd; k++) {
            fStride[k] = st;
            st *= shape[k];
        }
        for (int ci = 0; ci < c.length; ci++) {
            long fi = 0;
            for (int k = 0; k < nd; k++) fi += idx[k] * fStride[k];
            c[ci] = f[(int) fi];
            for (int k = nd - 1; k >= 0; k--) { // advance the C-order multi-index
                if (++idx[k] < shape[k]) break;
                idx[k] = 0;
            }
        }
        return c;
    }

    static void fail(String name, long offset, String message) {
        throw new IllegalArgumentException(name + ": offset " + offset + ": " + message);
    }

    private record Header(String descr, boolean fortranOrder, int[] shape) {}

    /** Parser of the header's dict literal; positions in messages are file offsets. */
    private static final class HeaderParser {
        private final String s;
        private final String name;
        private final int base;
        private int pos;

        HeaderParser(String s, String name, int base) {
            this.s = s;
            this.name = name;
            this.base = base;
        }

        Header parse() {
            String descr = null;
            Boolean fortran = null;
            int[] shape = null;
            skipSpace();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') { pos++; break; }
                int keyAt = pos;
                String key = string();
                skipSpace();
                expect(':');
                skipSpace();
                switch (key) {
                    case "descr" -> {
                        if (peek() != '\'' && peek() != '"') err("field 'descr': expected a string such as '<f4' (structured dtypes are not supported)");
                        descr = string();
                    }
                    case "fortran_order" -> fortran = bool();
                    case "shape" -> shape = tuple();
                    default -> { pos = keyAt; err("unknown header field '" + key + "'"); }
                }
                skipSpace();
                if (peek() == ',') { pos++; continue; }
                if (peek() == '}') { pos++; break; }
                err("expected ',' or '}' in the header dict");
            }
            if (descr == null) err("missing header field 'descr'");
            if (fortran == null) err("missing header field 'fortran_order'");
            if (shape == null) err("missing header field 'shape'");
            return new Header(descr, fortran, shape);
        }

        private String string() {
            char q = peek();
            if (q != '\'' && q != '"') err("expected a quoted string");
            int end = s.indexOf(q, pos + 1);
            if (end < 0) err("unterminated string");
            String r = s.substring(pos + 1, end);
            pos = end + 1;
            return r;
        }

        private boolean bool() {
            if (s.startsWith("True", pos)) { pos += 4; return true; }
            if (s.startsWith("False", pos)) { pos += 5; return false; }
            err("field 'fortran_order': expected True or False");
            return false;
        }

        private int[] tuple() {
            if (peek() != '(') err("field 'shape': expected a tuple such as (3, 4)");
            pos++;
            List<Integer> dims = new ArrayList<>();
            while (true) {
                skipSpace();
                if (peek() == ')') { pos++; break; }
                int start = pos;
                while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '-')) pos++;
                if (pos < s.length() && s.charAt(pos) == 'L') pos++; // Python 2 long suffix
                String tok = s.substring(start, pos).replace("L", "");
                long v;
                try {
                    v = Long.parseLong(tok);
                } catch (NumberFormatException e) {
                    pos = start;
                    err("field 'shape': expected a non-negative integer, found '" + (tok.isEmpty() ? String.valueOf(peek()) : tok) + "'");
                    return null;
                }
                if (v < 0 || v > Integer.MAX_VALUE) { pos = start; err("field 'shape': dimension " + v + " out of range"); }
                dims.add((int) v);
                skipSpace();
                if (peek() == ',') { pos++; continue; }
                if (peek() == ')') { pos++; break; }
                err("field 'shape': expected ',' or ')'");
            }
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }

        private char peek() {
            if (pos >= s.length()) err("header ends early");
            return s.charAt(pos);
        }

        private void expect(char c) {
            if (peek() != c) err("expected '" + c + "' in the header, found '" + s.charAt(pos) + "'");
            pos++;
        }

        private void err(String message) {
            fail(name, base + (long) Math.min(pos, s.length()), "header: " + message);
        }
    }
}
