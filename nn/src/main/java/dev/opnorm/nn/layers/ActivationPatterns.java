package dev.opnorm.nn.layers;

import dev.opnorm.nn.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * ReLU activation patterns phi_x read from a linearization (the paper's Sec. 5, Fig. 5): unit i of
 * example b is "on" when its ReLU output is > 0 (ReLU'(0) = 0, so exactly where its derivative is 1).
 * Inside the cell X(phi_x) the network is affine; the fraction of units whose state is shared
 * between x and x + z says how far z moved away from that cell.
 */
public final class ActivationPatterns {
    private ActivationPatterns() {
    }

    /** The ReLU outputs of a (possibly composite) linearization, in forward order. */
    public static List<Tensor> reluOutputs(Linearization lin) {
        List<Tensor> out = new ArrayList<>();
        lin.visit(l -> {
            if (l instanceof ReLU.Lin r) {
                out.add(r.output());
            }
        });
        return out;
    }

    /** Number of ReLU units per example (the length of the pattern phi_x). */
    public static long unitsPerExample(Linearization lin) {
        long n = 0;
        for (Tensor t : reluOutputs(lin)) {
            n += t.shape.perExample();
        }
        return n;
    }

    /**
     * For each example b, the fraction of ReLU units that are on in both or off in both
     * linearizations: |{i : [a_i > 0] == [b_i > 0]}| / units. The two must be linearizations of the
     * same network at batches of the same shape (e.g. x and x + z).
     *
     * @return one fraction in [0, 1] per example
     * @throws IllegalArgumentException when the ReLU layers or their shapes do not match
     */
    public static double[] sharedFraction(Linearization a, Linearization b) {
        List<Tensor> ra = reluOutputs(a), rb = reluOutputs(b);
        if (ra.size() != rb.size()) {
            throw new IllegalArgumentException("different networks: " + ra.size() + " vs " + rb.size() + " ReLU layers");
        }
        if (ra.isEmpty()) {
            throw new IllegalArgumentException("the linearization contains no ReLU");
        }
        int n = a.inShape().n();
        long[] same = new long[n];
        long units = 0;
        for (int l = 0; l < ra.size(); l++) {
            Tensor ta = ra.get(l), tb = rb.get(l);
            if (!ta.shape.equals(tb.shape)) {
                throw new IllegalArgumentException("ReLU layer " + l + ": shapes " + ta.shape + " and " + tb.shape);
            }
            int per = ta.shape.perExample();
            units += per;
            for (int e = 0; e < n; e++) {
                long s = 0;
                for (int i = e * per; i < (e + 1) * per; i++) {
                    if ((ta.data[i] > 0) == (tb.data[i] > 0)) {
                        s++;
                    }
                }
                same[e] += s;
            }
        }
        double[] f = new double[n];
        for (int e = 0; e < n; e++) {
            f[e] = (double) same[e] / units;
        }
        return f;
    }
}
