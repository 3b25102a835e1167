package dev.opnorm.robust.train;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.util.Rng;

/** {@link StepRunner#host}: the method and the optimizer on the host model; load/store have nothing to copy. */
final class HostStepRunner implements StepRunner {
    private final Layer model;
    private final TrainingMethod method;
    private final Optimizer optimizer;
    private final ParamGrads grads = new ParamGrads();

    HostStepRunner(Layer model, TrainingMethod method, Optimizer optimizer) {
        this.model = model;
        this.method = method;
        this.optimizer = optimizer;
    }

    @Override
    public void load() {
    }

    @Override
    public StepResult step(Tensor x, int[] labels, Rng rng, double lr) {
        optimizer.setLearningRate(lr);
        grads.zero();
        StepResult r = method.step(model, x, labels, rng, grads);
        if (r.finite()) {
            optimizer.step(grads);
        }
        return r;
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
    public void store() {
    }

    @Override
    public int correct(Dataset data, int from, int count) {
        Tensor logits = model.forward(data.images().slice(from, count));
        return Objective.correct(logits.data, logits.shape.perExample(), data.labels(), from, count);
    }
}
