package dev.opnorm.nn.checkpoint;

import java.util.Arrays;

/**
 * The element types of the safetensors format, by their names in the header, with their sizes in bytes.
 * opnorm writes {@link #F32} (parameters, optimizer buffers) and {@link #I64} (counters, RNG states);
 * reading accepts every type below, so a file written by PyTorch with other types can still be inspected.
 */
public enum DType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The type named {@code name} in a header, or null when it is not a safetensors type. */
    public static DType byName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The known names, for error messages. */
    public static String knownNames() {
        return Arrays.toString(values());
    }
}
