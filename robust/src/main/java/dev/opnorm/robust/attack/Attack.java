package dev.opnorm.robust.attack;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.Layer;

/**
 * An adversarial attack on a classifier within an l_p ball of radius eps, clamped to an input domain.
 * Implementations run the network with BatchNorm in EVAL mode.
 */
public interface Attack {
    /** The norm of the threat model: 1, 2 or inf. */
    double p();

    /** The radius of the threat model. */
    double eps();

    /** The input domain adversarial points are clamped to. */
    Domain domain();

    /** A one-line description of every setting (for logs, CSV headers and results). */
    String describe();

    /**
     * Untargeted attack: ascend the loss of {@code labels} (usually the true labels).
     *
     * @param model        logits f(x) with output shape (n, classes, 1, 1) (or any shape: classes = per-example size)
     * @param x            (n, c, h, w) clean inputs inside {@link #domain()}; not modified
     * @param labels       n reference labels; success = the adversarial prediction differs from the label
     * @param firstExample index of x's first example in a larger data set: the random start of example i
     *                     is drawn from the stream of example firstExample + i, so cutting a data set into
     *                     batches of any size gives the same results
     * @throws IllegalArgumentException for NaN inputs, inputs outside the domain, or bad labels
     */
    AttackResult attack(Layer model, Tensor x, int[] labels, int firstExample);

    /** {@link #attack(Layer, Tensor, int[], int)} with firstExample = 0. */
    default AttackResult attack(Layer model, Tensor x, int[] labels) {
        return attack(model, x, labels, 0);
    }

    /**
     * Targeted attack: DEScend the loss of the target class (success = the adversarial prediction equals
     * the target).
     *
     * @throws IllegalArgumentException as {@link #attack}, or when the attack's loss has no notion of a target
     */
    AttackResult attackTargeted(Layer model, Tensor x, int[] targets, int firstExample);

    /** {@link #attackTargeted(Layer, Tensor, int[], int)} with firstExample = 0. */
    default AttackResult attackTargeted(Layer model, Tensor x, int[] targets) {
        return attackTargeted(model, x, targets, 0);
    }

    /**
     * Untargeted attack against the model's own clean predictions (the evaluation setting of the paper, where
     * the true label must not leak into the attack).
     */
    AttackResult attackPredicted(Layer model, Tensor x, int firstExample);

    /** {@link #attackPredicted(Layer, Tensor, int)} with firstExample = 0. */
    default AttackResult attackPredicted(Layer model, Tensor x) {
        return attackPredicted(model, x, 0);
    }
}
