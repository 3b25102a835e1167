package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.Regularizer;

/**
 * The operations of a training step and of its runner on one backend's float buffers {@code V}, class labels
 * {@code L} and parameter gradients {@code G}, so that {@link Objective} and the runner
 * ({@link StepRunner#of}) are written once ({@link PlacedTrainOps} on any backend's kernels, the host's
 * included). One instance serves one model (the one of its engine's network) and one run; it keeps its scratch
 * buffers between steps and {@link #close()} frees them.
 *
 * @param <V> a float buffer
 * @param <L> a buffer of class labels
 * @param <G> the parameter gradients
 */
public interface TrainOps<V, L, G> extends AutoCloseable {
    // ---- the objective's -------------------------------------------------------------------------------

    /** A buffer of {@code shape.size()} zeros of that shape, for the step's own buffers. */
    V allocate(Shape shape);

    /** Gives a buffer from {@link #allocate} back; null is ignored. */
    void release(V v);

    /** dst[dstOffset + i] = src[srcOffset + i] for i &lt; len; dst is not src. */
    void copy(V dst, int dstOffset, V src, int srcOffset, int len);

    /** The first k of the labels (n &gt;= k of them), as a label buffer. */
    L prefix(L labels, int k);

    /**
     * xAdv (shape s) = the untargeted attack {@code pga} (its seed already the step's) of x (shape s, not
     * modified) against labels[0, n), BatchNorm in EVAL mode, the first example index 0.
     */
    void attack(Pga pga, V x, Shape s, L labels, V xAdv);

    /**
     * The cross-entropy of logit rows [from, from + count) of logits (rows, classes) against labels[0, count):
     * those rows of gy (zeros before) become {@code (float) weight} times the gradient of the part's mean loss;
     * the part's mean loss and the number of rows whose first maximal logit is the label are the values
     * {@link #results} reports for {@code part}.
     *
     * @param part 0 for the clean examples, 1 for the adversarial ones
     */
    void crossEntropy(V gy, V logits, L labels, int from, int count, int classes, double weight, int part);

    /**
     * {mean loss, correct} of part 0 then of part 1 (zeros for a part not computed this step), read once the
     * step's passes are done (a device's one download per step).
     */
    double[] results();

    /**
     * {@code r} on this backend, for the steps of this run.
     *
     * @throws IllegalArgumentException for a regularizer the backend cannot run (the message names it)
     */
    Term<V, L, G> term(Regularizer r);

    /** A regularizer as a training step on this backend calls it. */
    interface Term<V, L, G> extends AutoCloseable {
        /** The regularizer's name in the step's penalty breakdown. */
        String name();

        /**
         * The penalty's gradient at the clean batch x (shape s, labels[0, n)) ACCUMULATED (+=) into grads;
         * returns the penalty's value. Never commits or closes {@code train}.
         *
         * @param train the step's TRAIN pass when it is at exactly x, else null ({@code RegBatch.train})
         */
        double accumulate(V x, Shape s, L labels, long seed, TrainNetwork.Pass<V, G> train, G grads);

        /**
         * True when the backend keeps a copy of the regularizer's checkpointed {@code state()} (e.g. the
         * global spectral norm's u, v on a device), kept in step by {@link #uploadState} / {@link #downloadState}.
         */
        default boolean mirrorsState() {
            return false;
        }

        /** The host state arrays changed (a resume): refresh the copy. */
        default void uploadState() {
        }

        /** Copies the backend's state into the host state arrays (before a checkpoint). */
        default void downloadState() {
        }

        @Override
        default void close() {
        }
    }

    // ---- the runner's ----------------------------------------------------------------------------------

    /**
     * x as the step's input on this backend (a device uploads it into a buffer reused while the shape stays);
     * valid until the next call.
     */
    V input(Tensor x);

    /**
     * The labels of a batch as this backend's label buffer, checked against the classes where the backend
     * cannot check them later.
     *
     * @throws IllegalArgumentException for a label count other than the batch or a bad label (named)
     */
    L labels(int[] labels, Shape x);

    /** The run's gradient buffers (one set, zeroed by {@link #zero}). */
    G gradients();

    /** Sets every gradient to zero. */
    void zero(G grads);

    /** The optimizer's update of the model's parameters from grads on this backend. */
    void update(Optimizer optimizer, G grads);

    /** See {@link StepRunner#nonFiniteParameter()}. */
    String nonFiniteParameter();

    /** The host parameters and buffers changed: copy them to the backend (nothing on the host). */
    void load();

    /** Copies the backend's parameters and buffers into the host objects (nothing on the host). */
    void store();

    /** Examples of the host batch x whose first maximal logit, BatchNorm in EVAL mode, is their label. */
    int correct(Tensor x, int[] labels, int labelFrom);

    /**
     * The steps of {@code method} on this backend (an {@link Objective}'s generic step, {@link Objective#on});
     * the runner closes it.
     *
     * @throws IllegalArgumentException for a method (or a part of it) the backend cannot run, naming it
     */
    Step<V, L, G> step(TrainingMethod method);

    /** One step's loss and gradients on this backend, as a runner calls it. */
    interface Step<V, L, G> extends AutoCloseable {
        /**
         * The method's step at (x, labels) (batch shape s): its gradient accumulated (+=) into grads, BatchNorm
         * statistics committed when the loss is finite.
         */
        StepResult step(V x, Shape s, L labels, Rng rng, G grads);

        /** Whether some part keeps a backend copy of the method's state ({@link Term#mirrorsState()}). */
        default boolean mirrorsState() {
            return false;
        }

        /** See {@link Term#uploadState()}. */
        default void uploadState() {
        }

        /** See {@link Term#downloadState()}. */
        default void downloadState() {
        }

        @Override
        default void close() {
        }
    }

    /** Frees the backend's buffers and moves nothing back but what the runner's close asks for. */
    @Override
    void close();
}
