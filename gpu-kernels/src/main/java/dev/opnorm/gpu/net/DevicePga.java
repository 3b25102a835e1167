package dev.opnorm.gpu.net;

import dev.opnorm.gpu.AttackOps;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.robust.attack.AdversarialLoss;
import dev.opnorm.robust.attack.Attack;
import dev.opnorm.robust.attack.AttackResult;
import dev.opnorm.robust.attack.Pga;

/**
 * The l_p projected gradient ascent of {@link Pga} (p in {1, 2, inf}) run on the OpenCL device: the
 * iterates, gradients, losses and the kept worst case per example never leave the device. The attack's
 * settings are a host {@link Pga} (eps, iterations, step, restarts, seed, random / given / clean start,
 * cross-entropy or l_q logit loss, domain); the semantics are Pga's:
 *
 * <pre>
 *   x_0 = clamp(x + delta_r)        delta_r from Pga.startOffsets: the SAME host RNG and BallSampling
 *   x_k = clamp(Proj_eps(x_{k-1} - x + alpha N_p(g)) + x),  g = grad_x l_adv(f(x_{k-1}))   (alpha = inf: clamp(x + eps N_p(g)))
 * </pre>
 *
 * BatchNorm in EVAL mode, untargeted (ascend) or targeted (descend), l1 with Pga's saturated-coordinate
 * mask, restarts keeping per example a success before a failure, then the higher (targeted: lower) loss.
 * One iteration = one device forward ({@link DeviceModel#linearize}), the loss gradient, one VJP and one
 * fused step kernel (direction, step, projection, clamp; attack.cl).
 *
 * <p>Transfers: {@link #run} uploads only each restart's start offsets (none for a clean start) and
 * downloads the per-example statistics once at the end (8 floats per example); an iteration moves
 * nothing. The host entry points ({@link #attack} etc.) add one upload of x and one of the labels, and
 * the {@link Attack} methods download x* and the logits, which {@link AttackResult} holds.
 *
 * <p>Agreement with the host: the gradient is computed by the device network (float sums in other orders,
 * ~1e-6 relative), projections and norms in double with tree-ordered sums; the loss is kept as a float
 * (restart ties are decided on it). p = inf and p = 1 take signs / the argmax of the gradient, so a
 * coordinate whose gradient is within rounding of 0 (or of another coordinate's magnitude, p = 1) may
 * step differently than on the host; otherwise x* agrees with the host attack to ~1e-6 relative.
 * The l1 projection brackets its threshold by bisection and finishes in closed form (see attack.cl):
 * exact to double rounding. Not supported on the device: the iterate listener ({@link Pga#onIterate}).
 */
public final class DevicePga implements Attack {
    /** What the attack's reference labels mean. */
    public enum Target {
        /** Untargeted against the given (true) labels. */
        LABELS,
        /** Targeted: descend the loss of the given target classes. */
        TARGETS,
        /** Untargeted against the model's clean predictions (computed on the device). */
        PREDICTED
    }

    /**
     * Per-example outcome of an attack (from one download).
     *
     * @param cleanPredictions argmax f(x)
     * @param labels           the reference labels (true labels, targets, or the clean predictions)
     * @param predictions      argmax f(x*) at the kept point
     * @param success          untargeted: prediction != label; targeted: prediction == target
     * @param loss             the attack objective at x* (float: computed in double on the device)
     * @param perturbationNorm ||x* - x||_p (computed in double on the device, then float)
     * @param restart          the restart that produced the kept point
     */
    public record Outcome(int[] cleanPredictions, int[] labels, int[] predictions, boolean[] success, float[] loss,
                          float[] perturbationNorm, int[] restart) {
        /** Number of examples. */
        public int size() {
            return success.length;
        }
    }

    private final OpenCl cl;
    private final Pga pga;
    private final AttackOps aops;

    /**
     * The device twin of {@code pga} on {@code cl}.
     *
     * @throws IllegalArgumentException when an argument is null or pga has an iterate listener (the device
     *                                  does not report iterates)
     */
    public DevicePga(OpenCl cl, Pga pga) {
        if (cl == null || pga == null) {
            throw new IllegalArgumentException("DevicePga needs an OpenCL runtime and a Pga configuration");
        }
        if (pga.hasListener()) {
            throw new IllegalArgumentException("the device PGA cannot report iterates: remove the iterate listener");
        }
        this.cl = cl;
        this.pga = pga;
        this.aops = new AttackOps(cl);
    }

    /** The host configuration. */
    public Pga pga() {
        return pga;
    }

    @Override
    public double p() {
        return pga.p();
    }

    @Override
    public double eps() {
        return pga.eps();
    }

    @Override
    public Domain domain() {
        return pga.domain();
    }

    /** The host attack's description (the engine is reported separately, as for every backend). */
    @Override
    public String describe() {
        return pga.describe();
    }

    @Override
    public String toString() {
        return describe() + " on " + cl.device().name;
    }

