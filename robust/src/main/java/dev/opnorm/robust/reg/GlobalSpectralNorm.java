package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.LinearWeight;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.WeightOperator;
import dev.opnorm.robust.reg.GlobalSnrOps.Operand;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Global (data-independent) spectral norm regularization (Yoshida and Miyato 2017): per weight layer l
 * (every {@link LinearWeight} a link of the model's {@link Layer#chain()} reports: conv kernels and linear
 * matrices; residual blocks report none) a persistent pair of vectors u_l, v_l, refined by power
 * steps on the layer's operator A_l once per update,
 * <pre>
 *   u = A v / ||A v||_2,   v = A^T u / ||A^T u||_2,   sigma_l = u^T A_l v
 *   penalty = (lambda / 2) sum_l sigma_l^2,   d penalty / d W_l = lambda sigma_l d(u^T A_l(W_l) v)/d W_l
 * </pre>
 * with u, v held constant in the gradient (they are the top singular pair, so this is the gradient of
 * sigma_l by the envelope theorem once the iteration has converged). Two choices of A_l:
 * <ul>
 *   <li>{@link #reshaped}: the paper's (and Yoshida and Miyato's) global SNR. A conv kernel (out, in, kh,
 *       kw) is reshaped to an out x (in*kh*kw) matrix and its largest singular value is used. This is an
 *       APPROXIMATION of the conv's operator norm: the true norm can be up to sqrt(kh*kw) times larger
 *       (stride 1) or smaller (padding, small inputs). The gradient is lambda sigma u v^T.</li>
 *   <li>{@link #convolution}: the true operator norm of each conv as a linear map on the input shape it
 *       sees in the model (power steps through the conv and its transpose, bias excluded); linear layers
 *       use their weight matrix. The product over layers of these norms bounds the Lipschitz constant of
 *       the network (ReLU, max pooling and EVAL BatchNorm without affine are 1-Lipschitz), a better global
 *       bound than the reshaped one. The gradient is lambda sigma (u (x) v) via the conv's weight-gradient
 *       kernel.</li>
 * </ul>
 * The vectors start as zero (uninitialized); the first {@link #accumulate} draws v_l from the batch seed.
 * They are part of {@link #state()} so a resumed run continues the same iteration.
 *
 * <p>The update is written once, in {@link Engine}, on the operations of a backend ({@link GlobalSnrOps}):
 * this regularizer runs it on the host's kernels ({@link KernelGlobalSnrOps}, where u and v are the state
 * arrays themselves); {@link #engine} runs it on another backend's buffers, with this regularizer's
 * configuration and its u, v arrays as the host copies of the state.
 */
public final class GlobalSpectralNorm implements Regularizer {
    /** Which operator of a conv layer is normalized. */
    public enum Operator {
        /** The kernel reshaped to out x (in*kh*kw) (Yoshida and Miyato). */
        RESHAPED_KERNEL,
        /** The convolution as a linear map on the layer's input shape. */
        CONVOLUTION
    }

    private static final Function<Param, float[]> HOST_VALUES = p -> p.value;
    /** The host's matrix and vector loops (the same in every host Kernels; operator layers use their own). */
    private static final Kernels HOST_KERNELS = new ScalarKernels();

    private final Operator operator;
    private final double lambda;
    private final int stepsPerUpdate;
    private final List<Operand> operands;
    private final float[][] u;
    private final float[][] v;
    private final List<Param> state;
    private final KernelGlobalSnrOps<float[], int[]> hostOps = new KernelGlobalSnrOps<>(HOST_KERNELS);
    private final Engine<float[], float[]> host;

    private GlobalSpectralNorm(Operator operator, List<Operand> operands, double lambda, int stepsPerUpdate) {
        Checks.lambda(name(operator), lambda);
        Checks.atLeastOne(name(operator), "power steps per update", stepsPerUpdate);
        if (operands.isEmpty()) {
            throw new IllegalArgumentException(name(operator) + ": the model has no Conv2d or Linear layer "
                    + "(no layer of its chain reports a linear weight)");
        }
        this.operator = operator;
        this.lambda = lambda;
        this.stepsPerUpdate = stepsPerUpdate;
        this.operands = List.copyOf(operands);
        int n = operands.size();
        this.u = new float[n][];
        this.v = new float[n][];
        List<Param> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Operand op = operands.get(i);
            u[i] = new float[op.rows()];
            v[i] = new float[op.cols()];
            String base = "reg." + name(operator) + "." + op.layer() + ".";
            s.add(new Param(base + "u", u[i], u[i].length));
            s.add(new Param(base + "v", v[i], v[i].length));
        }
        this.state = List.copyOf(s);
        this.host = engine(hostOps);
    }

    /**
     * Yoshida and Miyato's global SNR with reshaped conv kernels, one power step per update.
     *
     * @throws IllegalArgumentException for a negative lambda or a model without Conv2d/Linear layers
     */
    public static GlobalSpectralNorm reshaped(Layer model, double lambda) {
        return reshaped(model, lambda, 1);
    }

    /** As {@link #reshaped(Layer, double)} with {@code stepsPerUpdate} power steps per update. */
    public static GlobalSpectralNorm reshaped(Layer model, double lambda, int stepsPerUpdate) {
        List<Operand> ops = new ArrayList<>();
        for (Layer l : ModelWalk.leaves(model)) {
            for (LinearWeight w : l.linearWeights()) {
                ops.add(matrix(w));
            }
        }
        return new GlobalSpectralNorm(Operator.RESHAPED_KERNEL, ops, lambda, stepsPerUpdate);
    }

    /**
     * The true operator norm of every conv on the input shape it sees when the model gets inputs of
     * {@code input}'s per-example shape (the batch size is ignored); linear layers as matrices.
     *
     * @throws IllegalArgumentException for a negative lambda, steps &lt; 1, an input shape that does not fit,
     *                                  or a model without Conv2d/Linear layers
     */
    public static GlobalSpectralNorm convolution(Layer model, Shape input, double lambda, int stepsPerUpdate) {
        List<Operand> ops = new ArrayList<>();
        for (ModelWalk.LeafShape ls : ModelWalk.leavesWithShapes(model, input)) {
            for (LinearWeight w : ls.layer().linearWeights()) {
                if (w.actsAsMatrix()) {
                    ops.add(matrix(w));
                } else {
                    WeightOperator a = w.operatorOn(ls.in());
                    ops.add(new Operand(w.layer().qualifiedName(), w.weight(), a.outShape().perExample(),
                            a.inShape().perExample(), a));
                }
            }
        }
        return new GlobalSpectralNorm(Operator.CONVOLUTION, ops, lambda, stepsPerUpdate);
    }

    private static Operand matrix(LinearWeight w) {
        return new Operand(w.layer().qualifiedName(), w.weight(), w.rows(), w.cols(), null);
    }

    private static String name(Operator op) {
        return op == Operator.RESHAPED_KERNEL ? "global-snr" : "global-conv-snr";
    }

    @Override
    public String name() {
        return name(operator);
    }

    public Operator operator() {
        return operator;
    }

    public double lambda() {
        return lambda;
    }

    /** Power steps made per {@link #accumulate} (per update). */
    public int stepsPerUpdate() {
        return stepsPerUpdate;
    }

    /** The weight of regularized layer i (a conv's (out, in, kh, kw) kernel or a linear (out, in) matrix). */
    public Param weight(int i) {
        return operands.get(i).weight();
    }

    /**
     * The single-example conv geometry of layer i when it is normalized as a convolution ({@link #convolution}
     * form, a Conv2d layer), else null: then the operator is the weight read as a row-major
     * {@code u(i).length x v(i).length} matrix.
     */
    public Conv2dDims convDims(int i) {
        Operand op = operands.get(i);
        return op.operator() == null ? null : op.operator().convDims();
    }

    /** Regularized layer i's operator, as the backends see it. */
    public Operand operand(int i) {
        return operands.get(i);
    }

    /** Number of regularized layers. */
    public int layers() {
        return operands.size();
    }

    /** Qualified name of regularized layer i. */
    public String layerName(int i) {
        return operands.get(i).layer();
    }

    /** The live left vector of layer i (length = the operator's output dimension); writable. */
    public float[] u(int i) {
        return u[i];
    }

    /** The live right vector of layer i (length = the operator's input dimension); writable. */
    public float[] v(int i) {
        return v[i];
    }

    /** The current estimate u_i^T A_i v_i of layer i's largest singular value, from the current weights. */
    public double sigma(int i) {
        Operand op = operands.get(i);
        float[] av = new float[op.rows()], s = new float[1];
        hostOps.apply(op, op.weight().value, v[i], av);
        hostOps.dot(s, 0, u[i], av);
        return s[0];
    }

    /** True once every layer's v has been drawn (or loaded). */
    public boolean initialized() {
        for (float[] x : v) {
            if (Norms.lp(x, 2) == 0) {
                return false;
            }
        }
        return true;
    }

    /** Draws every v from {@code seed} (layer i uses exampleSeed(seed, i)) and normalizes it; u is reset to 0. */
    public void initialize(long seed) {
        for (int i = 0; i < v.length; i++) {
            StartVectors.gaussian(StartVectors.exampleSeed(seed, i), v[i], 0, v[i].length);
            hostOps.normalize(v[i], v[i]);
            Arrays.fill(u[i], 0f);
        }
    }

    /** One power step on every layer: u = A v/||A v||, v = A^T u/||A^T u|| (a zero result leaves the vector). */
    public void powerStep() {
        host.powerStep(HOST_VALUES);
    }

    /**
     * The penalty with the CURRENT vectors held fixed (no power step): with s_l = u_l^T A_l v_l,
     * returns (lambda/2) sum_l s_l^2 and accumulates grads[W_l] += lambda s_l d(u_l^T A_l v_l)/dW_l.
     */
    public double penalty(ParamGrads grads) {
        return host.penalty(HOST_VALUES, grads::of);
    }

    /**
     * Initializes the vectors from the batch seed on first use, makes the configured power steps, then
     * returns {@link #penalty}. Ignores the batch's data (a global regularizer).
     */
    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        // the state arrays are the host engine's vectors and may have been loaded since the last update
        host.uploadState();
        return host.accumulate(batch.seed(), HOST_VALUES, grads::of);
    }

    @Override
    public List<Param> state() {
        return state;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name());
        m.put("lambda", lambda);
        m.put("power_steps_per_update", (long) stepsPerUpdate);
        return m;
    }

    /**
     * This regularizer's update on {@code ops}' buffers; the engine owns (closes) ops. Its u, v are
     * buffers of the backend whose host copies are {@link #u(int)} / {@link #v(int)} (the checkpointed
     * {@link #state()}).
     */
    public <V, S> Engine<V, S> engine(GlobalSnrOps<V, S> ops) {
        if (ops == null) {
            throw new IllegalArgumentException(name() + ": an engine needs the backend's operations");
        }
        return new Engine<>(ops);
    }

    /**
     * The update of this regularizer on one backend, written once: per layer l, {@code stepsPerUpdate}
     * times u = A v / ||A v||_2, v = A^T u / ||A^T u||_2 (a zero norm leaves the vector), then
     * sigma_l = u^T A_l v, penalty (lambda / 2) sum_l sigma_l^2 and grads[W_l] += lambda sigma_l
     * d(u^T A_l(W_l) v)/dW_l.
     *
     * <p>State: u and v live in the backend's buffers; the regularizer's arrays are their host copies.
     * {@link #uploadState()} marks the host copies as the truth (after a resume or a host-side change), so
     * the next update uploads them, first drawing the start vectors from its seed if the host copies are
     * not initialized; {@link #downloadState()} copies the backend's vectors to the host (before a
     * checkpoint). Transfers per update: the one {@link GlobalSnrOps#read} of the sigmas, plus the state
     * uploads after a {@link #uploadState()} (and on the first update). Not thread safe.
     */
    public final class Engine<V, S> implements AutoCloseable {
        private final GlobalSnrOps<V, S> ops;
        private final List<V> bu = new ArrayList<>(), bv = new ArrayList<>(), in = new ArrayList<>(),
                out = new ArrayList<>();
        private S sigma;
        private boolean synced;
        private boolean closed;

        private Engine(GlobalSnrOps<V, S> ops) {
            this.ops = ops;
        }

        /** The regularizer this engine runs. */
        public GlobalSpectralNorm regularizer() {
            return GlobalSpectralNorm.this;
        }

        /**
         * One update: the configured power steps, then the penalty (returned) and its gradient accumulated
         * into {@code grads.apply(W_l)}; {@code weights.apply(W_l)} is the backend's current value of W_l.
         */
        public double accumulate(long seed, Function<Param, V> weights, Function<Param, V> grads) {
            sync(seed);
            for (int k = 0; k < stepsPerUpdate; k++) {
                powerStep(weights);
            }
            return penalty(weights, grads);
        }

        private void sync(long seed) {
            if (closed) {
                throw new IllegalStateException(name() + ": the engine is closed");
            }
            if (synced) {
                return;
            }
            if (!initialized()) {
                initialize(seed);
            }
            buffers();
            for (int i = 0; i < u.length; i++) {
                ops.upload(u[i], bu.get(i));
                ops.upload(v[i], bv.get(i));
            }
            synced = true;
        }

        private void buffers() {
            if (closed) {
                throw new IllegalStateException(name() + ": the engine is closed");
            }
            if (bu.isEmpty()) {
                for (int i = 0; i < u.length; i++) {
                    bu.add(ops.state(u[i]));
                    bv.add(ops.state(v[i]));
                    in.add(ops.allocate(v[i].length));
                    out.add(ops.allocate(u[i].length));
                }
                sigma = ops.scalars(u.length);
            }
        }

        /** One power step on every layer (the host's {@link GlobalSpectralNorm#powerStep()}: no start draw). */
        private void powerStep(Function<Param, V> weights) {
            buffers();
            for (int i = 0; i < operands.size(); i++) {
                Operand a = operands.get(i);
                V w = weights.apply(a.weight());
                ops.apply(a, w, bv.get(i), bu.get(i));
                ops.normalize(bu.get(i), bu.get(i));
                ops.applyTranspose(a, w, bu.get(i), in.get(i));
                ops.normalize(bv.get(i), in.get(i));
            }
        }

        private double penalty(Function<Param, V> weights, Function<Param, V> grads) {
            buffers();
            int n = operands.size();
            for (int i = 0; i < n; i++) {
                Operand a = operands.get(i);
                ops.apply(a, weights.apply(a.weight()), bv.get(i), out.get(i));
                ops.dot(sigma, i, bu.get(i), out.get(i));
            }
            double[] s = ops.read(sigma, n);
            double value = 0;
            for (int i = 0; i < n; i++) {
                Operand a = operands.get(i);
                value += 0.5 * lambda * s[i] * s[i];
                ops.addWeightGradient(a, grads.apply(a.weight()), (float) (lambda * s[i]), bu.get(i), bv.get(i));
            }
            return value;
        }

        /** The host copies are the state: the next update uploads them. */
        public void uploadState() {
            synced = false;
        }

        /**
         * Copies the backend's u, v into the host copies (the checkpointed state); nothing before the first
         * update or after {@link #uploadState()}, when the host copies already are the state.
         */
        public void downloadState() {
            if (!synced) {
                return;
            }
            for (int i = 0; i < u.length; i++) {
                ops.download(bu.get(i), u[i]);
                ops.download(bv.get(i), v[i]);
            }
        }

        /** Frees the backend's buffers and the operations' scratch; the host copies stay. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            synced = false;
            for (List<V> l : List.of(bu, bv, in, out)) {
                l.forEach(ops::release);
                l.clear();
            }
            ops.releaseScalars(sigma);
            sigma = null;
            ops.close();
        }
    }
}
