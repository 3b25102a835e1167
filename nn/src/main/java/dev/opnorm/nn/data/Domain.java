package dev.opnorm.nn.data;

/**
 * The input domain [low, high] pixels are scaled to; attacks clamp to it. The paper's code uses
 * [-1, 1]: a byte b maps to low + (high - low) * b / 255.
 */
public record Domain(float low, float high) {
    /** [-1, 1], the paper's convention and opnorm's default. */
    public static final Domain SYMMETRIC = new Domain(-1f, 1f);
    /** [0, 1]. */
    public static final Domain UNIT = new Domain(0f, 1f);

    public Domain {
        if (!(low < high) || !Float.isFinite(low) || !Float.isFinite(high)) {
            throw new IllegalArgumentException("input domain [" + low + ", " + high + "] is empty or not finite");
        }
    }

    /** Scales a byte value 0..255 into the domain. */
    public float fromByte(int b) {
        return low + (high - low) * (b / 255f);
    }

    /** Parses "-1,1" or "0,1". */
    public static Domain parse(String s) {
        String[] parts = s.split(",");
        if (parts.length != 2) {
            throw new IllegalArgumentException("input domain '" + s + "' is not of the form LOW,HIGH");
        }
        try {
            return new Domain(Float.parseFloat(parts[0].trim()), Float.parseFloat(parts[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("input domain '" + s + "' is not of the form LOW,HIGH");
        }
    }

    @Override
    public String toString() {
        return "[" + low + ", " + high + "]";
    }
}
