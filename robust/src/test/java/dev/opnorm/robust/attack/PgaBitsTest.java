package dev.opnorm.robust.attack;

import dev.opnorm.robust.Digest;
import static dev.opnorm.robust.Digest.mix;
import static dev.opnorm.robust.Digest.floats;
import static dev.opnorm.robust.Digest.ints;
import static dev.opnorm.robust.Digest.doubles;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.Sequential;

import org.junit.jupiter.api.Test;

/**
 * The exact bits of the host PGA on a fixed network (ScalarKernels and VectorKernels, which give the same
 * bits at every vector width and thread count): a digest
 * of every result field (x*, logits, predictions, labels, success, loss, norm, restart) and of every
 * iterate, against the digest the reference host code produced. The cases cover l1 / l2 / l_inf, restarts,
 * targeted and predicted labels, the cross-entropy and the l_q logit losses, alpha = inf, the [0, 1] domain,
 * a given start and FGM. Any change of the host arithmetic changes a digest, so it must be deliberate.
 */
class PgaBitsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final int N = 5;

    static long digest(AttackResult r) {
        long h = 17;
        h = floats(h, r.adversarial().data);
        h = floats(h, r.logits());
        h = ints(ints(ints(ints(h, r.predictions()), r.cleanPredictions()), r.labels()), r.restart());
        for (boolean b : r.success()) {
            h = mix(h, b ? 1 : 0);
        }
        h = doubles(doubles(h, r.loss()), r.perturbationNorm());
        return mix(h, r.targeted() ? 1 : 0);
    }

    private static Tensor unit(Tensor x) {
        Tensor u = new Tensor(x.shape);
        for (int i = 0; i < u.data.length; i++) {
            u.data[i] = 0.5f * (x.data[i] + 1); // [-1, 1] -> [0, 1], the edges stay on the edges
        }
        return u;
    }

    private static long[] run(Kernels kernels) {
        Sequential net = AttackFixtures.mlp(31, kernels);
        Tensor x = AttackFixtures.inputs(N, 32);
        Tensor xu = unit(x);
        int[] labels = AttackFixtures.labels(N, 33);
        int[] targets = {3, 3, 7, 0, 9};
        float[] delta = new float[x.data.length];
        for (int i = 0; i < delta.length; i++) {
            delta[i] = (i % 3 - 1) * 0.02f; // |delta_i|_2 = 0.02 sqrt(10.67) < 0.5 per example
        }
        long[] iterates = {23};
        Pga.IterateListener listen = (r, k, xk) -> iterates[0] = mix(mix(floats(iterates[0], xk.data), r), k);
        long[] d = {
                digest(Pga.l2(1.0).iterations(4).restarts(3).seed(5).attack(net, x, labels, 2)),
                digest(Pga.linf(0.1).iterations(3).restarts(2).seed(6).attackTargeted(net, x, targets, 0)),
                digest(Pga.l1(2.0).iterations(5).restarts(2).seed(7).domain(Domain.UNIT).attackPredicted(net, xu, 1)),
                digest(Pga.l2(0.7).iterations(3).restarts(2).seed(8).loss(AdversarialLoss.logitLq(INF))
                        .attack(net, x, labels, 4)),
                digest(Pga.l1(1.5).iterations(3).seed(9).loss(AdversarialLoss.logitLq(1)).attack(net, x, labels, 0)),
                digest(Pga.linf(0.05).iterations(2).seed(10).loss(AdversarialLoss.logitLq(2)).attack(net, x, labels, 0)),
                digest(Pga.l1(1.0).iterations(3).alpha(INF).randomStart(false).attack(net, x, labels, 0)),
                digest(Pga.l2(0.5).iterations(3).alpha(INF).randomStart(false).domain(Domain.UNIT)
                        .attack(net, xu, labels, 0)),
                digest(Pga.linf(0.1).iterations(3).alpha(INF).attackTargeted(net, x, targets, 0)),
                digest(Pga.l2(0.5).iterations(3).restarts(2).seed(11).startFrom(delta).attack(net, x, labels, 0)),
                digest(Fgm.linf(0.1).attack(net, x, labels)),
                digest(Pga.l2(0.5).iterations(2).restarts(2).seed(12).alpha(0.3).onIterate(listen)
                        .attack(net, x, labels, 0)),
                iterates[0]};
        return d;
    }

    @Test
    void hostPga_bitsArePinned() {
        Digest.assertPinned(BITS, PgaBitsTest::run);
    }

    private static final long[] BITS = {1085163766746739137L, -2195625778992245451L, -2184272730673204587L,
            5021918310034423632L, -457823584744397041L, -3700234664705272139L, 7871117825608355931L,
            6826032445304966768L, -9084308785843852191L, -4323009244280408568L, 4253897134954327266L,
            -8460772044138218443L, -4268926798159235767L};
}
