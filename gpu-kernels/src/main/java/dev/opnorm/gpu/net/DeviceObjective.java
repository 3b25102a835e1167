package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training objective of {@code robust.train.Objective} on the device, as a {@link DeviceMethod}:
 * <pre>
 *   loss = cleanWeight * CE(f(x), y)                  (mean over the batch)
 *        + adversarialWeight * CE(f(x*), y)           (mean over the first k = round(fraction n) examples)
 *        + sum_r penalty_r(x, y)                      (device regularizers)
 * </pre>
 * step for step as the host: x* = the {@link Attack} on the first k examples with seed
 * {@code rng.fork("attack").nextLong()} (none when there is no attack or its weight is 0); the clean batch
 * and x* go through the network as ONE TRAIN-mode batch [x; x*] (so BatchNorm statistics are those of the
 * mixed batch, committed once by the trainer); each part's cross-entropy gradient is {@code weight *
 * (softmax - onehot) / count} on its rows ({@code softmax_xent_part}); then each regularizer accumulates its
 * gradient with seed {@code rng.fork("regularizer").fork(r).nextLong()}. Scalars: {@code [clean mean loss,
 * clean correct, adversarial mean loss, adversarial correct]}; the regularizers return their values.
 *
 * <p>The attack and the regularizers are interfaces so that the device PGA and robust's d.d. regularizers
 * on the device ({@link DeviceRegOps#regularizer}) plug in without this class knowing them.
 */
public final class DeviceObjective implements DeviceMethod {
    /** An attack on the device, e.g. PGA with BatchNorm in EVAL mode. */
    @FunctionalInterface
    public interface Attack {
        /**
         * Enqueues (or runs) the attack: xAdv (k, c, h, w) overwritten with adversarial examples of x (k, c,
         * h, w, not modified) for labels[0, k).
         */
        void run(PlacedModel<DeviceTensor, DeviceInts> model, DeviceTensor x, DeviceInts labels, long seed, DeviceTensor xAdv);
    }

    /** A regularizer on the device. */
    public interface Regularizer {
        /** Its name in the step's penalty breakdown (the host regularizer's name). */
        String name();

        /**
         * The penalty's gradient at the clean batch x (n examples, labels[0, n)) ACCUMULATED (+=) into grads;
         * returns the penalty's value (added to the loss). Must not commit BatchNorm statistics or close train.
         *
         * @param train the step's TRAIN linearization when it is at exactly x (no adversarial examples in the
         *              batch), else null - as the host {@code RegBatch.train}
         */
        double accumulate(PlacedModel<DeviceTensor, DeviceInts> model, DeviceTensor x, DeviceInts labels, long seed, PlacedLinearization<DeviceTensor> train,
                          Gradients<DeviceTensor> grads);

        /** See {@link DeviceMethod#mirrorsState()}; default: the regularizer keeps no state between steps. */
        default boolean mirrorsState() {
            return false;
        }

        /** See {@link DeviceMethod#uploadState()}; default: nothing. */
        default void uploadState() {
        }

        /** See {@link DeviceMethod#downloadState()}; default: nothing. */
        default void downloadState() {
        }

        /** Frees the regularizer's device buffers; default: none. */
        default void close() {
        }
    }

    /**
     * robust's PGA ({@code Pga.run} on {@link DevicePgaOps#engine}, BatchNorm EVAL, untargeted against the
     * labels) of {@code pga} with its seed replaced by the step's, as the host Objective calls
     * {@code attack.seed(seed).attack(model, xs, labels)} (first example index 0): only the start offsets go
     * up and the per-example statistics come back.
     */
    public static Attack pga(Pga pga) {
        if (pga == null) {
            throw new IllegalArgumentException("DeviceObjective.pga needs a Pga configuration");
        }
        return (model, x, labels, seed, xAdv) -> pga.seed(seed)
                .run(DevicePgaOps.engine(model), x, x.shape(), labels, Pga.Target.LABELS, 0, xAdv, null);
    }

    private final String name;
    private final double cleanWeight;
    private final Attack attack;
    private final double adversarialWeight;
    private final double fraction;
    private final List<Regularizer> regularizers;
    private final double[] penalties;
    private DeviceTensor grad, lossRow, correct;   // (rows, k), (rows), (rows) for rows = n + attacked
    private DeviceTensor prefix, xAdv, batch;      // first k examples, x*, [x; x*]
    private int attackedLast;

    /**
     * @param name              the host method's name
     * @param cleanWeight       weight of the clean cross-entropy (>= 0)
     * @param attack            null: no adversarial term
     * @param adversarialWeight weight of the adversarial cross-entropy (>= 0; 0 = no attack is run)
     * @param fraction          fraction of each batch attacked, in (0, 1] when there is an attack
     * @param regularizers      device regularizers (may be empty)
     * @throws IllegalArgumentException for the host Objective's invalid combinations
     */
    public DeviceObjective(String name, double cleanWeight, Attack attack, double adversarialWeight, double fraction,
                           List<Regularizer> regularizers) {
        if (!(cleanWeight >= 0) || Double.isInfinite(cleanWeight) || !(adversarialWeight >= 0)
                || Double.isInfinite(adversarialWeight)) {
            throw new IllegalArgumentException(name + ": weights must be finite and >= 0, got clean " + cleanWeight
                    + ", adversarial " + adversarialWeight);
        }
        if (attack != null && adversarialWeight > 0 && !(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException(name + ": fraction of the batch attacked must be in (0, 1], got "
                    + fraction);
        }
        if (cleanWeight == 0 && (attack == null || adversarialWeight == 0)) {
            throw new IllegalArgumentException(name + ": the clean weight or (with an attack) the adversarial weight "
                    + "must be positive");
        }
        this.name = name;
        this.cleanWeight = cleanWeight;
        this.attack = attack;
        this.adversarialWeight = attack == null ? 0 : adversarialWeight;
        this.fraction = fraction;
        this.regularizers = List.copyOf(regularizers);
        this.penalties = new double[this.regularizers.size()];
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int scalars() {
        return 4;
    }

    /** Examples attacked in a batch of n (Objective.attacked). */
    int attacked(int n) {
        return attack == null || adversarialWeight == 0 ? 0 : Math.max(1, (int) Math.round(fraction * n));
    }

    @Override
    public PlacedLinearization<DeviceTensor> step(PlacedModel<DeviceTensor, DeviceInts> model, DeviceTensor x, DeviceInts labels, Rng rng, Gradients<DeviceTensor> grads,
                                    DeviceTensor out) {
        OpenCl cl = DeviceNetworks.runtime(model);
        OpenClOps ops = cl.ops();
        Shape s = x.shape();
        int n = s.n(), k = attacked(n), per = s.perExample();
        boolean clean = cleanWeight > 0;
        int nc = clean ? n : 0, rows = nc + k;
        attackedLast = k;
        DeviceTensor in = x;
        if (k > 0) {
            Shape ks = s.withBatch(k);
            DeviceTensor xs = x;
            if (k < n) {
                prefix = sized(cl, prefix, ks);
                ops.copy(prefix, x, k * per);
                xs = prefix;
            }
            xAdv = sized(cl, xAdv, ks);
            attack.run(model, xs, labels, rng.fork("attack").nextLong(), xAdv);
            if (clean) {
                batch = sized(cl, batch, s.withBatch(rows));
                ops.copy(batch, x, n * per);
                ops.copyRange(batch, n * per, xAdv, 0, k * per);
                in = batch;
            } else {
                in = xAdv;
            }
        }
        PlacedLinearization<DeviceTensor> lin = model.linearize(in, in.shape(), BnMode.TRAIN);
        try {
            int classes = lin.outShape().perExample();
            if (grad == null || grad.length() < rows * classes || lossRow.length() < rows) {
                freeScratch();
                grad = DeviceTensor.allocate(cl, new Shape(rows, classes, 1, 1));
                lossRow = DeviceTensor.allocate(cl, rows);
                correct = DeviceTensor.allocate(cl, rows);
            }
            if (clean) {
                ops.softmaxXentPart(grad, lossRow, correct, lin.output(), labels, 0, n, classes, (float) cleanWeight);
                ops.meanAndCountPart(out, 0, lossRow, correct, 0, n);
            }
            if (k > 0) {
                ops.softmaxXentPart(grad, lossRow, correct, lin.output(), labels, nc, k, classes,
                        (float) adversarialWeight);
                ops.meanAndCountPart(out, 2, lossRow, correct, nc, k);
            }
            lin.vjpParams(grad, grads);
            Rng regRng = rng.fork("regularizer");
            for (int r = 0; r < regularizers.size(); r++) {
                penalties[r] = regularizers.get(r).accumulate(model, x, labels, regRng.fork(r).nextLong(),
                        in == x ? lin : null, grads);
            }
            return lin;
        } catch (RuntimeException e) {
            lin.close();
            throw e;
        }
    }

    /** True when some regularizer mirrors host state (e.g. the u, v of {@link DeviceGlobalSnrOps#regularizer}). */
    @Override
    public boolean mirrorsState() {
        for (Regularizer r : regularizers) {
            if (r.mirrorsState()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void uploadState() {
        for (Regularizer r : regularizers) {
            r.uploadState();
        }
    }

    @Override
    public void downloadState() {
        for (Regularizer r : regularizers) {
            r.downloadState();
        }
    }

    @Override
    public DeviceStepResult decode(float[] s, int n) {
        boolean clean = cleanWeight > 0;
        int k = attackedLast;
        double cleanLoss = clean ? s[0] : 0, advLoss = k > 0 ? s[2] : 0;
        double total = cleanWeight * cleanLoss + adversarialWeight * advLoss;
        Map<String, Double> pen = new LinkedHashMap<>();
        for (int r = 0; r < regularizers.size(); r++) {
            pen.put(regularizers.get(r).name(), penalties[r]);
            total += penalties[r];
        }
        int correctCount = Math.round(clean ? s[1] : s[3]);
        return new DeviceStepResult(total, cleanLoss, advLoss, pen, correctCount, clean ? n : k);
    }

    private static DeviceTensor sized(OpenCl cl, DeviceTensor t, Shape shape) {
        if (t != null && t.shape().equals(shape)) {
            return t;
        }
        if (t != null) {
            t.close();
        }
        return DeviceTensor.allocate(cl, shape);
    }

    private void freeScratch() {
        for (DeviceTensor t : new DeviceTensor[]{grad, lossRow, correct}) {
            if (t != null) {
                t.close();
            }
        }
        grad = lossRow = correct = null;
    }

    @Override
    public void close() {
        freeScratch();
        for (DeviceTensor t : new DeviceTensor[]{prefix, xAdv, batch}) {
            if (t != null) {
                t.close();
            }
        }
        prefix = xAdv = batch = null;
        for (Regularizer r : regularizers) {
            r.close();
        }
    }
}
