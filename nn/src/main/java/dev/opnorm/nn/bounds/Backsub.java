package dev.opnorm.nn.bounds;

/**
 * Everything before one point of the network, as seen by back-substitution: given linear lower bounds
 * on targets in terms of the values at that point, a lower bound on each target over the region of
 * network inputs (pulled back through the earlier layers, then minimized over the input region).
 * {@link #NONE} knows nothing: rules then keep their plain interval bounds.
 *
 * <p>Two ways to pull rows back, with the same bounds up to rounding: dense batches of rows over every
 * value of each layer ({@link #lower(LinearRows)}, the reference), and rows held on the spatial window
 * they reach ({@link #lower(RowWindow)}; {@link #tighten} pulls the rows of the units at one position
 * together, {@link #lower(RowBatch, int)}, when {@link #windowed()}): a unit's row through a 3x3
 * convolution touches 9 positions of the layer below, not all of them. A
 * windowed row may also stop early: once its window holds more than {@link #maxRowSize()} entries it is
 * minimized over the box of the layer it has reached (sound, those bounds hold over the region; looser
 * than going on to the input).
 */
@FunctionalInterface
public interface Backsub {
    /** No back-substitution: plain interval propagation. */
    Backsub NONE = f -> {
        double[] l = new double[f.rows()];
        java.util.Arrays.fill(l, Double.NEGATIVE_INFINITY);
        return l;
    };

    /** A lower bound on each row's target over the region (-infinity where nothing is known). */
    double[] lower(LinearRows f);

    /** A lower bound on one windowed row's target over the region, stopping past {@link #maxRowSize()} entries. */
    default double lower(RowWindow f) {
        return lower(f, maxRowSize());
    }

    /** As {@link #lower(RowWindow)}, stopping past {@code max} entries; by default through the dense form. */
    default double lower(RowWindow f, int max) {
        return lower(f.toLinearRows())[0];
    }

    /**
     * {@link #lower(RowWindow, int)} of each row of a batch (the same bounds bit for bit); by default row
     * by row, and as a batch through every layer with a batched form ({@link BoundStep#pullLowerBatch}).
     */
    default double[] lower(RowBatch f, int max) {
        double[] out = new double[f.rows()];
        for (int r = 0; r < out.length; r++) {
            out[r] = lower(f.row(r), max);
        }
        return out;
    }

    /**
     * Entries of the cheap first pass of {@link #tighten} (0: none): every unit is first bounded with rows
     * stopped past this many entries, and only the units that pass leaves unstable (lo &lt; 0 &lt; hi) are
     * pulled back in full. The units the first pass decides keep its (sound, looser) bounds.
     */
    default int probeRowSize() {
        return 0;
    }

    /** Whether {@link #tighten} pulls windowed rows (the fast path) instead of dense batches. */
    default boolean windowed() {
        return false;
    }

    /** Entries a windowed row may hold before it is bounded over the box it has reached (see the class comment). */
    default int maxRowSize() {
        return Integer.MAX_VALUE;
    }

    /** Layers between this point and the network input (0: the input). */
    default int depth() {
        return 0;
    }

    /** ReLU layers between this point and the network input ({@link BoundStep#reluLayers()} summed). */
    default int reluLayers() {
        return 0;
    }

    /**
     * The budget of {@link #tighten}: bounds are tightened only at points with fewer ReLU layers than
     * this before them ({@link #reluLayers()}): the inputs of the first {@code tightenLayers()} ReLU
     * layers and of the max pools before the last of them. Later points keep their interval bounds
     * (sound, looser, and no rows pulled back for them). {@link Integer#MAX_VALUE}: everywhere; 0: nowhere.
     */
    default int tightenLayers() {
        return Integer.MAX_VALUE;
    }

    /**
     * The box with the bounds of the listed values (indices units[0..count)) intersected with their
     * back-substituted ones: rows +e_j and -e_j, pulled back and minimized over the region. Dense: in
     * batches that bound the memory of the row matrices; windowed: the units of one spatial position
     * together ({@link RowBatch}), batches in parallel (each writes only its own bounds, so the result
     * does not depend on the schedule). {@link #NONE}
     * returns the box itself, and so does a point past the budget ({@link #tightenLayers()}).
     */
    default Box tighten(Box in, int[] units, int count) {
        return tighten(in, units, count, true);
    }

    /**
     * As {@link #tighten(Box, int[], int)}; {@code probe}: whether the first pass ({@link #probeRowSize()})
     * may decide units, which is right only where a unit is done once its sign is known (ReLU inputs).
     */
    default Box tighten(Box in, int[] units, int count, boolean probe) {
        if (this == NONE || count == 0 || reluLayers() >= tightenLayers()) {
            return in;
        }
        int n = in.size();
        double[] lo = in.lo().clone(), hi = in.hi().clone();
        if (windowed()) {
            int first = probe ? probeRowSize() : 0, max = maxRowSize();
            int[] todo = units;
            int left = count;
            if (first > 0 && first < max) {
                boundAll(in, units, count, first, lo, hi);
                todo = new int[count];
                left = 0;
                for (int t = 0; t < count; t++) {
                    if (lo[units[t]] < 0 && hi[units[t]] > 0) {
                        todo[left++] = units[t];
                    }
                }
            }
            boundAll(in, todo, left, max, lo, hi);
            return new Box(in.shape(), lo, hi);
        }
        int batch = 64;
        for (int from = 0; from < count; from += batch) {
            int m = Math.min(batch, count - from);
            double[] rows = new double[2 * m * n];
            for (int t = 0; t < m; t++) {
                int j = units[from + t];
                rows[(2 * t) * n + j] = 1;      // target z_j
                rows[(2 * t + 1) * n + j] = -1; // target -z_j: minus its lower bound is an upper bound of z_j
            }
            double[] l = lower(new LinearRows(new IntervalRows(2 * m, n, rows, rows.clone()), new double[2 * m]));
            for (int t = 0; t < m; t++) {
                int j = units[from + t];
                lo[j] = Math.max(lo[j], l[2 * t]);
                hi[j] = Math.min(hi[j], -l[2 * t + 1]);
            }
        }
        return new Box(in.shape(), lo, hi);
    }

