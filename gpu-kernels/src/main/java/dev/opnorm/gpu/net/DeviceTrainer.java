package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.optim.HostUpdateOps;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;

import java.util.List;
import java.util.Locale;

/**
 * One training step with everything on the device, for a pluggable {@link DeviceMethod} (the loss and
 * its gradient) and an {@code nn.optim} {@link Optimizer} (the update, written once; its state moved to the
 * device through {@link DeviceUpdateOps}): zero the device gradients, enqueue the method's
 * step, download its few result floats (the step's only transfer with the batch on the device), then,
 * for a finite loss only, enqueue the optimizer update and the BatchNorm running-statistics commit. So a
 * NaN/Inf loss leaves parameters, optimizer state and statistics untouched, as the host
 * {@code robust.train.Trainer} does. The host reference of a step is {@code grads.zero(); r =
 * method.step(model, x, y, rng, grads); if (r.finite()) optimizer.step(grads)}.
 *
 * <p>{@link #nonFiniteParameter()} checks the parameters after an update on the device (one download of
 * one float per parameter tensor); {@link #correct} evaluates a host batch in EVAL mode (one upload, one
 * download of the count). The parameters live in the {@link PlacedModel}
 * ({@link PlacedModel#downloadParameters()}), the optimizer state on the device while this trainer is
 * open ({@link Optimizer#exportState()} downloads it, {@link Optimizer#importState} uploads it).
 *
 * <p>Not thread safe. {@link #close()} frees the gradients and scratch buffers and the method's buffers,
 * and moves the optimizer state back to the host (one download per state buffer); the model stays open
 * (its owner closes it).
 */
public final class DeviceTrainer implements AutoCloseable {
    private final PlacedModel<DeviceTensor, DeviceInts> model;
    private final DeviceMethod method;
    private final Optimizer optimizer;
    private final DeviceUpdateOps updates;
    private final List<Param> params;
    private final Gradients<DeviceTensor> grads;
    private final DeviceTensor result;      // the method's scalars
    private final DeviceTensor nonFinite;   // per parameter tensor: NaN/Inf count after the last update
    private final DeviceStandardMethod evaluation = new DeviceStandardMethod(); // its count on EVAL logits
    private final DeviceTensor evalResult;
    private boolean unchecked;              // an update ran since the last nonFiniteParameter()
    private DeviceTensor inputBuffer;       // the training batch, reused while its shape stays
    private DeviceInts labelBuffer;
    private DeviceTensor evalInput;         // the evaluation batch, likewise
    private DeviceInts evalLabels;

    /**
     * @param model     the network on the device (its parameters are trained in place there)
     * @param method    the loss; owned (closed) by this trainer
     * @param optimizer the update over model's parameters; its state moves to the device now (one upload per
     *                  state buffer it has) and back to the host when this trainer closes
     * @throws IllegalArgumentException for a parameter of the optimizer that the model does not hold
     */
    public DeviceTrainer(PlacedModel<DeviceTensor, DeviceInts> model, DeviceMethod method, Optimizer optimizer) {
        if (model == null || method == null || optimizer == null) {
            throw new IllegalArgumentException("DeviceTrainer needs a model, a method and an optimizer");
        }
        for (Param p : optimizer.params()) {
            model.value(p); // throws naming a parameter that the model does not hold
        }
        OpenCl cl = DeviceNetworks.runtime(model);
        this.updates = new DeviceUpdateOps(cl);
        this.model = model;
        this.method = method;
        this.optimizer = optimizer;
        this.params = model.params();
        this.grads = new Gradients<>(cl.ops());
        this.result = DeviceTensor.allocate(cl, Math.max(1, method.scalars()));
        this.nonFinite = DeviceTensor.allocate(cl, Math.max(1, params.size()));
        this.evalResult = DeviceTensor.allocate(cl, evaluation.scalars());
        optimizer.moveTo(updates); // last: nothing after it can fail and strand the state on the device
    }

    public PlacedModel<DeviceTensor, DeviceInts> model() {
        return model;
    }

    public DeviceMethod method() {
        return method;
    }

    /** The optimizer; its state is on the device until {@link #close()}. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** The device gradients of the last step (for tests and diagnostics). */
    public Gradients<DeviceTensor> gradients() {
        return grads;
    }

