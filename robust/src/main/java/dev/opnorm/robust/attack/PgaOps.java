package dev.opnorm.robust.attack;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;

/**
 * The operations of the PGA ({@link Pga#run}) on one backend, so that the attack is written once and runs
 * on host arrays or on device buffers (one implementation over nn's {@code Ops}: {@code KernelPgaOps}): float buffers {@code V} of examples row after
 * row, reference labels {@code L}, and the per-example bookkeeping {@code S} (clean prediction, reference
 * label, the kept point's prediction, success, loss and restart, its perturbation norm, and whether the
 * last restart beat the kept one). Only {@link #upload}, {@link #uploadLabels}, {@link #download},
 * {@link #view} and {@link #read} move data between the host and the backend.
 *
 * <p>The per-row maps follow the host definitions: {@link #lossGrad} and {@link #keepBest} are
 * {@link AdversarialLoss}'s gradient and value, {@link #step} Pga's step (l1 saturated-coordinate mask,
 * {@code DualMaps.steepestAscent}, {@code Projections.ontoBall}, the domain clamp). Outputs are
 * overwritten; nothing aliases unless a method says so.
 *
 * @param <V> a float buffer
 * @param <L> a buffer of n reference classes
 * @param <S> the per-example statistics of n examples
 */
public interface PgaOps<V, L, S> {
    /** A buffer of {@code shape.size()} floats (contents unspecified). */
    V allocate(Shape shape);

    /** Gives a buffer from {@link #allocate} back (not to be used afterwards); null is ignored. */
    void release(V v);

    /** A buffer of n labels (contents unspecified). */
    L labels(int n);

    /** Gives a label buffer back; null is ignored. */
    void releaseLabels(L labels);

    /** Statistics of n examples, all zero. */
    S stats(int n);

    /** Gives statistics back; null is ignored. */
    void releaseStats(S stats);

    /** dst = the first len values of src (host to backend). */
    void upload(float[] src, V dst, int len);

    /** dst = the first n labels (host to backend). */
    void uploadLabels(int[] labels, L dst, int n);

    /** A host copy of the first len values of src (backend to host). */
    float[] download(V src, int len);

    /** The buffer as a host tensor of shape s (a view on the host, a downloaded copy elsewhere). */
    Tensor view(V v, Shape s);

    /** dst = the first len values of src. */
    void copy(V dst, V src, int len);

    /**
     * The clean prediction (argmax of clean's row, first maximum) and the reference label of each example
     * into stats; with usePredicted, ref is first overwritten with the clean predictions.
     */
    void initStats(S stats, L ref, V clean, boolean usePredicted, int n, int classes);

    /** gy (n x classes) = dl/df at logits z ({@link AdversarialLoss}'s gradient; negated when targeted). */
    void lossGrad(V gy, V z, V clean, L ref, AdversarialLoss loss, boolean targeted, int n, int classes);

    /** xk = clamp_domain(x + off) elementwise (off null: clamp_domain(x)). */
    void start(V xk, V x, V off, Domain domain, int len);

    /**
     * One PGA step on n rows of per values: xk = clamp_domain(x + Proj_eps(xk - x + alpha N_p(g))), or
     * clamp_domain(x + eps N_p(g)) for alpha = inf; g (the input gradient) is overwritten with scratch.
     */
    void step(V xk, V g, V x, double p, double alpha, double eps, Domain domain, int n, int per);

    /**
     * The loss and prediction at logits z of restart {@code restart}: an example's kept point is replaced
     * where this restart beats it (restart 0 always does: success first, then the higher loss, targeted the
     * lower), and stats remember for {@link #copyRowsWhereBetter} whether it did.
     */
    void keepBest(S stats, V z, V clean, L ref, AdversarialLoss loss, boolean targeted, int restart, int n,
                  int classes);

    /** dst row r = src row r (rows of len) for the examples whose last {@link #keepBest} replaced the kept point. */
    void copyRowsWhereBetter(V dst, V src, S stats, int n, int len);

    /** The perturbation norm ||a_r - b_r||_p (in double) of every example into stats. */
    void norms(S stats, V a, V b, double p, int n, int per);

    /** The statistics on the host: the attack's one download. */
    Pga.Outcome read(S stats, int n);
}
