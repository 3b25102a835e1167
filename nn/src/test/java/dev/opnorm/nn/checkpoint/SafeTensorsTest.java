package dev.opnorm.nn.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /** A raw file: 8-byte little-endian header length, the header, then the data bytes. */
    private Path raw(String name, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void write_producesTheDocumentedBytes() throws IOException {
        Map<String, TensorEntry> t = new LinkedHashMap<>();
        t.put("w", TensorEntry.f32(new float[] {1f, -2f}, 2));
        t.put("n", TensorEntry.i64Scalar(7));
        Path p = dir.resolve("golden.safetensors");
        SafeTensors.write(p, t, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(p);

        // I64 (8 bytes per element) is laid out before F32 (4 bytes), like the reference implementation
        String json = "{\"__metadata__\":{\"k\":\"v\"},\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
        int padded = (json.length() + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(padded, b.getLong());
        byte[] h = new byte[padded];
        b.get(h);
        assertEquals(json + " ".repeat(padded - json.length()), new String(h, StandardCharsets.UTF_8));
        assertEquals(7L, b.getLong());
        assertEquals(1f, b.getFloat());
        assertEquals(-2f, b.getFloat());
        assertFalse(b.hasRemaining());
        // little-endian raw bits of 1.0f = 0x3f800000
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3f}, java.util.Arrays.copyOfRange(bytes, 8 + padded + 8, 8 + padded + 12));
    }

    @Test
    void writeThenRead_roundTripsTensorsAndMetadata() throws IOException {
        Map<String, TensorEntry> t = new LinkedHashMap<>();
        t.put("features.0.weight", TensorEntry.f32(new float[] {0.5f, Float.MIN_VALUE, -0f, Float.NaN, 3e38f, 1e-30f}, 2, 3));
        t.put("steps", TensorEntry.i64(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, 4));
        t.put("empty", TensorEntry.f32(new float[0], 0, 5));
        t.put("d", TensorEntry.f64(new double[] {Math.PI}, 1, 1));
        t.put("bytes", new TensorEntry(DType.U8, new long[] {3}, new byte[] {1, 2, (byte) 255}));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", "{\"lr\": 0.1, \"name\": \"a \\\"quoted\\\" \u00e9\"}");
        meta.put("multi\nline", "tab\there");
        Path p = dir.resolve("sub/dir/model.safetensors");
        SafeTensors.write(p, t, meta);

        SafeTensors.Contents c = SafeTensors.read(p);
        assertEquals(meta, c.metadata());
        assertEquals(t.keySet(), c.tensors().keySet());
        for (String k : t.keySet()) {
            assertEquals(t.get(k), c.tensors().get(k), k);
        }
        float[] w = c.tensors().get("features.0.weight").toFloats();
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(w[2]));
        assertTrue(Float.isNaN(w[3]));
        assertArrayEquals(new long[] {2, 3}, c.tensors().get("features.0.weight").shape());
        assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}, c.tensors().get("steps").toLongs());
    }

    @Test
    void write_withoutMetadata_hasNoMetadataKey() throws IOException {
        Path p = dir.resolve("plain.safetensors");
        SafeTensors.write(p, Map.of("x", TensorEntry.f32(new float[] {1}, 1)), null);
        String head = new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
        assertFalse(head.contains("__metadata__"));
        assertTrue(SafeTensors.read(p).metadata().isEmpty());
        SafeTensors.write(dir.resolve("none.safetensors"), Map.of(), Map.of());
        assertTrue(SafeTensors.read(dir.resolve("none.safetensors")).tensors().isEmpty());
    }

    @Test
    void write_replacesAtomically_andLeavesNoTemporaryFiles() throws IOException {
        Path p = dir.resolve("ckpt.safetensors");
        SafeTensors.write(p, Map.of("x", TensorEntry.f32(new float[] {1}, 1)), Map.of());
        SafeTensors.write(p, Map.of("x", TensorEntry.f32(new float[] {2, 3}, 2)), Map.of());
        assertArrayEquals(new float[] {2, 3}, SafeTensors.read(p).tensors().get("x").toFloats());
        try (var s = Files.list(dir)) {
            assertEquals(List.of(p.getFileName().toString()), s.map(q -> q.getFileName().toString()).toList());
        }
    }

    @Test
    void write_failedRename_keepsNoTemporaryFile() throws IOException {
        Path target = dir.resolve("occupied");
        Files.createDirectories(target.resolve("child")); // a non-empty directory cannot be replaced
        assertThrows(IOException.class,
                () -> SafeTensors.write(target, Map.of("x", TensorEntry.f32(new float[] {1}, 1)), Map.of()));
        try (var s = Files.list(dir)) {
            assertEquals(List.of("occupied"), s.map(q -> q.getFileName().toString()).toList());
        }
    }

    @Test
    void write_rejectsInvalidNames() {
        Map<String, TensorEntry> reserved = Map.of("__metadata__", TensorEntry.f32(new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("a"), reserved, null));
        Map<String, TensorEntry> empty = Map.of("", TensorEntry.f32(new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("b"), empty, null));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(dir.resolve("c"), Map.of(), Map.of("k", "\ud800")));
    }

    private void assertBad(Path p, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
    }

    private static final String X8 = "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @Test
    void read_acceptsAHandMadeFile() throws IOException {
        Path p = raw("ok", "{" + X8 + "}  ", new byte[8]);
        assertArrayEquals(new float[2], SafeTensors.read(p).tensors().get("x").toFloats());
    }

    @Test
    void read_rejectsBadHeaderLengths() throws IOException {
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[5]);
        assertBad(tiny, "too short");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).putLong(0);
        Path huge = dir.resolve("huge");
        Files.write(huge, b.array());
        assertBad(huge, "18446744073709551615", "limit");
        ByteBuffer c = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
        Path beyond = dir.resolve("beyond");
        Files.write(beyond, c.array());
        assertBad(beyond, "header length 1000 exceeds the file size 16");
    }

    @Test
    void read_rejectsMalformedHeaders() throws IOException {
        assertBad(raw("notjson", "{\"x\": }", new byte[0]), "malformed", "offset");
        assertBad(raw("array", "[1, 2]  ", new byte[0]), "start with '{'");
        Path utf = dir.resolve("utf");
        ByteBuffer b = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(4)
                .put(new byte[] {'{', (byte) 0xc3, (byte) 0x28, '}'});
        Files.write(utf, b.array());
        assertBad(utf, "UTF-8");
        assertBad(raw("meta", "{\"__metadata__\":{\"k\":1}}", new byte[0]), "metadata value of 'k'");
        assertBad(raw("metaobj", "{\"__metadata__\":[\"k\"]}", new byte[0]), "__metadata__");
        assertBad(raw("dup", "{" + X8 + "," + X8 + "}", new byte[8]), "duplicate key");
    }

    @Test
    void read_rejectsBadTensorEntries() throws IOException {
        assertBad(raw("dtype", "{\"x\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'x'", "unknown dtype 'F33'");
        assertBad(raw("nodtype", "{\"x\":{\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "tensor 'x'", "dtype");
        assertBad(raw("extra", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"y\":1}}", new byte[8]),
                "unknown field 'y'");
        assertBad(raw("negshape", "{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]),
                "\"shape\" entry 0");
        assertBad(raw("floatshape", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", new byte[8]),
                "non-negative integer");
        assertBad(raw("offs3", "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", new byte[8]),
                "must have 2 entries");
        assertBad(raw("reversed", "{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", new byte[8]),
                "tensor 'x'", "[8, 0]");
        assertBad(raw("outside", "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]),
                "tensor 'x'", "outside the data section of 8 bytes");
        assertBad(raw("size", "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]),
                "tensor 'x'", "needs 12 bytes", "hold 8");
        assertBad(raw("overflow", "{\"x\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,4],\"data_offsets\":[0,8]}}",
                new byte[8]), "tensor 'x'", "overflowing");
    }

    @Test
    void read_rejectsGapsOverlapsAndTrailingData() throws IOException {
        String y = "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}";
        assertBad(raw("gap", "{" + X8 + "," + y + "}", new byte[16]), "tensor 'y'", "starts at data offset 12", "gap");
        String z = "\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}";
        assertBad(raw("overlap", "{" + X8 + "," + z + "}", new byte[8]), "overlap");
        assertBad(raw("trailing", "{" + X8 + "}", new byte[12]), "cover 8 bytes of a data section of 12");
        String late = "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}";
        assertBad(raw("late", "{" + late + "}", new byte[12]), "tensor 'x'", "starts at data offset 4");
    }

    @Test
    void read_missingFile_isIOException() {
        assertThrows(IOException.class, () -> SafeTensors.read(dir.resolve("nope.safetensors")));
    }
}
