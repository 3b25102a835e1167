package dev.opnorm.robust.train;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;

/**
 * {@link StepRunner#of}: the runner written once over a {@link TrainEngine}. A step stages the batch, zeroes
 * the gradients, runs the method's step ({@link TrainOps#step}) and, for a finite loss only, the optimizer's
 * update on the engine. {@link #store()} copies the parameters (and the method's mirrored state) back only
 * when an update ran since the last store; {@link #close()} closes the method's step, then the engine's
 * operations.
 */
final class EngineStepRunner<V, L, G> implements StepRunner {
    private final TrainOps<V, L, G> ops;
    private final TrainOps.Step<V, L, G> method;
    private final Optimizer optimizer;
    private boolean dirty;

    EngineStepRunner(TrainEngine<V, L, G> engine, TrainingMethod method, Optimizer optimizer) {
        if (engine == null || method == null || optimizer == null) {
            throw new IllegalArgumentException("a step runner needs an engine, a method and an optimizer");
        }
        this.ops = engine.ops();
        this.method = ops.step(method);
        this.optimizer = optimizer;
    }

    @Override
    public void load() {
        ops.load();
        method.uploadState();
        dirty = false;
    }

    @Override
    public StepResult step(Tensor x, int[] labels, Rng rng, double lr) {
        optimizer.setLearningRate(lr);
        L y = ops.labels(labels, x.shape);
        V xv = ops.input(x);
        G grads = ops.gradients();
        ops.zero(grads);
        StepResult r = method.step(xv, x.shape, y, rng, grads);
        if (r.finite()) {
            ops.update(optimizer, grads);
            dirty = true;
        }
        return r;
    }

    @Override
    public String nonFiniteParameter() {
        return ops.nonFiniteParameter();
    }

    @Override
    public void store() {
        if (dirty) {
            ops.store();
            method.downloadState();
            dirty = false;
        }
    }

    @Override
    public int correct(Dataset data, int from, int count) {
        return ops.correct(data.images().slice(from, count), data.labels(), from);
    }

    @Override
    public void close() {
        try {
            method.close();
        } finally {
            ops.close();
        }
    }
}
