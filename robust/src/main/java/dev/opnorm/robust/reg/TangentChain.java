package dev.opnorm.robust.reg;

/**
 * A model's chain of links (its leaf layers, input to output) at one linearization, as
 * {@link TangentGradient} walks it on one backend's buffers {@code V} with parameter gradients {@code G}: each
 * link's JVP and VJP and its tangent-gradient rule: a placed model's linearization's parts on its backend
 * ({@link TangentGradient#accumulate(dev.opnorm.nn.layers.PlacedLinearization, Object, Object,
 * dev.opnorm.nn.layers.Grads)}; on the host the model placed there).
 *
 * @param <V> the backend's buffer type
 * @param <G> the backend's parameter gradients
 */
public interface TangentChain<V, G> {
    /** The number of links. */
    int links();

    /** Whether link i has parameters. */
    boolean hasParams(int i);

    /** Whether link i has a tangent-gradient rule (asked for links with parameters). */
    boolean hasRule(int i);

    /** Link i for messages: its qualified name in quotes and its type, e.g. {@code 'net.3' (PreActBlock)}. */
    String describe(int i);

    /** A buffer for the tangent leaving link i (its output's shape; contents unspecified). */
    V tangentOut(int i);

    /** Gives a buffer from {@link #tangentOut} back. */
    void release(V v);

    /** out = J_i in (in: the tangent entering link i). */
    void jvp(int i, V in, V out);

    /**
     * J_i^T g (g: the cotangent at link i's output) in a buffer of the chain's (valid until the link below
     * asks for its own, never g).
     */
    V cotangentBelow(int i, V g);

    /** grads += d/d theta_i {@code <g, J_i t>} (t: the tangent entering link i, g: the cotangent at its output). */
    void accumulate(int i, V t, V g, G grads);
}
