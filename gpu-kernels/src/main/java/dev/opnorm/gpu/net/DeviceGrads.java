package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.layers.Param;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Parameter gradients on the device, the device twin of {@link dev.opnorm.nn.layers.ParamGrads}: one
 * buffer per parameter storage (keyed by the identity of the host value array, so a container's
 * renamed views find the same buffer). {@code DeviceLinearization.vjpParams} ACCUMULATES (+=) into
 * them; {@link #zero()} resets them on the device. Not thread safe; {@link #close()} frees them.
 */
public final class DeviceGrads implements AutoCloseable {
    private final OpenCl cl;
    private final Map<float[], DeviceTensor> grads = new IdentityHashMap<>();

    public DeviceGrads(OpenCl cl) {
        this.cl = cl;
    }

    /** The gradient buffer of p, created as zeros (on the device) on first use. */
    public DeviceTensor of(Param p) {
        DeviceTensor g = grads.get(p.value);
        if (g == null) {
            g = DeviceTensor.allocate(cl, p.size());
            cl.ops().fill(g, 0f, p.size());
            grads.put(p.value, g);
        }
        return g;
    }

    /** True when a gradient buffer exists for p. */
    public boolean has(Param p) {
        return grads.containsKey(p.value);
    }

    /** Sets every buffer to zero on the device (no transfer). */
    public void zero() {
        for (DeviceTensor g : grads.values()) {
            cl.ops().fill(g, 0f, g.length());
        }
    }

    /** A host copy of p's gradient (one download); zeros when p has no buffer. */
    public float[] download(Param p) {
        DeviceTensor g = grads.get(p.value);
        return g == null ? new float[p.size()] : g.download();
    }

    @Override
    public void close() {
        grads.values().forEach(DeviceTensor::close);
        grads.clear();
    }
}
