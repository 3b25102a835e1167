package dev.opnorm.nn.data;

import dev.opnorm.nn.util.Rng;

import java.util.Arrays;

/** Seeded subsets of a data set. */
public final class Subsets {
    private Subsets() {
    }

    /**
     * {@code perClass} example indices of every class, chosen uniformly without replacement, returned in
     * ascending order. Per class (class 0 first), the candidates are that class's indices in ascending order
     * and the first {@code perClass} of a partial Fisher-Yates shuffle are taken
     * ({@code for i < perClass: j = i + rng.nextInt(m - i); swap}), so the result depends only on the labels,
     * {@code perClass} and the generator.
     *
     * @param labels  one label per example, in [0, classes)
     * @throws IllegalArgumentException when a label is out of range or a class has fewer than perClass examples
     */
    public static int[] stratified(int[] labels, int classes, int perClass, Rng rng) {
        if (classes <= 0 || perClass < 0) {
            throw new IllegalArgumentException("stratified subset: classes " + classes + " and perClass " + perClass
                    + " must be positive and >= 0");
        }
        int[] counts = new int[classes];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("stratified subset: label " + labels[i] + " of example " + i
                        + " outside [0, " + classes + ")");
            }
            counts[labels[i]]++;
        }
        StringBuilder shortOf = new StringBuilder();
        for (int c = 0; c < classes; c++) {
            if (counts[c] < perClass) {
                shortOf.append(shortOf.length() == 0 ? "" : ", ").append("class ").append(c).append(" has ")
                        .append(counts[c]);
            }
        }
        if (shortOf.length() > 0) {
            throw new IllegalArgumentException("stratified subset: " + perClass + " examples per class requested but "
                    + shortOf);
        }
        int[][] byClass = new int[classes][];
        for (int c = 0; c < classes; c++) {
            byClass[c] = new int[counts[c]];
        }
        int[] fill = new int[classes];
        for (int i = 0; i < labels.length; i++) {
            byClass[labels[i]][fill[labels[i]]++] = i;
        }
        int[] out = new int[classes * perClass];
        int k = 0;
        for (int c = 0; c < classes; c++) {
            int[] cand = byClass[c];
            int m = cand.length;
            for (int i = 0; i < perClass; i++) {
                int j = i + rng.nextInt(m - i);
                int t = cand[i];
                cand[i] = cand[j];
                cand[j] = t;
                out[k++] = cand[i];
            }
        }
        Arrays.sort(out);
        return out;
    }

    /** The examples of {@link #stratified(int[], int, int, Rng)} as a new data set (copied, ascending order). */
    public static Dataset stratified(Dataset data, int perClass, Rng rng) {
        return data.select(stratified(data.labels(), data.classes(), perClass, rng));
    }
}