    /**
     * The attack on device-resident data: x (n, c, h, w) inside the domain, ref (n) the reference classes
     * in [0, classes) (ignored and OVERWRITTEN with the clean predictions for {@link Target#PREDICTED}).
     * Writes x* into {@code xAdv} and f(x*) into {@code logits} when they are not null (both overwritten;
     * shapes of x and of the network's output or longer). x is not modified; the inputs are NOT checked for
     * NaN or the domain (that needs their host copy: the host entry points check it).
     *
     * @param firstExample index of x's first example in the data set (fixes each example's random starts)
     * @throws IllegalArgumentException for a model in another runtime, short buffers, firstExample &lt; 0, or
     *                                  a targeted attack with the logit loss
     */
    public Outcome run(DeviceModel model, DeviceTensor x, DeviceInts ref, Target target, int firstExample,
                       DeviceTensor xAdv, DeviceTensor logits) {
        if (model == null || x == null || ref == null || target == null) {
            throw new IllegalArgumentException("run needs a model, an input, a label buffer and a target kind");
        }
        if (model.runtime() != cl) {
            throw new IllegalArgumentException("the device model lives on another OpenCL runtime");
        }
        if (firstExample < 0) {
            throw new IllegalArgumentException("firstExample = " + firstExample + " must be >= 0");
        }
        boolean targeted = target == Target.TARGETS;
        if (targeted && pga.loss().isLogitLoss()) {
            throw new IllegalArgumentException("targeted attack needs the cross-entropy loss, not the " + pga.loss()
                    + " (it has no target class)");
        }
        Shape s = x.shape();
        Shape outShape = model.outputShape(s);
        int n = s.n(), per = s.perExample(), classes = outShape.perExample();
        if (ref.length() < n) {
            throw new IllegalArgumentException("label buffer " + ref + " is shorter than the batch of " + n);
        }
        if (xAdv != null && (xAdv.length() < s.size() || xAdv == x)) {
            throw new IllegalArgumentException("xAdv " + xAdv + " must be a tensor other than x with " + s.size()
                    + " elements");
        }
        if (logits != null && logits.length() < outShape.size()) {
            throw new IllegalArgumentException("logits " + logits + " has fewer than " + outShape.size() + " elements");
        }
        int p = AttackOps.normCode(pga.p()), lossCode = lossCode(pga.loss());
        boolean infinite = pga.alpha() == Double.POSITIVE_INFINITY;
        double step = infinite ? 1 : pga.alpha();
        float lo = pga.domain().low(), hi = pga.domain().high();

        DevicePool pool = model.pool();
        DeviceTensor stats = pool.tensor(Shape.features(n, AttackOps.STATS)), clean = pool.tensor(outShape),
                gy = pool.tensor(outShape), xk = pool.tensor(s), g = pool.tensor(s),
                best = xAdv != null ? xAdv : pool.tensor(s);
        DeviceTensor off = null;
        try {
            model.ops().fill(stats, 0f, n * AttackOps.STATS);
            try (DeviceLinearization lin = model.linearize(x, BnMode.EVAL)) {
                model.ops().copy(clean, lin.output(), outShape.size());
            }
            aops.initStats(stats, ref, clean, target == Target.PREDICTED, n, classes);
            for (int r = 0; r < pga.restarts(); r++) {
                float[] start = pga.startOffsets(r, n, per, firstExample);
                if (start != null) {
                    if (off == null) {
                        off = pool.tensor(s);
                    }
                    off.upload(start); // the restart's only transfer
                }
                aops.start(xk, x, start == null ? null : off, lo, hi, s.size());
                for (int k = 1; k <= pga.iterations(); k++) {
                    try (DeviceLinearization lin = model.linearize(xk, BnMode.EVAL)) {
                        aops.lossGrad(gy, lin.output(), clean, ref, lossCode, targeted, n, classes);
                        lin.vjp(gy, g);
                    }
                    aops.pgaStep(xk, g, x, p, step, pga.eps(), infinite, lo, hi, n, per);
                }
                try (DeviceLinearization lin = model.linearize(xk, BnMode.EVAL)) {
                    aops.keepBest(stats, lin.output(), clean, ref, lossCode, targeted, r, n, classes);
                    aops.copyRowsWhereBetter(best, xk, stats, n, per);
                    if (logits != null) {
                        aops.copyRowsWhereBetter(logits, lin.output(), stats, n, classes);
                    }
                }
            }
            aops.norms(stats, best, x, p, n, per);
            float[] st = new float[n * AttackOps.STATS];
            stats.download(st, 0, 0, st.length); // the attack's one download
            return outcome(st, n);
        } finally {
            for (DeviceTensor t : new DeviceTensor[]{stats, clean, gy, xk, g, off}) {
                if (t != null) {
                    pool.give(t);
                }
            }
            if (xAdv == null) {
                pool.give(best);
            }
        }
    }

    /**
     * The attack on a host batch with the device mirror of {@code net} ({@link DeviceNetworks#model}, cached):
     * uploads x and the labels (none for {@link Target#PREDICTED}), returns the per-example outcome; x* stays
     * on the device.
     *
     * @param labels n reference classes (true labels or targets); ignored (may be null) for PREDICTED
     * @throws IllegalArgumentException for NaN inputs or inputs outside the domain, bad labels, or as {@link #run}
     */
    public Outcome run(Layer net, Tensor x, int[] labels, Target target, int firstExample) {
        return runHost(net, x, labels, target, firstExample, null);
    }

