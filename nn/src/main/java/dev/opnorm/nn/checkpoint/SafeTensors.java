package dev.opnorm.nn.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the safetensors format (huggingface/safetensors), which PyTorch
 * ({@code safetensors.torch.load_file}) and numpy ({@code safetensors.numpy.load_file}) read directly:
 * <pre>
 *   8 bytes      N, unsigned little-endian: the header length
 *   N bytes      UTF-8 JSON object: name -> {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
 *                plus an optional "__metadata__": {string: string}; padded with spaces
 *   rest         the data section: each tensor's row-major little-endian bytes at [begin, end), offsets relative
 *                to the start of the data section, contiguous, in order, covering it exactly
 * </pre>
 * Writing is atomic: the file is written to a temporary file in the same directory, forced to disk, then
 * renamed over the target, so a crash leaves either the old file or the new one, never half of one.
 * Tensors are laid out by element size (largest first) then name, as the reference implementation
 * does, so every tensor starts aligned to its element size.
 *
 * <p>Reading is strict and bounds-checked; every problem is an {@link IOException} naming the file and
 * the problem (header length, JSON offset, tensor name, offsets).
 */
public final class SafeTensors {
    /** Headers longer than this are refused (the reference reader's limit is the same 100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The reserved header key for string metadata. */
    public static final String METADATA_KEY = "__metadata__";

    private SafeTensors() {
    }

    /** The tensors of a file in data order, and its metadata (empty when the file has none). Unmodifiable. */
    public record Contents(Map<String, TensorEntry> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    // ---- writing ----

    /**
     * Writes {@code tensors} and {@code metadata} to {@code file} atomically (temp file, fsync, rename),
     * replacing an existing file. Parent directories are created.
     *
     * @param metadata string pairs for "__metadata__"; may be empty or null (then no "__metadata__" key)
     * @throws IllegalArgumentException when a name is empty or "__metadata__", a string is not valid UTF-16, or
     *                                  the header would exceed {@link #MAX_HEADER_BYTES}
     * @throws IOException              when writing or renaming fails (the temporary file is removed)
     */
    public static void write(Path file, Map<String, TensorEntry> tensors, Map<String, String> metadata)
            throws IOException {
        List<Map.Entry<String, TensorEntry>> order = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, TensorEntry> e : order) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException("invalid tensor name '" + e.getKey() + "'");
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException("tensor '" + e.getKey() + "' is null");
            }
        }
        order.sort(Comparator.<Map.Entry<String, TensorEntry>>comparingInt(e -> -e.getValue().dtype().bytes())
                .thenComparing(Map.Entry::getKey));

        byte[] header = header(order, metadata);
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                writeFully(ch, len.flip());
                writeFully(ch, ByteBuffer.wrap(header));
                for (Map.Entry<String, TensorEntry> e : order) {
                    writeFully(ch, e.getValue().buffer());
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            syncDirectory(dir);
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Makes the rename itself durable where the platform allows opening a directory (Linux); best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows and some file systems cannot open or sync a directory; the data itself was forced
        }
    }

    private static byte[] header(List<Map.Entry<String, TensorEntry>> order, Map<String, String> metadata) {
        Map<String, Object> h = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null: " + e);
                }
                m.put(e.getKey(), e.getValue());
            }
            h.put(METADATA_KEY, m);
        }
        long offset = 0;
        for (Map.Entry<String, TensorEntry> e : order) {
            TensorEntry t = e.getValue();
            List<Object> shape = new ArrayList<>();
            for (long d : t.shape()) {
                shape.add(d);
            }
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().name());
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + t.byteSize()));
            h.put(e.getKey(), info);
            offset += t.byteSize();
        }
        byte[] json;
        try {
            ByteBuffer enc = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(Json.write(h)));
            json = new byte[enc.remaining()];
            enc.get(json);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a tensor name or metadata string is not valid Unicode (lone surrogate)");
        }
        if (json.length > MAX_HEADER_BYTES - 8) {
            throw new IllegalArgumentException("safetensors header of " + json.length + " bytes exceeds the "
                    + MAX_HEADER_BYTES + "-byte limit readers enforce (too much metadata?)");
        }
        int padded = (json.length + 7) / 8 * 8; // data section starts 8-byte aligned, as the reference pads
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    // ---- reading ----

    /**
     * Reads and validates a whole file.
     *
     * @throws IOException naming the file and the problem: missing/short file, header length out of range,
     *                     invalid UTF-8 or JSON, a malformed entry, unknown dtype, offsets outside the data
     *                     section, a size that is not numel * dtype size, gaps or overlaps, unused trailing data
     */
    public static Contents read(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw bad(file, "is a folder, not a safetensors file");
        }
        FileChannel opened;
        try {
            opened = FileChannel.open(file, StandardOpenOption.READ);
        } catch (java.nio.file.NoSuchFileException e) {
            throw bad(file, "no such file");
        } catch (java.nio.file.AccessDeniedException e) {
            throw bad(file, "permission denied");
        } catch (java.nio.file.FileSystemException e) {
            throw bad(file, e.getReason() != null ? e.getReason() : e.toString());
        }
        try (FileChannel ch = opened) {
            long size = ch.size();
            if (size < 8) {
                throw bad(file, "file of " + size + " bytes is too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long n = lenBuf.flip().getLong();
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw bad(file, "header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
            }
            if (n > size - 8) {
                throw bad(file, "header length " + n + " exceeds the file size " + size);
            }
            if (n < 2) {
                throw bad(file, "header length " + n + " is too short for a JSON object");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, file);
            hb.flip();
            if (hb.get(0) != '{') {
                throw bad(file, "header does not start with '{'");
            }
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
            } catch (CharacterCodingException e) {
                throw bad(file, "header is not valid UTF-8");
            }
            Map<String, Object> h;
            try {
                h = Json.parseObject(text);
            } catch (Json.JsonException e) {
                throw bad(file, "header JSON is malformed: " + e.getMessage());
            }
            long dataStart = 8 + n, dataLen = size - dataStart;
            Map<String, String> metadata = metadata(file, h.get(METADATA_KEY));
            List<Info> infos = new ArrayList<>();
            for (Map.Entry<String, Object> e : h.entrySet()) {
                if (!e.getKey().equals(METADATA_KEY)) {
                    infos.add(info(file, e.getKey(), e.getValue(), dataLen));
                }
            }
            infos.sort(Comparator.comparingLong((Info i) -> i.begin).thenComparingLong(i -> i.end));
            long expect = 0;
            for (Info i : infos) {
                if (i.begin != expect) {
                    throw bad(file, "tensor '" + i.name + "' starts at data offset " + i.begin + " but the previous"
                            + " tensor ends at " + expect + " (" + (i.begin > expect ? "gap" : "overlap") + ")");
                }
                expect = i.end;
            }
            if (expect != dataLen) {
                throw bad(file, "tensors cover " + expect + " bytes of a data section of " + dataLen + " bytes");
            }
            Map<String, TensorEntry> tensors = new LinkedHashMap<>();
            for (Info i : infos) {
                ByteBuffer b = ByteBuffer.allocate((int) (i.end - i.begin));
                readFully(ch, b, dataStart + i.begin, file);
                tensors.put(i.name, TensorEntry.wrap(i.dtype, i.shape, b.array()));
            }
            return new Contents(tensors, metadata);
        }
    }

    private record Info(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private static Map<String, String> metadata(Path file, Object v) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw bad(file, "\"" + METADATA_KEY + "\" must be an object of strings, got " + Json.typeName(v));
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw bad(file, "metadata value of '" + e.getKey() + "' must be a string, got "
                        + Json.typeName(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private static Info info(Path file, String name, Object v, long dataLen) throws IOException {
        String where = "tensor '" + name + "': ";
        if (!(v instanceof Map<?, ?> m)) {
            throw bad(file, where + "entry must be an object, got " + Json.typeName(v));
        }
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw bad(file, where + "unknown field '" + k + "'");
            }
        }
        if (!(m.get("dtype") instanceof String dn)) {
            throw bad(file, where + "missing or non-string \"dtype\"");
        }
        DType dtype = DType.byName(dn);
        if (dtype == null) {
            throw bad(file, where + "unknown dtype '" + dn + "' (known: " + DType.knownNames() + ")");
        }
        long[] shape = longs(file, where, "shape", m.get("shape"), -1);
        long[] off = longs(file, where, "data_offsets", m.get("data_offsets"), 2);
        long begin = off[0], end = off[1];
        if (begin > end) {
            throw bad(file, where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataLen) {
            throw bad(file, where + "data_offsets [" + begin + ", " + end + "] outside the data section of "
                    + dataLen + " bytes");
        }
        long numel = TensorEntry.numel(shape);
        if (numel < 0 || numel > Long.MAX_VALUE / dtype.bytes() || numel * dtype.bytes() != end - begin) {
            throw bad(file, where + "shape " + java.util.Arrays.toString(shape) + " of " + dtype + " needs "
                    + (numel < 0 ? "an overflowing number of" : String.valueOf(numel * dtype.bytes()))
                    + " bytes but data_offsets [" + begin + ", " + end + "] hold " + (end - begin));
        }
        if (end - begin > Integer.MAX_VALUE - 8) {
            throw bad(file, where + (end - begin) + " bytes is larger than this reader's 2 GiB per-tensor limit");
        }
        return new Info(name, dtype, shape, begin, end);
    }

    private static long[] longs(Path file, String where, String field, Object v, int requiredLength)
            throws IOException {
        if (!(v instanceof List<?> list)) {
            throw bad(file, where + "missing or non-array \"" + field + "\"");
        }
        if (requiredLength >= 0 && list.size() != requiredLength) {
            throw bad(file, where + "\"" + field + "\" must have " + requiredLength + " entries, has " + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long x) || x < 0) {
                throw bad(file, where + "\"" + field + "\" entry " + i + " is " + list.get(i)
                        + ", not a non-negative integer");
            }
            out[i] = x;
        }
        return out;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position, Path file) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) {
                throw bad(file, "unexpected end of file at byte " + p);
            }
            p += r;
        }
    }

    private static IOException bad(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }
}
