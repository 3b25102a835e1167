package dev.opnorm.robust.attack;

import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.PlacedModel;

/**
 * An engine the PGA runs on: for a host network, its forward / VJP and the vector operations on that
 * engine's buffers ({@link Engine}), one implementation ({@link #placed}) for every backend: {@link #host()}
 * on the JVM, a model placed on OpenCL's ops on the device.
 * {@link Pga#on} turns a backend into an {@link Attack}.
 */
@FunctionalInterface
public interface PgaBackend {
    /**
     * The network and operations for {@code net} on this engine.
     *
     * @throws IllegalArgumentException when the engine cannot run the network
     */
    Engine<?, ?, ?> engine(Layer net);

    /**
     * A network and the operations on its buffers.
     *
     * @param network the forward and VJP
     * @param ops     the attack's vector operations
     */
    record Engine<V, L, S>(PgaNetwork<V> network, PgaOps<V, L, S> ops) {
        public Engine {
            if (network == null || ops == null) {
                throw new IllegalArgumentException("a PGA engine needs a network and its operations");
            }
        }
    }

    /**
     * The host: the network {@link PlacedModel#host placed on the host} (its layers' own kernels, nothing
     * copied) and {@link #placed} on it, the same engine as on a device.
     */
    static PgaBackend host() {
        return net -> placed(PlacedModel.host(net));
    }

    /**
     * The engine of a model placed on a backend: its EVAL linearization as the network, the backend's
     * {@code pga...} operations on buffers from the model's pool.
     *
     * @throws IllegalArgumentException for a null or closed model
     */
    static <F, I> Engine<F, I, F> placed(PlacedModel<F, I> model) {
        return KernelPgaOps.placed(model);
    }
}
