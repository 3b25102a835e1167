package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;

import java.util.Map;
import java.util.IdentityHashMap;

/**
 * Entry points of the device-resident network path. {@link #model} caches one {@link PlacedModel} per
 * host network (by identity) and runtime, so repeated calls upload the parameters only once; after
 * changing the host parameters call {@code model(cl, net).uploadParameters()}. A cached model (and
 * its network and device memory) stays alive until {@link #release}.
 */
public final class DeviceNetworks {
    private static final Map<Layer, Map<OpenCl, PlacedModel<DeviceTensor, DeviceInts>>> CACHE = new IdentityHashMap<>();

    private DeviceNetworks() {
    }

    /** The cached device mirror of {@code net} on {@code cl} (created and uploaded on first use). */
    public static synchronized PlacedModel<DeviceTensor, DeviceInts> model(OpenCl cl, Layer net) {
        Map<OpenCl, PlacedModel<DeviceTensor, DeviceInts>> byRuntime = CACHE.computeIfAbsent(net, k -> new IdentityHashMap<>());
        return byRuntime.computeIfAbsent(cl, c -> new PlacedModel<>(c.ops(), net));
    }

    /** The OpenCL operations of a model placed on a device (its {@link PlacedModel#ops()}). */
    public static OpenClOps ops(PlacedModel<DeviceTensor, DeviceInts> model) {
        if (!(model.ops() instanceof OpenClOps o)) {
            throw new IllegalArgumentException("model of " + model.model().qualifiedName() + " is placed on "
                    + model.ops().name() + ", not on an OpenCL device");
        }
        return o;
    }

    /** The OpenCL runtime of a model placed on a device. */
    public static OpenCl runtime(PlacedModel<DeviceTensor, DeviceInts> model) {
        return ops(model).runtime();
    }

    /** Closes and forgets the cached device models of {@code net} (all runtimes); no-op when none. */
    public static synchronized void release(Layer net) {
        Map<OpenCl, PlacedModel<DeviceTensor, DeviceInts>> byRuntime = CACHE.remove(net);
        if (byRuntime != null) {
            byRuntime.values().forEach(PlacedModel::close);
        }
    }

    /**
     * Per-example sigma_max (the (2,2) operator norm) of the input-output Jacobian of {@code net} at each
     * example of {@code x}, BatchNorm in EVAL mode, entirely on the device of {@code cl}: linalg's
     * {@code PowerMethod.sigmaMax} on {@link PlacedLinearization#asBatchMap()} and
     * {@link PlacedBatchOps#of}, so the same start vectors and stopping rule as on the host. x and the
     * start vectors are uploaded once, the parameters come from the cache, each iteration downloads one
     * float per example. The result holds no device buffers (no vectors kept).
     *
     * @throws IllegalArgumentException when the network has an unsupported layer or x does not fit it
     */
    public static PowerMethod.BatchResult<DeviceTensor> sigmaMax(OpenCl cl, Layer net, Tensor x,
            PowerMethod.Options options) {
        return sigmaMax(cl, net, x, options, null);
    }

    /** As {@link #sigmaMax(OpenCl, Layer, Tensor, PowerMethod.Options)}, from the given start vectors (not modified; null: Gaussian). */
    public static PowerMethod.BatchResult<DeviceTensor> sigmaMax(OpenCl cl, Layer net, Tensor x,
            PowerMethod.Options options, float[] start) {
        PlacedModel<DeviceTensor, DeviceInts> m = model(cl, net);
        try (PlacedLinearization<DeviceTensor> lin = m.linearize(x, BnMode.EVAL)) {
            return PowerMethod.sigmaMax(lin.asBatchMap(), PlacedBatchOps.of(m), options, start, false);
        }
    }

    /** {@link #sigmaMax(OpenCl, Layer, Tensor, PowerMethod.Options)} on the JVM's shared runtime. */
    public static PowerMethod.BatchResult<DeviceTensor> sigmaMax(Layer net, Tensor x, PowerMethod.Options options) {
        return sigmaMax(OpenCl.shared(), net, x, options);
    }

    /**
     * Per-example (p,q) operator norms (lower bounds) of the input-output Jacobian of {@code net} at each
     * example of {@code x}, BatchNorm in EVAL mode, on the device of {@code cl}: linalg's
     * {@code OperatorNorm.estimate} on {@link PlacedLinearization#asBatchMap()} and
     * {@link PlacedBatchOps#of} (OperatorNorm's start vectors, stopping rule and restarts; a finite
     * alpha for p = 1, 2, inf). x is uploaded once, the parameters come from the cache. The caller closes
     * the result (its maximizers v stay on the device until then).
     *
     * @param start the first run's start vectors (batch * perExample, not modified), or null for
     *              OperatorNorm's Gaussian starts
     * @throws IllegalArgumentException for an unsupported layer, an x that does not fit, bad exponents or
     *                                  a finite alpha with p other than 1, 2, inf
     */
    public static OperatorNorm.BatchResult<DeviceTensor> operatorNorm(OpenCl cl, Layer net, Tensor x, double p,
            double q, OperatorNorm.Options options, float[] start) {
        PlacedModel<DeviceTensor, DeviceInts> m = model(cl, net);
        try (PlacedLinearization<DeviceTensor> lin = m.linearize(x, BnMode.EVAL)) {
            return OperatorNorm.estimate(lin.asBatchMap(), PlacedBatchOps.of(m), p, q, options, start, false);
        }
    }
}
