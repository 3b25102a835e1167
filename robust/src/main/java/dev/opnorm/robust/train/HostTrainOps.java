package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.RegBatch;
import dev.opnorm.robust.reg.Regularizer;

import java.util.Arrays;

/**
 * {@link TrainOps} on float arrays for one host model: the reference arithmetic (nn's layers, the
 * double-precision {@link SoftmaxCrossEntropy}, the regularizers' host entry points, the optimizer's host
 * update). Nothing is copied for load / store: the host objects are where the steps run.
 */
final class HostTrainOps implements TrainOps<float[], int[], ParamGrads> {
    private final Layer model;
    private final ParamGrads grads = new ParamGrads();
    private final double[] results = new double[4];

    HostTrainOps(Layer model) {
        this.model = model;
    }

    /** The host pass: nn's linearization of the model at x. */
    TrainNetwork.Pass<float[], ParamGrads> linearize(float[] x, Shape shape, BnMode mode) {
        return new HostPass(model.linearize(new Tensor(shape, x), mode));
    }

    private record HostPass(Linearization lin) implements TrainNetwork.Pass<float[], ParamGrads> {
        @Override
        public float[] output() {
            return lin.output().data;
        }

        @Override
        public Shape outputShape() {
            return lin.outShape();
        }

        @Override
        public void vjpParams(float[] gy, ParamGrads g) {
            lin.vjpParams(gy, g);
        }

        @Override
        public void commit() {
            lin.commit();
        }

        @Override
        public void close() {
        }
    }

    @Override
    public float[] allocate(Shape shape) {
        return new float[shape.size()];
    }

    @Override
    public void release(float[] v) {
    }

    @Override
    public void copy(float[] dst, int dstOffset, float[] src, int srcOffset, int len) {
        System.arraycopy(src, srcOffset, dst, dstOffset, len);
    }

    @Override
    public int[] prefix(int[] labels, int k) {
        return Arrays.copyOf(labels, k);
    }

    @Override
    public void attack(Pga pga, float[] x, Shape s, int[] labels, float[] xAdv) {
        float[] adv = pga.attack(model, new Tensor(s, x), labels).adversarial().data;
        System.arraycopy(adv, 0, xAdv, 0, s.size());
    }

    @Override
    public boolean finite(float[] logits, int len) {
        for (int i = 0; i < len; i++) {
            if (!Float.isFinite(logits[i])) {
                return false;
            }
        }
        return true;
    }

    /** The part's mean loss in double ({@link SoftmaxCrossEntropy}); gy rows += (float) weight * its gradient. */
    @Override
    public void crossEntropy(float[] gy, float[] logits, int[] labels, int from, int count, int classes,
            double weight, int part) {
        float[] g = new float[count * classes];
        Tensor rows = new Tensor(new Shape(count, classes, 1, 1),
                Arrays.copyOfRange(logits, from * classes, (from + count) * classes));
        results[2 * part] = SoftmaxCrossEntropy.lossAndGradient(rows, labels, g);
        results[2 * part + 1] = Objective.correct(rows.data, classes, labels, 0, count);
        float w = (float) weight;
        for (int j = 0; j < g.length; j++) {
            gy[from * classes + j] += w * g[j];
        }
    }

    @Override
    public double[] results() {
        double[] r = results.clone();
        Arrays.fill(results, 0);
        return r;
    }

    /** The regularizer's host entry point on a {@link RegBatch} of the step (the TRAIN pass reused when given). */
    @Override
    public Term<float[], int[], ParamGrads> term(Regularizer r) {
        return new Term<>() {
            @Override
            public String name() {
                return r.name();
            }

            @Override
            public double accumulate(float[] x, Shape s, int[] labels, long seed,
                    TrainNetwork.Pass<float[], ParamGrads> train, ParamGrads g) {
                Linearization lin = train == null ? null : ((HostPass) train).lin();
                return r.accumulate(new RegBatch(model, new Tensor(s, x), labels, seed, lin), g);
            }
        };
    }

    @Override
    public float[] input(Tensor x) {
        return x.data;
    }

    /** The labels as they are: the method's step checks them (as {@link TrainingMethod#step} always did). */
    @Override
    public int[] labels(int[] labels, Shape x) {
        return labels;
    }

    @Override
    public ParamGrads gradients() {
        return grads;
    }

    @Override
    public void zero(ParamGrads g) {
        g.zero();
    }

    @Override
    public void update(Optimizer optimizer, ParamGrads g) {
        optimizer.step(g);
    }

    @Override
    public String nonFiniteParameter() {
        for (Param p : model.params()) {
            for (float v : p.value) {
                if (!Float.isFinite(v)) {
                    return "parameter " + p.name() + " became " + v;
                }
            }
        }
        return null;
    }

    @Override
    public void load() {
    }

    @Override
    public void store() {
    }

    @Override
    public int correct(Tensor x, int[] labels, int labelFrom) {
        Tensor logits = model.forward(x);
        return Objective.correct(logits.data, logits.shape.perExample(), labels, labelFrom, x.shape.n());
    }

    /** Any method's own host step ({@link TrainingMethod#step}; an {@link Objective}'s runs on this backend). */
    @Override
    public Step<float[], int[], ParamGrads> step(TrainingMethod method) {
        return (x, s, labels, rng, g) -> method.step(model, new Tensor(s, x), labels, rng, g);
    }

    @Override
    public void close() {
    }
}
