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
     * As {@link #lower(RowBatch, int)}, except that row r stops as soon as its bound over the box of a layer
     * it has reached is at least {@code stop[r]} (that bound is returned for it: sound, and enough when only
     * the bound's sign matters). By default no row stops early; {@link #after} checks at every step that
     * knows its input box.
     */
    default double[] lower(RowBatch f, int max, double[] stop) {
        return lower(f, max);
    }

    /**
     * Whether {@link #tighten} fixes ReLU signs first (the cheap path for deep networks): each unit's row
     * on the side its box's midpoint predicts (+e_j when the midpoint is &gt;= 0, else -e_j) goes back only
     * until its bound over a layer's box proves the unit stable ({@link #lower(RowBatch, int, double[])});
     * only units still unstable get the other row, which stops likewise. A stable unit's other end keeps
     * its interval bound: a ReLU's relaxation needs only its sign, and an unstable unit's two ends are the
     * full back-substituted ones, so the relaxations, and the logit and margin bounds, are those of the
     * full pass up to the looser boxes of stable units (these widen later interval boxes, which only
     * decides which units are tried).
     */
    default boolean signsFirst() {
        return false;
    }

    /**
     * Entries of the cheap first pass of {@link #tighten} (0: none): every unit is first bounded with rows
     * stopped past this many entries, and only the units that pass leaves unstable (lo &lt; 0 &lt; hi) are
     * pulled back in full. The units the first pass decides keep its (sound, looser) bounds.
     */
    default int probeRowSize() {
        return 0;
    }

    /** Where this context keeps the zonotope of the values at its point (null: none is tracked). */
    default ZonotopeSlot slot() {
        return null;
    }

    /**
     * The box {@code in} of the values at this point intersected with what this context knows of them besides:
     * the bounds of the {@link Zonotope} tracked to here, if any. Rules are given this box.
     */
    default Box prior(Box in) {
        ZonotopeSlot s = slot();
        return s == null ? in : s.prior(in);
    }

    /** The zonotope of the values at this point while it has not been handed over (null: none, or taken). */
    default Zonotope zonotope() {
        ZonotopeSlot s = slot();
        return s == null ? null : s.peek();
    }

    /**
     * The zonotope of the values at this point, handed over once (the next step's {@link BoundStep#forward}
     * consumes it; later calls return null); null when none is tracked.
     */
    default Zonotope takeZonotope() {
        ZonotopeSlot s = slot();
        return s == null ? null : s.take();
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
            if (probe && signsFirst()) {
                boundSigns(in, todo, left, max, lo, hi);
            } else {
                boundAll(in, todo, left, max, lo, hi);
            }
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
        int[] rowUnits = new int[2 * count];
        double[] signs = new double[2 * count];
        for (int t = 0; t < count; t++) {
            rowUnits[2 * t] = units[t];
            rowUnits[2 * t + 1] = units[t];
            signs[2 * t] = 1;
            signs[2 * t + 1] = -1; // -z_j: minus its lower bound is an upper bound of z_j
        }
        boundRows(in, rowUnits, signs, 2 * count, max, false, lo, hi);
    }

    /**
     * {@link #signsFirst()}'s tightening of units[0..count): the predicted side's rows, stopped once they
     * fix a sign, then the other side's rows of the units still unstable.
     */
    private void boundSigns(Box in, int[] units, int count, int max, double[] lo, double[] hi) {
        double[] signs = new double[count];
        for (int t = 0; t < count; t++) {
            int j = units[t];
            signs[t] = in.lo()[j] + in.hi()[j] >= 0 ? 1 : -1; // the midpoint's side (no overflow: lo < 0 < hi)
        }
        boundRows(in, units, signs, count, max, true, lo, hi);
        int[] left = new int[count];
        double[] other = new double[count];
        int m = 0;
        for (int t = 0; t < count; t++) {
            int j = units[t];
            if (lo[j] < 0 && hi[j] > 0) {
                left[m] = j;
                other[m++] = -signs[t];
            }
        }
        boundRows(in, left, other, m, max, true, lo, hi);
    }

    /** Rows per batch of {@link #tighten}'s windowed rows. */
    int BATCH_ROWS = 2 * BATCH_UNITS;

    /**
     * Intersects unit rowUnits[t]'s lower bound (signs[t] = 1) or upper bound (-1) with that of the windowed
     * row signs[t] e_j, t &lt; count ({@link #lowerUnits}). {@code decide}: each row stops once its bound over
     * a layer's box fixes the unit's sign: lo &gt; 0 or hi &lt;= 0, the states of a ReLU.
     */
    private void boundRows(Box in, int[] rowUnits, double[] signs, int count, int max, boolean decide,
                           double[] lo, double[] hi) {
        double[] stop = null;
        if (decide) {
            stop = new double[count];
            for (int t = 0; t < count; t++) {
                stop[t] = signs[t] > 0 ? Double.MIN_VALUE : 0; // lo > 0: on; -hi >= 0: off
            }
        }
        double[] l = lowerUnits(in, rowUnits, signs, stop, count, max);
        for (int t = 0; t < count; t++) {
            int j = rowUnits[t];
            if (signs[t] > 0) {
                lo[j] = Math.max(lo[j], l[t]);
            } else {
                hi[j] = Math.min(hi[j], -l[t]); // -z_j >= l: z_j <= -l
            }
        }
    }

    /**
     * Lower bounds of the windowed rows signs[t] e_{units[t]} (t &lt; count) of values with box {@code in},
     * pulled back in batches of rows at one spatial position ({@link RowBatch}), batches in parallel (each
     * writes only its own rows' bounds: the result does not depend on the schedule). Row t stops past
     * {@code max} entries, and, when {@code stop} is given, once its bound over a layer's box is at least
     * stop[t] ({@link #lower(RowBatch, int, double[])}; {@link Double#POSITIVE_INFINITY}: never).
     */
    default double[] lowerUnits(Box in, int[] units, double[] signs, double[] stop, int count, int max) {
        dev.opnorm.nn.Shape shape = in.shape();
        int plane = shape.h() * shape.w();
        // by position, then unit, then sign: the rows of one position are consecutive
        Integer[] order = new Integer[count];
        for (int t = 0; t < count; t++) {
            order[t] = t;
        }
        java.util.Arrays.sort(order, (a, b) -> {
            int ua = units[a], ub = units[b];
            return ua % plane != ub % plane ? Integer.compare(ua % plane, ub % plane)
                    : ua != ub ? Integer.compare(ua, ub) : Double.compare(signs[b], signs[a]);
        });
        java.util.List<int[]> groups = new java.util.ArrayList<>();
        for (int t = 0; t < count; ) {
            int e = t;
            while (e < count && e - t < BATCH_ROWS && units[order[e]] % plane == units[order[t]] % plane) {
                e++;
            }
            int[] g = new int[e - t];
            for (int i = t; i < e; i++) {
                g[i - t] = order[i];
            }
            groups.add(g);
            t = e;
        }
        double[] out = new double[count];
        groups.parallelStream().forEach(g -> {
            int m = g.length;
            int[] us = new int[m];
            double[] ss = new double[m], st = stop == null ? null : new double[m];
            for (int t = 0; t < m; t++) {
                us[t] = units[g[t]];
                ss[t] = signs[g[t]];
                if (st != null) {
                    st[t] = stop[g[t]];
                }
            }
            RowBatch rows = RowBatch.units(shape.c(), shape.h(), shape.w(), us, ss, m);
            double[] l = st == null ? lower(rows, max) : lower(rows, max, st);
            for (int t = 0; t < m; t++) {
                out[g[t]] = l[t];
            }
        });
        return out;
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
        boolean signs = signsFirst();
        int relus = reluLayers() + step.reluLayers(), budget = tightenLayers();
        ZonotopeSlot slot = new ZonotopeSlot(step.forward(prev.takeZonotope()));
        return new Backsub() {
            @Override
            public ZonotopeSlot slot() {
                return slot;
            }

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
            public double[] lower(RowBatch f, int max, double[] stop) {
                if (stop == null || in == null || prev.depth() == 0) {
                    return lower(f, max);
                }
                RowBatch p = step.pullLowerBatch(f);
                if (p == null) { // no batched form here: row by row, without stopping
                    return lower(f, max);
                }
                double[] b = p.lowerOver(in); // each row's RowWindow.lowerOver, as lower(f, max) does past max
                if (p.size() > max) {
                    return b;
                }
                int[] keep = new int[b.length];
                int m = 0;
                for (int r = 0; r < b.length; r++) {
                    if (!(b[r] >= stop[r])) {
                        keep[m++] = r;
                    }
                }
                if (m == 0) {
                    return b;
                }
                double[] subStop = new double[m];
                for (int t = 0; t < m; t++) {
                    subStop[t] = stop[keep[t]];
                }
                double[] deeper = prev.lower(m == b.length ? p : p.select(keep, m), max, subStop);
                for (int t = 0; t < m; t++) {
                    b[keep[t]] = Math.max(b[keep[t]], deeper[t]);
                }
                return b;
            }

            @Override
            public boolean windowed() {
                return windowed;
            }

            @Override
            public boolean signsFirst() {
                return signs;
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
