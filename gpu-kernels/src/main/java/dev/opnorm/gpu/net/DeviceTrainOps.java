package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.optim.HostUpdateOps;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.Regularizer;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.PlacedPass;
import dev.opnorm.robust.train.PlacedTerms;
import dev.opnorm.robust.train.StepRunner;
import dev.opnorm.robust.train.TrainEngine;
import dev.opnorm.robust.train.TrainNetwork;
import dev.opnorm.robust.train.TrainOps;
import dev.opnorm.robust.train.TrainingMethod;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * robust's {@link TrainOps} on the OpenCL device for one {@link PlacedModel} on {@link OpenClOps}, and the
 * device engine and runners of training ({@code train --backend opencl}; library use: {@code trainer.runOn(DeviceTrainOps.runners(
 * OpenCl.shared()))}): the objective (written once, {@link Objective#on}) and the runner
 * ({@link StepRunner#of}) run here with the parameters, gradients and optimizer state on the device.
 *
 * <p>Each part's cross-entropy is {@code softmax_xent_part} into the step's gradient rows and
 * {@code mean_and_count_part} into a four-float result that comes back in the step's one download
 * ({@link #results}); the attack is robust's PGA on {@link DevicePgaOps#engine}; the regularizers run on
 * {@link PlacedTerms#dataDependent} (the data-dependent ones) or {@link PlacedTerms#globalSpectralNorm} (the global one, whose u,
 * v mirror the host state). Per step: one upload of the batch and its labels, one download of the results, one
 * of the per-parameter NaN/Inf counts when asked; per evaluation batch: one upload, one download of the count.
 * {@link #store()} downloads parameters and buffers; the optimizer's state moves to the device when these
 * operations are made and back when they close. Not thread safe.
 */
public final class DeviceTrainOps implements TrainOps<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> {
    private final PlacedModel<DeviceTensor, DeviceInts> model;
    private final OpenCl cl;
    private final Optimizer optimizer;
    private final DeviceUpdateOps updates;
    private final List<Param> params;
    private final Gradients<DeviceTensor> grads;
    private final DeviceTensor result;      // {clean loss, clean correct, adversarial loss, adversarial correct}
    private final DeviceTensor nonFinite;   // per parameter tensor: NaN/Inf count after the last update
    private boolean unchecked;              // an update ran since the last nonFiniteParameter()
    private int written;                    // bit p: part p's results were computed this step
    private DeviceTensor lossRow, correctRow; // per logit row, grown to the largest batch
    private DeviceTensor inputBuffer, evalInput; // the training / evaluation batch, reused while its shape stays
    private DeviceInts labelBuffer, evalLabels;

    /**
     * @param model     the network on the device (trained in place there; owned: closed with these operations)
     * @param optimizer the update over model's parameters; its state moves to the device now (one upload per
     *                  state buffer) and back to the host on {@link #close()}
     * @throws IllegalArgumentException for a parameter of the optimizer that the model does not hold
     */
    public DeviceTrainOps(PlacedModel<DeviceTensor, DeviceInts> model, Optimizer optimizer) {
        if (model == null || optimizer == null) {
            throw new IllegalArgumentException("device training needs a device model and an optimizer");
        }
        for (Param p : optimizer.params()) {
            model.value(p); // throws naming a parameter that the model does not hold
        }
        this.model = model;
        this.cl = DeviceNetworks.runtime(model);
        this.optimizer = optimizer;
        this.updates = new DeviceUpdateOps(cl);
        this.params = model.params();
        this.grads = new Gradients<>(cl.ops());
        this.result = DeviceTensor.allocate(cl, 4);
        this.nonFinite = DeviceTensor.allocate(cl, Math.max(1, params.size()));
        optimizer.moveTo(updates); // last: nothing after it can fail and strand the state on the device
    }

    /** The training engine of a device model: its TRAIN/EVAL linearizations and these operations. */
    public static TrainEngine<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> engine(
            PlacedModel<DeviceTensor, DeviceInts> model, Optimizer optimizer) {
        DeviceTrainOps ops = new DeviceTrainOps(model, optimizer);
        return new TrainEngine<>(ops::linearize, ops);
    }

    /**
     * The runners on {@code cl} for {@link dev.opnorm.robust.train.Trainer#runOn}: each run gets a device copy of
     * its model and {@link StepRunner#of} on its engine (closing the runner frees the copy and brings the
     * optimizer state back).
     *
     * @throws IllegalArgumentException (when the Trainer calls it) for a method or model the device cannot run,
     *                                  naming it
     */
    public static StepRunner.Factory runners(OpenCl cl) {
        if (cl == null) {
            throw new IllegalArgumentException("device training needs an OpenCL runtime");
        }
        return (net, method, optimizer) -> {
            PlacedModel<DeviceTensor, DeviceInts> m = new PlacedModel<>(cl.ops(), net);
            TrainEngine<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> e;
            try {
                e = engine(m, optimizer);
            } catch (RuntimeException ex) {
                m.close();
                throw ex;
            }
            try {
                return StepRunner.of(e, method, optimizer);
            } catch (RuntimeException ex) {
                e.ops().close();
                throw ex;
            }
        };
    }

    /** The device model the steps run on. */
    public PlacedModel<DeviceTensor, DeviceInts> model() {
        return model;
    }

    private TrainNetwork.Pass<DeviceTensor, Gradients<DeviceTensor>> linearize(DeviceTensor x, Shape shape,
                                                                              BnMode mode) {
        if (!x.shape().equals(shape)) {
            throw new IllegalArgumentException("training input " + x + " does not have the shape " + shape);
        }
        return new PlacedPass<>(model.linearize(x, shape, mode));
    }

    @Override
    public DeviceTensor allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(DeviceTensor v) {
        model.pool().give(v);
    }

    @Override
    public void copy(DeviceTensor dst, int dstOffset, DeviceTensor src, int srcOffset, int len) {
        cl.ops().copyRange(dst, dstOffset, src, srcOffset, len);
    }

    /** The same buffer: the device kernels read labels[0, k) of it. */
    @Override
    public DeviceInts prefix(DeviceInts labels, int k) {
        return labels;
    }

    /** robust's PGA on {@link DevicePgaOps#engine}: only the start offsets go up, the statistics come back. */
    @Override
    public void attack(Pga pga, DeviceTensor x, Shape s, DeviceInts labels, DeviceTensor xAdv) {
        pga.run(DevicePgaOps.engine(model), x, s, labels, Pga.Target.LABELS, 0, xAdv, null);
    }

    /** Unknown without a download: a non-finite logit makes the loss non-finite instead. */
    @Override
    public boolean finite(DeviceTensor logits, int len) {
        return true;
    }

    @Override
    public void crossEntropy(DeviceTensor gy, DeviceTensor logits, DeviceInts labels, int from, int count, int classes,
                             double weight, int part) {
        int rows = logits.shape().n();
        if (lossRow == null || lossRow.length() < rows) {
            freeRows();
            lossRow = DeviceTensor.allocate(cl, rows);
            correctRow = DeviceTensor.allocate(cl, rows);
        }
        OpenClOps ops = cl.ops();
        ops.softmaxXentPart(gy, lossRow, correctRow, logits, labels, from, count, classes, (float) weight);
        ops.meanAndCountPart(result, 2 * part, lossRow, correctRow, from, count);
        written |= 1 << part;
    }

    /** The step's one download: the floats of the parts computed (two for one part, four for both). */
    @Override
    public double[] results() {
        int from = (written & 1) != 0 ? 0 : 2, to = (written & 2) != 0 ? 4 : 2;
        written = 0;
        float[] s = new float[4];
        if (to > from) {
            result.download(s, from, from, to - from);
        }
        return new double[]{s[0], s[1], s[2], s[3]};
    }

    @Override
    public Term<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> term(Regularizer r) {
        if (r instanceof GlobalSpectralNorm g) {
            return PlacedTerms.globalSpectralNorm(g, model);
        }
        return PlacedTerms.dataDependent(r, model, DeviceBatchOps.of(model)); // robust's code on the placed engine
    }

    /** An {@link Objective}'s generic step on this engine; other methods have no device implementation. */
    @Override
    public Step<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> step(TrainingMethod method) {
        if (!(method instanceof Objective o)) {
            throw new IllegalArgumentException("training method " + method.name() + " ("
                    + method.getClass().getSimpleName() + ") has no device implementation: only robust.train.Objective "
                    + "methods run on the device");
        }
        Step<DeviceTensor, DeviceInts, Gradients<DeviceTensor>> s = o.on(new TrainEngine<>(this::linearize, this));
        if (!method.state().isEmpty() && !s.mirrorsState()) {
            s.close();
            throw new IllegalArgumentException("method " + method.name() + " keeps state between steps ("
                    + method.state().get(0).name() + ", ...), which device training cannot update");
        }
        return s;
    }

    @Override
    public DeviceTensor input(Tensor x) {
        if (inputBuffer == null || !inputBuffer.shape().equals(x.shape)) {
            free(inputBuffer, labelBuffer);
            inputBuffer = DeviceTensor.allocate(cl, x.shape);
            labelBuffer = DeviceInts.allocate(cl, x.shape.n());
        }
        inputBuffer.upload(x.data);
        return inputBuffer;
    }

    @Override
    public DeviceInts labels(int[] labels, Shape x) {
        check(labels, x, "training step");
        if (inputBuffer == null || !inputBuffer.shape().equals(x)) {
            free(inputBuffer, labelBuffer);
            inputBuffer = DeviceTensor.allocate(cl, x);
            labelBuffer = DeviceInts.allocate(cl, x.n());
        }
        labelBuffer.upload(labels);
        return labelBuffer;
    }

    @Override
    public Gradients<DeviceTensor> gradients() {
        return grads;
    }

    @Override
    public void zero(Gradients<DeviceTensor> g) {
        g.zero();
    }

    /** The optimizer's update on the device, then the per-parameter NaN/Inf counts (no transfer). */
    @Override
    public void update(Optimizer o, Gradients<DeviceTensor> g) {
        o.step(updates, model::value, p -> g.has(p) ? g.of(p) : null);
        OpenClOps ops = cl.ops();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            ops.countNonFinite(nonFinite, i, model.value(p), p.size());
        }
        unchecked = true;
    }

    /**
     * After an update: "parameter NAME became non-finite (k of m values NaN/Inf)" for the first parameter (in
     * model order) that holds one, or null when all are finite or no update ran since the last call. One
     * download of one float per parameter tensor.
     */
    @Override
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

    @Override
    public void load() {
        model.uploadParameters();
    }

    @Override
    public void store() {
        model.downloadParameters();
    }

    /** One upload of x and the labels, one download of the count (EVAL mode). */
    @Override
    public int correct(Tensor x, int[] labels, int labelFrom) {
        int n = x.shape.n();
        int[] y = Arrays.copyOfRange(labels, labelFrom, labelFrom + n);
        check(y, x.shape, "evaluation");
        if (evalInput == null || !evalInput.shape().equals(x.shape)) {
            free(evalInput, evalLabels);
            evalInput = DeviceTensor.allocate(cl, x.shape);
            evalLabels = DeviceInts.allocate(cl, n);
        }
        evalInput.upload(x.data);
        evalLabels.upload(y);
        try (PlacedLinearization<DeviceTensor> lin = model.linearize(evalInput, evalInput.shape(), BnMode.EVAL)) {
            int classes = lin.outShape().perExample();
            DeviceTensor g = model.pool().tensor(lin.outShape());
            try {
                crossEntropy(g, lin.output(), evalLabels, 0, n, classes, 1, 0);
            } finally {
                model.pool().give(g);
            }
            written = 0;
            return Math.round(result.readScalar(1));
        }
    }

    private void check(int[] labels, Shape x, String what) {
        int n = x.n(), k = model.outputShape(x).perExample();
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
    }

    private static void free(DeviceTensor x, DeviceInts y) {
        if (x != null) {
            x.close();
            y.close();
        }
    }

    private void freeRows() {
        if (lossRow != null) {
            lossRow.close();
            correctRow.close();
        }
        lossRow = correctRow = null;
    }

    /** Moves the optimizer state back to the host (one download per state buffer), then frees everything. */
    @Override
    public void close() {
        try {
            optimizer.moveTo(HostUpdateOps.INSTANCE);
        } finally {
            grads.close();
            result.close();
            nonFinite.close();
            freeRows();
            free(inputBuffer, labelBuffer);
            free(evalInput, evalLabels);
            model.close();
        }
    }

    /** The device's name, for a run's provenance. */
    public String device() {
        return cl.device().name;
    }
}