    /**
     * Units per batch of {@link #tighten}'s windowed rows (2 rows each): enough to fill vector lanes,
     * few enough to spread over threads.
     */
    int BATCH_UNITS = 32;

    /**
     * Intersects the bounds of units[0..count) with those of their windowed rows +e_j and -e_j (stopped
     * past max entries), pulled back in batches of the units at one spatial position ({@link RowBatch}),
     * batches in parallel (each writes only its own units' bounds: the result does not depend on the
     * schedule).
     */
    private void boundAll(Box in, int[] units, int count, int max, double[] lo, double[] hi) {
        dev.opnorm.nn.Shape shape = in.shape();
        int plane = shape.h() * shape.w();
        // by position, then channel: the units of one position are consecutive
        Integer[] order = new Integer[count];
        for (int t = 0; t < count; t++) {
            order[t] = units[t];
        }
        java.util.Arrays.sort(order, (a, b) -> a % plane != b % plane ? Integer.compare(a % plane, b % plane)
                : Integer.compare(a, b));
        java.util.List<int[]> groups = new java.util.ArrayList<>();
        for (int t = 0; t < count; ) {
            int e = t;
            while (e < count && e - t < BATCH_UNITS && order[e] % plane == order[t] % plane) {
                e++;
            }
            int[] g = new int[e - t];
            for (int i = t; i < e; i++) {
                g[i - t] = order[i];
            }
            groups.add(g);
            t = e;
        }
        groups.parallelStream().forEach(g -> {
            int m = g.length;
            int[] rowsUnits = new int[2 * m];
            double[] signs = new double[2 * m];
            for (int t = 0; t < m; t++) {
                rowsUnits[2 * t] = g[t];
                rowsUnits[2 * t + 1] = g[t];
                signs[2 * t] = 1;
                signs[2 * t + 1] = -1; // -z_j: minus its lower bound is an upper bound of z_j
            }
            double[] l = lower(RowBatch.units(shape.c(), shape.h(), shape.w(), rowsUnits, signs, 2 * m), max);
            for (int t = 0; t < m; t++) {
                lo[g[t]] = Math.max(lo[g[t]], l[2 * t]);
                hi[g[t]] = Math.min(hi[g[t]], -l[2 * t + 1]);
            }
        });
    }

    /** This context after one more step: bounds at the step's output are pulled back through it first. */
    default Backsub after(BoundStep step) {
        return after(step, null);
    }

    /**
     * As {@link #after(BoundStep)}, with {@code in}, the box of the step's input (where a windowed row
     * that has grown past {@link #maxRowSize()} stops; null: never stop there).
     */
    default Backsub after(BoundStep step, Box in) {
        if (this == NONE) {
            return NONE;
        }
        Backsub prev = this;
        boolean windowed = windowed();
        int maxSize = maxRowSize(), probe = probeRowSize(), depth = depth() + 1;
        int relus = reluLayers() + step.reluLayers(), budget = tightenLayers();
        return new Backsub() {
            @Override
            public double[] lower(LinearRows f) {
                return prev.lower(step.pullLower(f));
            }

            @Override
            public double lower(RowWindow f, int max) {
                RowWindow p = step.pullLowerWindow(f);
                if (p == null) { // no windowed form here: dense from this layer on
                    return prev.lower(step.pullLower(f.toLinearRows()))[0];
                }
                if (in != null && p.size() > max && prev.depth() > 0) {
                    return p.lowerOver(in);
                }
                return prev.lower(p, max);
            }

            @Override
            public double[] lower(RowBatch f, int max) {
                RowBatch p = step.pullLowerBatch(f);
                if (p == null) { // no batched form here: row by row from this layer on
                    double[] out = new double[f.rows()];
                    for (int r = 0; r < out.length; r++) {
                        out[r] = lower(f.row(r), max);
                    }
                    return out;
                }
                if (in != null && p.size() > max && prev.depth() > 0) {
                    double[] out = new double[p.rows()];
                    for (int r = 0; r < out.length; r++) {
                        out[r] = p.row(r).lowerOver(in);
                    }
                    return out;
                }
                return prev.lower(p, max);
            }

            @Override
            public boolean windowed() {
                return windowed;
            }

            @Override
            public int maxRowSize() {
                return maxSize;
            }

            @Override
            public int probeRowSize() {
                return probe;
            }

            @Override
            public int depth() {
                return depth;
            }

            @Override
            public int reluLayers() {
                return relus;
            }

            @Override
            public int tightenLayers() {
                return budget;
            }
        };
    }
}
