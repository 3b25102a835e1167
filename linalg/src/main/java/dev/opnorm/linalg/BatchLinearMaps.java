package dev.opnorm.linalg;

import java.util.List;

/**
 * Adapters between {@link LinearMap} and {@link BatchLinearMap}.
 *
 * <p>{@link #single} and {@link #of} let the batched algorithms run on plain maps (the per-example
 * and batched code paths are then the same code); {@link #example} goes the other way, for tests and
 * for inspecting one example of a batch.
 */
public final class BatchLinearMaps {
    private BatchLinearMaps() {}

    /** A batch of one: the map itself, no copies. */
    public static BatchLinearMap single(LinearMap a) {
        return new BatchLinearMap() {
            @Override public int batch() { return 1; }
            @Override public int inDim() { return a.inDim(); }
            @Override public int outDim() { return a.outDim(); }
            @Override public void apply(float[] v, float[] out) { a.apply(v, out); }
            @Override public void applyTranspose(float[] u, float[] out) { a.applyTranspose(u, out); }
        };
    }

    /**
     * The block-diagonal batch diag(A_0, ..., A_{b-1}) of maps with equal dimensions; each call copies
     * the example slices through per-example buffers allocated here once.
     *
     * @throws IllegalArgumentException if the list is empty or the dimensions differ
     */
    public static BatchLinearMap of(List<? extends LinearMap> maps) {
        if (maps.isEmpty()) throw new IllegalArgumentException("a batch needs at least one map");
        int in = maps.get(0).inDim(), out = maps.get(0).outDim();
        for (int i = 1; i < maps.size(); i++) {
            LinearMap m = maps.get(i);
            if (m.inDim() != in || m.outDim() != out) {
                throw new IllegalArgumentException("batch map " + i + " is " + m.outDim() + "x" + m.inDim()
                        + ", map 0 is " + out + "x" + in);
            }
        }
        List<LinearMap> copy = List.copyOf(maps);
        float[] bin = new float[in], bout = new float[out];
        return new BatchLinearMap() {
            @Override public int batch() { return copy.size(); }
            @Override public int inDim() { return in; }
            @Override public int outDim() { return out; }

            @Override
            public void apply(float[] v, float[] o) {
                LinearMaps.checkApply(v, copy.size() * in, o, copy.size() * out, "batch apply");
                for (int i = 0; i < copy.size(); i++) {
                    System.arraycopy(v, i * in, bin, 0, in);
                    copy.get(i).apply(bin, bout);
                    System.arraycopy(bout, 0, o, i * out, out);
                }
            }

            @Override
            public void applyTranspose(float[] u, float[] o) {
                LinearMaps.checkApply(u, copy.size() * out, o, copy.size() * in, "batch applyTranspose");
                for (int i = 0; i < copy.size(); i++) {
                    System.arraycopy(u, i * out, bout, 0, out);
                    copy.get(i).applyTranspose(bout, bin);
                    System.arraycopy(bin, 0, o, i * in, in);
                }
            }
        };
    }

    /**
     * Example {@code i} of a batch as a map of its own: the other examples' inputs are zero. Every call
     * runs the whole batch, so this costs {@code batch()} times a single map; meant for tests and
     * one-off inspection.
     */
    public static LinearMap example(BatchLinearMap batch, int i) {
        if (i < 0 || i >= batch.batch()) throw new IllegalArgumentException("example " + i + " out of range [0, " + batch.batch() + ")");
        int in = batch.inDim(), out = batch.outDim(), b = batch.batch();
        float[] vin = new float[b * in], vout = new float[b * out];
        return new LinearMap() {
            @Override public int inDim() { return in; }
            @Override public int outDim() { return out; }

            @Override
            public void apply(float[] v, float[] o) {
                LinearMaps.checkApply(v, in, o, out, "example apply");
                java.util.Arrays.fill(vin, 0f);
                System.arraycopy(v, 0, vin, i * in, in);
                batch.apply(vin, vout);
                System.arraycopy(vout, i * out, o, 0, out);
            }

            @Override
            public void applyTranspose(float[] u, float[] o) {
                LinearMaps.checkApply(u, out, o, in, "example applyTranspose");
                java.util.Arrays.fill(vout, 0f);
                System.arraycopy(u, 0, vout, i * out, out);
                batch.applyTranspose(vout, vin);
                System.arraycopy(vin, i * in, o, 0, in);
            }
        };
    }
}