    /**
     * One step on a host batch: uploads x and the labels (into buffers reused while the batch shape stays
     * the same), then {@link #step(DeviceTensor, DeviceInts, Rng)}.
     *
     * @throws IllegalArgumentException for a label count != batch or a label outside [0, classes)
     */
    public DeviceStepResult step(Tensor x, int[] labels, Rng rng) {
        if (inputBuffer == null || !inputBuffer.shape().equals(x.shape)) {
            free(inputBuffer, labelBuffer);
            inputBuffer = DeviceTensor.allocate(DeviceNetworks.runtime(model), x.shape);
            labelBuffer = DeviceInts.allocate(DeviceNetworks.runtime(model), x.shape.n());
        }
        stage(x, labels, "training step", inputBuffer, labelBuffer);
        return step(inputBuffer, labelBuffer, rng);
    }

    /**
     * One step on a batch already on the device (labels in [0, classes): a bad label gives a NaN loss
     * row, hence a non-finite loss and no update).
     */
    public DeviceStepResult step(DeviceTensor x, DeviceInts labels, Rng rng) {
        int n = x.shape().n();
        if (labels.length() < n) {
            throw new IllegalArgumentException("training step: " + labels.length() + " labels for a batch of " + n);
        }
        grads.zero();
        DeviceStepResult r;
        try (PlacedLinearization<DeviceTensor> lin = method.step(model, x, labels, rng, grads, result)) {
            // the step's only transfer; it waits for the forward and backward passes, nothing else
            float[] s = new float[method.scalars()];
            result.download(s, 0, 0, s.length);
            r = method.decode(s, n);
            if (r.finite()) {
                optimizer.step(updates, model::value, p -> grads.has(p) ? grads.of(p) : null);
                if (lin != null) {
                    lin.commit();
                }
                OpenClOps ops = DeviceNetworks.runtime(model).ops();
                for (int i = 0; i < params.size(); i++) {
                    Param p = params.get(i);
                    ops.countNonFinite(nonFinite, i, model.value(p), p.size());
                }
                unchecked = true;
            }
        }
        return r;
    }

    /**
     * After an update: "parameter NAME became non-finite (k of m values)" for the first parameter (in
     * model order) that holds a NaN/Inf, or null when all are finite or no update ran since the last call.
     * One download of one float per parameter tensor.
     */
    public String nonFiniteParameter() {
        if (!unchecked) {
            return null;
        }
        unchecked = false;
        float[] counts = new float[params.size()];
        nonFinite.download(counts, 0, 0, counts.length);
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] != 0) {
                Param p = params.get(i);
                return String.format(Locale.ROOT, "parameter %s became non-finite (%d of %d values NaN/Inf)",
                        p.name(), Math.round(counts[i]), p.size());
            }
        }
        return null;
    }

    /**
     * The number of examples of the host batch x classified correctly (first maximal logit == label) by the
     * network with BatchNorm in EVAL mode: one upload of x and the labels, one download of the count.
     *
     * @throws IllegalArgumentException for a label count != batch or a label outside [0, classes)
     */
    public int correct(Tensor x, int[] labels) {
        OpenCl cl = DeviceNetworks.runtime(model);
        if (evalInput == null || !evalInput.shape().equals(x.shape)) {
            free(evalInput, evalLabels);
            evalInput = DeviceTensor.allocate(cl, x.shape);
            evalLabels = DeviceInts.allocate(cl, x.shape.n());
        }
        stage(x, labels, "evaluation", evalInput, evalLabels);
        int n = x.shape.n();
        try (PlacedLinearization<DeviceTensor> lin = model.linearize(evalInput, evalInput.shape(), BnMode.EVAL)) {
            evaluation.lossOf(cl, lin.output(), evalLabels, n, lin.outShape().perExample(), evalResult);
            return Math.round(evalResult.readScalar(1));
        }
    }

    private void stage(Tensor x, int[] labels, String what, DeviceTensor xd, DeviceInts yd) {
        Shape out = model.outputShape(x.shape);
        int n = x.shape.n(), k = out.perExample();
        if (labels == null || labels.length != n) {
            throw new IllegalArgumentException(what + ": " + (labels == null ? "no" : labels.length)
                    + " labels for a batch of " + n);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException(what + ": label " + labels[i] + " of example " + i
                        + " outside [0, " + k + ")");
            }
        }
        xd.upload(x.data);
        yd.upload(labels);
    }

    private static void free(DeviceTensor x, DeviceInts y) {
        if (x != null) {
            x.close();
            y.close();
        }
    }

    @Override
    public void close() {
        try {
            optimizer.moveTo(HostUpdateOps.INSTANCE);
        } finally {
            grads.close();
            result.close();
            nonFinite.close();
            evalResult.close();
            evaluation.close();
            method.close();
            free(inputBuffer, labelBuffer);
            free(evalInput, evalLabels);
        }
    }
}
