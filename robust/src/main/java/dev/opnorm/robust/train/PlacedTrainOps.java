package dev.opnorm.robust.train;

import dev.opnorm.linalg.BatchOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.optim.KernelUpdateOps;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.optim.UpdateOps;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.PgaBackend;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.Regularizer;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@link TrainOps} for one {@link PlacedModel} on any backend's kernels (the host's, the OpenCL device's): the objective
 * (written once, {@link Objective#on}) and the runner ({@link StepRunner#of}) run with the parameters,
 * gradients and optimizer state in the backend's buffers. {@link #engine(PlacedModel, Optimizer)} and
 * {@link #runners(Ops)} build them from the backend's {@link Ops} alone (library use:
 * {@code trainer.runOn(PlacedTrainOps.runners(OpenCl.shared().ops()))}); the host runs the same operations on
 * {@link PlacedModel#host} ({@code runners(PlacedModel::host)}, the {@link Trainer}'s default).
 *
 * <p>Each part's cross-entropy is {@link Ops#softmaxXentPart} into the step's gradient rows and
 * {@link Ops#meanAndCountPart} into a four-float result that comes back in the step's one download
 * ({@link #results}); the attack is robust's PGA on the given engine; the regularizers run on
 * {@link PlacedTerms}. Per step: one upload of the batch and its labels, one download of the results, one
 * of the per-parameter NaN/Inf counts when asked; per evaluation batch: one upload, one download of the
 * count. {@link #store()} downloads parameters and buffers; the optimizer's state moves to the backend when
 * these operations are made and back when they close. Not thread safe.
 *
 * @param <F> the backend's float buffer
 * @param <I> the backend's int buffer
 */
public final class PlacedTrainOps<F, I> implements TrainOps<F, I, Grads<F>> {
    private final PlacedModel<F, I> model;
    private final Ops<F, I> ops;
    private final Optimizer optimizer; // null: steps only, no updates
    private final UpdateOps<F> updates;
    private final Supplier<? extends PgaBackend.Engine<F, I, ?>> attacks;
    private final BatchOps<F, F> batchOps;
    private final List<Param> params;
    private final Gradients<F> grads;
    private final F result;      // the parts' {mean loss, correct} in the order computed this step
    private final F nonFinite;   // per parameter tensor: NaN/Inf count after the last update
    private boolean unchecked;   // an update ran since the last nonFiniteParameter()
    private final int[] slot = {-1, -1}; // part p's results at result[slot[p]] this step, -1: not computed
    private int parts;           // parts computed this step
    private F lossRow, correctRow; // per logit row, grown to the largest batch
    private int rowCapacity;
    private F inputBuffer, evalInput; // the training / evaluation batch, reused while its shape stays
    private Shape inputShape, evalShape;
    private I labelBuffer, evalLabels;

    /**
     * @param model     the network placed on a backend (trained in place there; owned: closed with these
     *                  operations)
     * @param optimizer the update over model's parameters; its state moves to {@code updates} now (one upload
     *                  per state buffer) and back to the host on {@link #close()}
     * @param updates   the optimizer updates on the model's buffers
     * @param attacks   robust's PGA engine on the model (for the adversarial parts)
     * @param batchOps  the row operations of the data-dependent regularizers' iterations on the model's buffers
     * @throws IllegalArgumentException for a null argument or a parameter of the optimizer that the model does
     *                                  not hold
     */
    public PlacedTrainOps(PlacedModel<F, I> model, Optimizer optimizer, UpdateOps<F> updates,
                          Supplier<? extends PgaBackend.Engine<F, I, ?>> attacks, BatchOps<F, F> batchOps) {
        this(model, optimizer, updates, attacks, batchOps, true);
    }

    private PlacedTrainOps(PlacedModel<F, I> model, Optimizer optimizer, UpdateOps<F> updates,
                           Supplier<? extends PgaBackend.Engine<F, I, ?>> attacks, BatchOps<F, F> batchOps,
                           boolean updating) {
        if (model == null || (updating && optimizer == null) || updates == null || attacks == null
                || batchOps == null) {
            throw new IllegalArgumentException("placed training needs a placed model, an optimizer, its updates, "
                    + "the attack engine and the batch operations");
        }
        if (optimizer != null) {
            for (Param p : optimizer.params()) {
                model.value(p); // throws naming a parameter that the model does not hold
            }
        }
        this.model = model;
        this.ops = model.ops();
        this.optimizer = optimizer;
        this.updates = updates;
        this.attacks = attacks;
        this.batchOps = batchOps;
        this.params = model.params();
        this.grads = new Gradients<>(ops);
        this.result = ops.allocate(Shape.features(1, 4));
        this.nonFinite = ops.allocate(Shape.features(1, Math.max(1, params.size())));
        if (optimizer != null) {
            optimizer.moveTo(updates); // last: nothing after it can fail and strand the state on the backend
        }
    }

    /**
     * The training engine of a placed model on its backend's kernel contract: the optimizer updates
     * {@link KernelUpdateOps#on} the model's ops, robust's PGA {@link PgaBackend#placed} on the model and the
     * iteration row operations {@code PlacedBatchOps.of(model)}; closing the engine's ops closes the model.
     *
     * @throws IllegalArgumentException for a null argument or a parameter of the optimizer that the model does
     *                                  not hold
     */
    public static <F, I> TrainEngine<F, I, Grads<F>> engine(PlacedModel<F, I> model, Optimizer optimizer) {
        if (model == null || optimizer == null) {
            throw new IllegalArgumentException("placed training needs a placed model and an optimizer");
        }
        return of(model, optimizer).engine();
    }

    private static <F, I> PlacedTrainOps<F, I> of(PlacedModel<F, I> model, Optimizer optimizer) {
        return new PlacedTrainOps<>(model, optimizer, KernelUpdateOps.on(model.ops()), () -> PgaBackend.placed(model),
                PlacedBatchOps.of(model), optimizer != null);
    }

    /**
     * The steps alone (no optimizer: {@link #update} refuses) on a placed model, for a method's step outside a
     * run ({@link Objective#step}); closing them closes the model.
     *
     * @throws IllegalArgumentException for a null model
     */
    public static <F, I> PlacedTrainOps<F, I> steps(PlacedModel<F, I> model) {
        if (model == null) {
            throw new IllegalArgumentException("placed steps need a placed model");
        }
        return of(model, null);
    }

    /**
     * The runners on {@code ops}' backend for {@link Trainer#runOn}: each run gets a placed copy of its model
     * and {@link StepRunner#of} on its {@link #engine(PlacedModel, Optimizer)} (closing the runner frees the
     * copy and brings the optimizer state back).
     *
     * @throws IllegalArgumentException for null ops; (when the Trainer calls it) for a method or model the
     *                                  backend cannot run, naming it
     */
    public static <F, I> StepRunner.Factory runners(Ops<F, I> ops) {
        if (ops == null) {
            throw new IllegalArgumentException("placed training needs a backend's ops");
        }
        return runners(net -> new PlacedModel<>(ops, net));
    }

    /**
     * The runners of {@code place}'s placed models: {@link #runners(Ops)} with the model of each run made by
     * {@code place} (e.g. {@code PlacedModel::host}, the {@link Trainer}'s default: the host).
     *
     * @throws IllegalArgumentException for a null place
     */
    public static <F, I> StepRunner.Factory runners(Function<Layer, PlacedModel<F, I>> place) {
        if (place == null) {
            throw new IllegalArgumentException("placed training needs a way to place the model");
        }
        return (net, method, optimizer) -> {
            PlacedModel<F, I> m = place.apply(net);
            TrainEngine<F, I, Grads<F>> e;
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

    /** The training engine of these operations: the model's TRAIN/EVAL linearizations and these operations. */
    public TrainEngine<F, I, Grads<F>> engine() {
        return new TrainEngine<>(this::linearize, this);
    }

    /** The placed model the steps run on. */
    public PlacedModel<F, I> model() {
        return model;
    }

    private TrainNetwork.Pass<F, Grads<F>> linearize(F x, Shape shape, BnMode mode) {
        // a placed batch is exactly its shape's size, so a length that differs is a shape that is not the batch's
        if (x != null && shape != null && ops.length(x) != shape.size()) {
            throw new IllegalArgumentException("training input of " + ops.length(x) + " floats does not have the shape "
                    + shape);
        }
        return new PlacedPass<>(model.linearize(x, shape, mode));
    }

    @Override
    public F allocate(Shape shape) {
        model.checkOpen();
        return model.pool().tensor(shape);
    }

    @Override
    public void release(F v) {
        model.pool().give(v);
    }

    @Override
    public void copy(F dst, int dstOffset, F src, int srcOffset, int len) {
        ops.copyRange(dst, dstOffset, src, srcOffset, len);
    }

    /** The same buffer: the kernels read labels[0, k) of it. */
    @Override
    public I prefix(I labels, int k) {
        return labels;
    }

    /** robust's PGA on the model's attack engine: only the start offsets go up, the statistics come back. */
    @Override
    public void attack(Pga pga, F x, Shape s, I labels, F xAdv) {
        pga.run(attacks.get(), x, s, labels, Pga.Target.LABELS, 0, xAdv, null);
    }

    @Override
    public void crossEntropy(F gy, F logits, I labels, int from, int count, int classes, double weight, int part) {
        if (slot[part] < 0) {
            slot[part] = 2 * parts++;
        }
        crossEntropyAt(gy, logits, labels, from, count, classes, weight, slot[part]);
    }

    private void crossEntropyAt(F gy, F logits, I labels, int from, int count, int classes, double weight, int at) {
        int rows = ops.length(logits) / classes;
        if (lossRow == null || rowCapacity < rows) {
            freeRows();
            lossRow = ops.allocate(Shape.features(1, rows));
            correctRow = ops.allocate(Shape.features(1, rows));
            rowCapacity = rows;
        }
        ops.softmaxXentPart(gy, lossRow, correctRow, logits, labels, from, count, classes, (float) weight);
        ops.meanAndCountPart(result, at, lossRow, correctRow, from, count);
    }

    /** The step's one download: the floats of the parts computed (two for one part, four for both). */
    @Override
    public double[] results() {
        float[] s = new float[4];
        if (parts > 0) {
            ops.download(result, s, 2 * parts);
        }
        double[] r = new double[4];
        for (int p = 0; p < 2; p++) {
            if (slot[p] >= 0) {
                r[2 * p] = s[slot[p]];
                r[2 * p + 1] = s[slot[p] + 1];
            }
        }
        Arrays.fill(slot, -1);
        parts = 0;
        return r;
    }

    @Override
    public Term<F, I, Grads<F>> term(Regularizer r) {
        if (r instanceof GlobalSpectralNorm g) {
            return PlacedTerms.globalSpectralNorm(g, model);
        }
        return PlacedTerms.dataDependent(r, model, batchOps);
    }

    /** An {@link Objective}'s generic step on this engine; other methods have no placed implementation. */
    @Override
    public Step<F, I, Grads<F>> step(TrainingMethod method) {
        if (!(method instanceof Objective o)) {
            throw new IllegalArgumentException("training method " + method.name() + " ("
                    + method.getClass().getSimpleName() + ") has no device implementation: only robust.train.Objective "
                    + "methods run on the device");
        }
        Step<F, I, Grads<F>> s = o.on(engine());
        if (!method.state().isEmpty() && !s.mirrorsState()) {
            s.close();
            throw new IllegalArgumentException("method " + method.name() + " keeps state between steps ("
                    + method.state().get(0).name() + ", ...), which device training cannot update");
        }
        return s;
    }

    @Override
    public F input(Tensor x) {
        inputFor(x.shape);
        ops.upload(inputBuffer, x.data, x.shape.size());
        return inputBuffer;
    }

    private void inputFor(Shape x) {
        if (inputBuffer == null || !inputShape.equals(x)) {
            free(inputBuffer, labelBuffer);
            inputBuffer = ops.allocate(x);
            labelBuffer = ops.allocateInts(x.n());
            inputShape = x;
        }
    }

    @Override
    public I labels(int[] labels, Shape x) {
        check(labels, x, "training step");
        inputFor(x);
        ops.uploadInts(labelBuffer, labels, x.n());
        return labelBuffer;
    }

    @Override
    public Grads<F> gradients() {
        return grads;
    }

    @Override
    public void zero(Grads<F> g) {
        own(g).zero();
    }

    private Gradients<F> own(Grads<F> g) {
        if (g != grads) {
            throw new IllegalArgumentException("placed training: gradients that are not this run's");
        }
        return grads;
    }

    /**
     * The optimizer's update on the backend, then the per-parameter NaN/Inf counts (no transfer).
     *
     * @throws IllegalStateException for {@link #steps} (no optimizer)
     */
    @Override
    public void update(Optimizer o, Grads<F> g) {
        if (optimizer == null) {
            throw new IllegalStateException("placed steps without an optimizer make no updates");
        }
        Gradients<F> d = own(g);
        o.step(updates, model::value, p -> d.has(p) ? d.of(p) : null);
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
        ops.download(nonFinite, counts, counts.length);
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
        if (evalInput == null || !evalShape.equals(x.shape)) {
            free(evalInput, evalLabels);
            evalInput = ops.allocate(x.shape);
            evalLabels = ops.allocateInts(n);
            evalShape = x.shape;
        }
        ops.upload(evalInput, x.data, x.shape.size());
        ops.uploadInts(evalLabels, y, n);
        try (PlacedLinearization<F> lin = model.linearize(evalInput, evalShape, BnMode.EVAL)) {
            int classes = lin.outShape().perExample();
            F g = model.pool().tensor(lin.outShape());
            try {
                crossEntropyAt(g, lin.output(), evalLabels, 0, n, classes, 1, 0);
            } finally {
                model.pool().give(g);
            }
            return Math.round(ops.read(result, 1));
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

    private void free(F x, I y) {
        if (x != null) {
            ops.release(x);
            ops.releaseInts(y);
        }
    }

    private void freeRows() {
        if (lossRow != null) {
            ops.release(lossRow);
            ops.release(correctRow);
        }
        lossRow = correctRow = null;
    }

    /** Moves the optimizer state back to the host (one download per state buffer), then frees everything. */
    @Override
    public void close() {
        try {
            if (optimizer != null) {
                optimizer.moveTo(KernelUpdateOps.HOST);
            }
        } finally {
            grads.close();
            ops.release(result);
            ops.release(nonFinite);
            freeRows();
            free(inputBuffer, labelBuffer);
            free(evalInput, evalLabels);
            model.close();
        }
    }
}
