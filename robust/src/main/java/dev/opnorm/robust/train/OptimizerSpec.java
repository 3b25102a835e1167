package dev.opnorm.robust.train;

import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.optim.RmsProp;
import dev.opnorm.nn.optim.Sgd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which optimizer a run uses and its settings (PyTorch semantics, from {@code dev.opnorm.nn.optim}).
 *
 * @param kind        "sgd", "adam" or "rmsprop"
 * @param lr          base learning rate (the schedule scales it)
 * @param momentum    SGD / RMSprop momentum
 * @param weightDecay L2 weight decay added to the gradient
 * @param nesterov    SGD Nesterov momentum
 * @param beta1       Adam first-moment decay
 * @param beta2       Adam second-moment decay
 * @param eps         Adam / RMSprop denominator epsilon
 * @param alpha       RMSprop smoothing constant
 */
public record OptimizerSpec(String kind, double lr, double momentum, double weightDecay, boolean nesterov,
                            double beta1, double beta2, double eps, double alpha) {
    public OptimizerSpec {
        if (!List.of("sgd", "adam", "rmsprop").contains(kind)) {
            throw new IllegalArgumentException("optimizer must be sgd, adam or rmsprop, got '" + kind + "'");
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(kind + ": learning rate must be finite and > 0, got " + lr);
        }
    }

    /** SGD with momentum and weight decay (the usual CIFAR recipe: 0.1, 0.9, 5e-4). */
    public static OptimizerSpec sgd(double lr, double momentum, double weightDecay) {
        return new OptimizerSpec("sgd", lr, momentum, weightDecay, false, 0, 0, 0, 0);
    }

    /** Adam with PyTorch's defaults (betas 0.9, 0.999; eps 1e-8) and the given L2 weight decay. */
    public static OptimizerSpec adam(double lr, double weightDecay) {
        return new OptimizerSpec("adam", lr, 0, weightDecay, false, 0.9, 0.999, 1e-8, 0);
    }

    /** RMSprop with PyTorch's defaults (alpha 0.99, eps 1e-8), as the reference code (lr 1e-4). */
    public static OptimizerSpec rmsprop(double lr, double momentum, double weightDecay) {
        return new OptimizerSpec("rmsprop", lr, momentum, weightDecay, false, 0, 0, 1e-8, 0.99);
    }

    /**
     * The optimizer over {@code params}.
     *
     * @throws IllegalArgumentException for settings the optimizer rejects (its message names them)
     */
    public Optimizer create(List<Param> params) {
        switch (kind) {
            case "sgd":
                return new Sgd(params, Sgd.Config.of(lr).withMomentum(momentum).withWeightDecay(weightDecay)
                        .withNesterov(nesterov));
            case "adam":
                return new Adam(params, Adam.Config.adam(lr).withBetas(beta1, beta2).withEps(eps)
                        .withWeightDecay(weightDecay));
            default:
                return new RmsProp(params, RmsProp.Config.of(lr).withAlpha(alpha).withEps(eps)
                        .withWeightDecay(weightDecay).withMomentum(momentum));
        }
    }

    /** The settings that apply to this kind, for the run's configuration record. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("lr", lr);
        m.put("weight_decay", weightDecay);
        switch (kind) {
            case "sgd":
                m.put("momentum", momentum);
                m.put("nesterov", nesterov);
                break;
            case "adam":
                m.put("beta1", beta1);
                m.put("beta2", beta2);
                m.put("eps", eps);
                break;
            default:
                m.put("momentum", momentum);
                m.put("alpha", alpha);
                m.put("eps", eps);
        }
        return m;
    }
}