    @Override
    public AttackResult attack(Layer model, Tensor x, int[] labels, int firstExample) {
        return result(model, x, labels, Target.LABELS, firstExample);
    }

    @Override
    public AttackResult attackTargeted(Layer model, Tensor x, int[] targets, int firstExample) {
        return result(model, x, targets, Target.TARGETS, firstExample);
    }

    @Override
    public AttackResult attackPredicted(Layer model, Tensor x, int firstExample) {
        return result(model, x, null, Target.PREDICTED, firstExample);
    }

    /** x* and f(x*) downloaded; ||x* - x||_p recomputed on the host from them, as Pga does. */
    private AttackResult result(Layer net, Tensor x, int[] labels, Target target, int firstExample) {
        float[][] adv = new float[2][];
        Outcome o = runHost(net, x, labels, target, firstExample, adv);
        int n = x.shape.n(), per = x.shape.perExample(), classes = adv[1].length / n;
        double[] norms = new double[n], loss = new double[n];
        double[] d = new double[per];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < per; j++) {
                d[j] = (double) adv[0][i * per + j] - x.data[i * per + j];
            }
            norms[i] = Norms.lp(d, pga.p());
            loss[i] = o.loss()[i];
        }
        return new AttackResult(describe(), BnMode.EVAL, target == Target.TARGETS, new Tensor(x.shape, adv[0]),
                classes, adv[1], o.predictions(), o.cleanPredictions(), o.labels(), o.success(), loss, norms,
                o.restart());
    }

    /** Uploads x and labels, runs; with {@code adv} != null downloads x* into adv[0] and f(x*) into adv[1]. */
    private Outcome runHost(Layer net, Tensor x, int[] labels, Target target, int firstExample, float[][] adv) {
        if (net == null || target == null) {
            throw new IllegalArgumentException("the attack needs a model and a target kind");
        }
        checkInput(x, pga.domain());
        DeviceModel model = DeviceNetworks.model(cl, net);
        Shape outShape = model.outputShape(x.shape);
        int n = x.shape.n(), classes = outShape.perExample();
        if (target != Target.PREDICTED) {
            checkLabels(labels, n, classes, target == Target.TARGETS ? "targets" : "labels");
        }
        DevicePool pool = model.pool();
        DeviceTensor dx = pool.tensor(x.shape);
        DeviceInts ref = pool.ints(n);
        DeviceTensor xAdv = adv != null ? pool.tensor(x.shape) : null;
        DeviceTensor logits = adv != null ? pool.tensor(outShape) : null;
        try {
            dx.upload(x.data);
            if (target != Target.PREDICTED) {
                ref.upload(labels, n);
            }
            Outcome o = run(model, dx, ref, target, firstExample, xAdv, logits);
            if (adv != null) {
                adv[0] = xAdv.download();
                adv[1] = logits.download();
            }
            return o;
        } finally {
            pool.give(dx);
            pool.give(ref);
            if (xAdv != null) {
                pool.give(xAdv);
                pool.give(logits);
            }
        }
    }

    private static Outcome outcome(float[] st, int n) {
        int w = AttackOps.STATS;
        int[] clean = new int[n], ref = new int[n], pred = new int[n], restart = new int[n];
        boolean[] success = new boolean[n];
        float[] loss = new float[n], norm = new float[n];
        for (int i = 0; i < n; i++) {
            clean[i] = (int) st[i * w];
            ref[i] = (int) st[i * w + 1];
            pred[i] = (int) st[i * w + 2];
            success[i] = st[i * w + 3] != 0f;
            loss[i] = st[i * w + 4];
            norm[i] = st[i * w + 5];
            restart[i] = (int) st[i * w + 6];
        }
        return new Outcome(clean, ref, pred, success, loss, norm, restart);
    }

    /** The kernel code of an adversarial loss (AttackOps): 0 cross-entropy, 1 / 2 / 3 the l_1 / l_2 / l_inf logit loss. */
    static int lossCode(AdversarialLoss loss) {
        return loss.isLogitLoss() ? AttackOps.normCode(loss.q()) : 0;
    }

    /** As Pga's check: x finite and inside the domain. */
    private static void checkInput(Tensor x, Domain domain) {
        if (x == null) {
            throw new IllegalArgumentException("input x must not be null");
        }
        int per = x.shape.perExample();
        for (int i = 0; i < x.data.length; i++) {
            float v = x.data[i];
            if (!(v >= domain.low() && v <= domain.high())) {
                throw new IllegalArgumentException("input x[" + i + "] = " + v + " (example " + i / per
                        + ") is NaN or outside the input domain " + domain);
            }
        }
    }

    private static void checkLabels(int[] labels, int n, int classes, String what) {
        if (labels == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " " + what + " for a batch of " + n);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(what + "[" + i + "] = " + labels[i] + " outside [0, " + classes + ")");
            }
        }
    }
}
