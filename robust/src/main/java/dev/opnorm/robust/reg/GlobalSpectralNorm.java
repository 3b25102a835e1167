package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.LinearWeight;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.WeightOperator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 */
public final class GlobalSpectralNorm implements Regularizer {
    /** Which operator of a conv layer is normalized. */
    public enum Operator {
        /** The kernel reshaped to out x (in*kh*kw) (Yoshida and Miyato). */
        RESHAPED_KERNEL,
        /** The convolution as a linear map on the layer's input shape. */
        CONVOLUTION
    }

    private final Operator operator;
    private final double lambda;
    private final int stepsPerUpdate;
    private final List<LayerOp> ops;
    private final List<Param> state;

    private GlobalSpectralNorm(Operator operator, List<LayerOp> ops, double lambda, int stepsPerUpdate) {
        Checks.lambda(name(operator), lambda);
        Checks.atLeastOne(name(operator), "power steps per update", stepsPerUpdate);
        if (ops.isEmpty()) {
            throw new IllegalArgumentException(name(operator) + ": the model has no Conv2d or Linear layer "
                    + "(no layer of its chain reports a linear weight)");
        }
        this.operator = operator;
        this.lambda = lambda;
        this.stepsPerUpdate = stepsPerUpdate;
        this.ops = List.copyOf(ops);
        List<Param> s = new ArrayList<>();
        for (LayerOp op : ops) {
            String base = "reg." + name(operator) + "." + op.layer.qualifiedName() + ".";
            s.add(new Param(base + "u", op.u, op.u.length));
            s.add(new Param(base + "v", op.v, op.v.length));
        }
        this.state = List.copyOf(s);
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
        List<LayerOp> ops = new ArrayList<>();
        for (Layer l : ModelWalk.leaves(model)) {
            for (LinearWeight w : l.linearWeights()) {
                ops.add(new MatrixOp(w));
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
        List<LayerOp> ops = new ArrayList<>();
        for (ModelWalk.LeafShape ls : ModelWalk.leavesWithShapes(model, input)) {
            for (LinearWeight w : ls.layer().linearWeights()) {
                ops.add(w.actsAsMatrix() ? new MatrixOp(w) : new OperatorOp(w, w.operatorOn(ls.in())));
            }
        }
        return new GlobalSpectralNorm(Operator.CONVOLUTION, ops, lambda, stepsPerUpdate);
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
        return ops.get(i).weight;
    }

    /**
     * The single-example conv geometry of layer i when it is normalized as a convolution ({@link #convolution}
     * form, a Conv2d layer), else null: then the operator is the weight read as a row-major
     * {@code u(i).length x v(i).length} matrix.
     */
    public Conv2dDims convDims(int i) {
        return ops.get(i) instanceof OperatorOp o ? o.operator.convDims() : null;
    }

    /** Number of regularized layers. */
    public int layers() {
        return ops.size();
    }

    /** Qualified name of regularized layer i. */
    public String layerName(int i) {
        return ops.get(i).layer.qualifiedName();
    }

    /** The live left vector of layer i (length = the operator's output dimension); writable. */
    public float[] u(int i) {
        return ops.get(i).u;
    }

    /** The live right vector of layer i (length = the operator's input dimension); writable. */
    public float[] v(int i) {
        return ops.get(i).v;
    }

    /** The current estimate u_i^T A_i v_i of layer i's largest singular value, from the current weights. */
    public double sigma(int i) {
        return ops.get(i).bilinear();
    }

    /** True once every layer's v has been drawn (or loaded). */
    public boolean initialized() {
        for (LayerOp op : ops) {
            if (Norms.lp(op.v, 2) == 0) {
                return false;
            }
        }
        return true;
    }

    /** Draws every v from {@code seed} (layer i uses exampleSeed(seed, i)) and normalizes it; u is reset to 0. */
    public void initialize(long seed) {
        for (int i = 0; i < ops.size(); i++) {
            LayerOp op = ops.get(i);
            StartVectors.gaussian(StartVectors.exampleSeed(seed, i), op.v, 0, op.v.length);
            normalize(op.v, Norms.lp(op.v, 2));
            java.util.Arrays.fill(op.u, 0f);
        }
    }

    /** One power step on every layer: u = A v/||A v||, v = A^T u/||A^T u|| (a zero result leaves the vector). */
    public void powerStep() {
        for (LayerOp op : ops) {
            op.apply(op.v, op.u);
            normalize(op.u, Norms.lp(op.u, 2));
            op.applyTranspose(op.u, op.scratchIn);
            double n = Norms.lp(op.scratchIn, 2);
            if (n > 0) {
                for (int j = 0; j < op.v.length; j++) {
                    op.v[j] = (float) (op.scratchIn[j] / n);
                }
            }
        }
    }

    /**
     * The penalty with the CURRENT vectors held fixed (no power step): with s_l = u_l^T A_l v_l,
     * returns (lambda/2) sum_l s_l^2 and accumulates grads[W_l] += lambda s_l d(u_l^T A_l v_l)/dW_l.
     */
    public double penalty(ParamGrads grads) {
        double value = 0;
        for (LayerOp op : ops) {
            double s = op.bilinear();
            value += 0.5 * lambda * s * s;
            op.accumulateWeightGradient(grads.of(op.weight), (float) (lambda * s));
        }
        return value;
    }

    /**
     * Initializes the vectors from the batch seed on first use, makes the configured power steps, then
     * returns {@link #penalty}. Ignores the batch's data (a global regularizer).
     */
    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        if (!initialized()) {
            initialize(batch.seed());
        }
        for (int k = 0; k < stepsPerUpdate; k++) {
            powerStep();
        }
        return penalty(grads);
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

    private static void normalize(float[] x, double norm) {
        if (norm > 0) {
            for (int j = 0; j < x.length; j++) {
                x[j] = (float) (x[j] / norm);
            }
        }
    }

    /** One layer's operator A(W) with its persistent vectors. */
    private abstract static class LayerOp {
        final Layer layer;
        final Param weight;
        final float[] u;         // (outDim) left vector
        final float[] v;         // (inDim) right vector
        final float[] scratchIn; // (inDim)
        final float[] scratchOut; // (outDim)

        LayerOp(Layer layer, Param weight, int outDim, int inDim) {
            this.layer = layer;
            this.weight = weight;
            this.u = new float[outDim];
            this.v = new float[inDim];
            this.scratchIn = new float[inDim];
            this.scratchOut = new float[outDim];
        }

        /** out = A v, overwritten. */
        abstract void apply(float[] in, float[] out);

        /** out = A^T u, overwritten. */
        abstract void applyTranspose(float[] in, float[] out);

        /** gW += scale * d(u^T A(W) v)/dW. */
        abstract void accumulateWeightGradient(float[] gW, float scale);

        /** u^T A v, from the current weights, in double. */
        double bilinear() {
            apply(v, scratchOut);
            return Norms.dot(u, scratchOut);
        }
    }

    /** A weight array read as a row-major out x in matrix. */
    private static final class MatrixOp extends LayerOp {
        private final int rows;
        private final int cols;

        MatrixOp(LinearWeight w) {
            super(w.layer(), w.weight(), w.rows(), w.cols());
            this.rows = w.rows();
            this.cols = w.cols();
        }

        @Override
        void apply(float[] in, float[] out) {
            float[] w = weight.value;
            for (int r = 0; r < rows; r++) {
                double s = 0;
                int off = r * cols;
                for (int c = 0; c < cols; c++) {
                    s += (double) w[off + c] * in[c];
                }
                out[r] = (float) s;
            }
        }

        @Override
        void applyTranspose(float[] in, float[] out) {
            float[] w = weight.value;
            double[] acc = new double[cols];
            for (int r = 0; r < rows; r++) {
                double ur = in[r];
                int off = r * cols;
                for (int c = 0; c < cols; c++) {
                    acc[c] += ur * w[off + c];
                }
            }
            for (int c = 0; c < cols; c++) {
                out[c] = (float) acc[c];
            }
        }

        @Override
        void accumulateWeightGradient(float[] gW, float scale) {
            for (int r = 0; r < rows; r++) {
                float su = scale * u[r];
                int off = r * cols;
                for (int c = 0; c < cols; c++) {
                    gW[off + c] += su * v[c];
                }
            }
        }
    }

    /** The operator a layer applies through its weight on one example of its input shape (a conv, bias excluded). */
    private static final class OperatorOp extends LayerOp {
        private final WeightOperator operator;
        private final float[] scaledU;

        OperatorOp(LinearWeight w, WeightOperator operator) {
            super(w.layer(), w.weight(), operator.outShape().perExample(), operator.inShape().perExample());
            this.operator = operator;
            this.scaledU = new float[u.length];
        }

        @Override
        void apply(float[] in, float[] out) {
            operator.apply(in, out);
        }

        @Override
        void applyTranspose(float[] in, float[] out) {
            operator.applyTranspose(in, out);
        }

        @Override
        void accumulateWeightGradient(float[] gW, float scale) {
            // u^T A(W) v is linear in W: its gradient is the operator's weight gradient with u scaled
            for (int j = 0; j < u.length; j++) {
                scaledU[j] = scale * u[j];
            }
            operator.accumulateWeightGradient(gW, scaledU, v);
        }
    }
}
