package dev.opnorm.linalg.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    private static final double[] VALUES = {1.5, -2, 3, 4, 5.25, -6}; // the 2x3 matrix of the golden files

    // Written by numpy 2.4 (np.save / np.lib.format.write_array) from [[1.5, -2, 3], [4, 5.25, -6]].
    private static final String NUMPY_F8_C_LE = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAADAAAAAAAAACEAAAAAAAAAQQAAAAAAAABVAAAAAAAAAGMA=";
    private static final String NUMPY_F4_FORTRAN_BE = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/wAAAQIAAAMAAAABAqAAAQEAAAMDAAAA=";
    private static final String NUMPY_F8_V2 = "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAD4PwAAAAAAAADAAAAAAAAACEAAAAAAAAAQQAAAAAAAABVAAAAAAAAAGMA=";
    private static final String NUMPY_F4_V3 = "k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAwAAAQEAAAIBAAACoQAAAwMA=";
    private static final String NUMPY_INT64 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAEAAAAAAAAAAgAAAAAAAAA=";

    private static NpyArray decode(String base64) {
        return Npy.decode(Base64.getDecoder().decode(base64), "golden.npy");
    }

    @Test
    void read_numpyGoldenFiles_allVersionsOrdersAndEndiannesses() {
        for (String golden : new String[] {NUMPY_F8_C_LE, NUMPY_F4_FORTRAN_BE, NUMPY_F8_V2, NUMPY_F4_V3}) {
            NpyArray a = decode(golden);
            assertArrayEquals(new int[] {2, 3}, a.shape());
            assertArrayEquals(VALUES, a.data(), 0, a.toString());
            assertEquals(2, a.toMatrix().numRows);
            assertEquals(-6, a.toMatrix().get(1, 2));
        }
        assertTrue(decode(NUMPY_F4_FORTRAN_BE).fortranOrder());
        assertEquals(">f4", decode(NUMPY_F4_FORTRAN_BE).descr());
    }

    /** Hand-built file: any header text, version and data bytes. */
    private static byte[] file(int major, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int lenBytes = major == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + lenBytes + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) h.length); else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    private static byte[] doubles(ByteOrder order, double... x) {
        ByteBuffer b = ByteBuffer.allocate(8 * x.length).order(order);
        for (double v : x) b.putDouble(v);
        return b.array();
    }

    @Test
    void read_fortranOrder3d_isReorderedToC() {
        // a[i][j][k] = 100 i + 10 j + k with shape (2, 3, 2); Fortran order lists i fastest
        double[] f = new double[12];
        int n = 0;
        for (int k = 0; k < 2; k++) for (int j = 0; j < 3; j++) for (int i = 0; i < 2; i++) f[n++] = 100 * i + 10 * j + k;
        NpyArray a = Npy.decode(file(1, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3, 2), }\n", doubles(ByteOrder.BIG_ENDIAN, f)), "t");
        double[] want = new double[12];
        n = 0;
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 2; k++) want[n++] = 100 * i + 10 * j + k;
        assertArrayEquals(want, a.data(), 0);
    }

    @Test
    void read_scalarAndVectorShapes() {
        NpyArray s = Npy.decode(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }\n", doubles(ByteOrder.LITTLE_ENDIAN, 7)), "t");
        assertEquals(0, s.ndim());
        assertArrayEquals(new double[] {7}, s.data(), 0);
        NpyArray v = Npy.decode(file(2, "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f8\"}\n", doubles(ByteOrder.LITTLE_ENDIAN, 1, 2)), "t");
        assertArrayEquals(new int[] {2}, v.shape());
        var e = assertThrows(IllegalArgumentException.class, v::toMatrix);
        assertTrue(e.getMessage().contains("2-D"), e.getMessage());
    }

    @Test
    void write_thenRead_roundTrips(@TempDir Path dir) throws IOException {
        Path f8 = dir.resolve("a.npy"), f4 = dir.resolve("b.npy");
        Npy.write(f8, VALUES, 2, 3);
        float[] floats = {0.1f, Float.MIN_VALUE, -3e38f, 0};
        Npy.write(f4, floats, 4);
        assertArrayEquals(VALUES, Npy.read(f8).data(), 0);
        assertArrayEquals(floats, Npy.read(f4).toFloats(), 0f);
        // numpy's own bytes for the same float64 array
        assertArrayEquals(Base64.getDecoder().decode(NUMPY_F8_C_LE), Files.readAllBytes(f8));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary files left behind");
        }
    }

    private static String error(byte[] bytes) {
        return assertThrows(IllegalArgumentException.class, () -> Npy.decode(bytes, "bad.npy")).getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        assertTrue(message.startsWith("bad.npy: offset "), message);
        for (String p : parts) assertTrue(message.contains(p), "'" + message + "' should mention '" + p + "'");
    }

    @Test
    void read_malformedFiles_failWithFileOffsetAndProblem() {
        byte[] good = Base64.getDecoder().decode(NUMPY_F8_C_LE);
        String okHeader = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n";
        byte[] two = doubles(ByteOrder.LITTLE_ENDIAN, 1, 2);

        byte[] magic = good.clone();
        magic[1] = 'X';
        assertMentions(error(magic), "offset 1", "magic");
        byte[] version = good.clone();
        version[6] = 4;
        assertMentions(error(version), "offset 6", "version 4.0");
        assertMentions(error(Arrays.copyOf(good, 5)), "too short");
        assertMentions(error(Arrays.copyOf(good, 60)), "truncated header");
        assertMentions(error(Arrays.copyOf(good, good.length - 3)), "offset 128", "truncated data", "needs 48 bytes");
        assertMentions(error(Arrays.copyOf(good, good.length + 2)), "offset 176", "2 trailing bytes");
        assertMentions(error(Base64.getDecoder().decode(NUMPY_INT64)), "'descr'", "<i8");
        assertMentions(error(file(1, "{'descr': '<f8', 'shape': (2,), }\n", two)), "missing header field 'fortran_order'");
        assertMentions(error(file(1, "{'descr': '<f8', 'fortran_order': maybe, 'shape': (2,), }\n", two)), "'fortran_order'", "True or False");
        assertMentions(error(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }\n", two)), "'shape'", "'x'");
        assertMentions(error(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }\n", two)), "'shape'", "-2");
        assertMentions(error(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}\n", two)), "unknown header field 'extra'");
        assertMentions(error(file(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n", two)), "structured");
        assertMentions(error(file(1, "['descr']\n", two)), "offset 10", "expected '{'");
        assertMentions(error(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)", two)), "header ends early");
        assertMentions(error(file(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }\n", two)), "more than 2^31-1");
        assertFalse(error(file(1, okHeader, Arrays.copyOf(two, 9))).isEmpty());
    }

    @Test
    void read_missingFile_isAnIOException(@TempDir Path dir) {
        assertThrows(IOException.class, () -> Npy.read(dir.resolve("absent.npy")));
    }
}
