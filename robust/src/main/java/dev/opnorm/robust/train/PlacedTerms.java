package dev.opnorm.robust.train;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.linalg.BatchOps;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.reg.KernelGlobalSnrOps;
import dev.opnorm.robust.reg.RegEngine;
import dev.opnorm.robust.reg.Regularizer;

/**
 * The regularizers of a training step on a placed model ({@link PlacedModel}, any backend's kernels), as
 * the step's {@link TrainOps.Term}s: robust's own update code on the model's buffers.
 */
public final class PlacedTerms {
    private PlacedTerms() {
    }

    /**
     * {@code host}'s update ({@link GlobalSpectralNorm.Engine}) on {@link KernelGlobalSnrOps} of the model's
     * kernels, on the model's weights and gradients: u and v stay in the backend's buffers, per update the
     * sigmas come back in one download; host's u, v arrays (its checkpointed state) are synchronised only by
     * {@code downloadState} (before a checkpoint) and {@code uploadState} (after a resume: the next update
     * uploads them).
     *
     * @throws IllegalArgumentException when host or model is null, or for a layer the kernels cannot run
     */
    public static <F, I> TrainOps.Term<F, I, Grads<F>> globalSpectralNorm(GlobalSpectralNorm host,
                                                                            PlacedModel<F, I> model) {
        if (host == null || model == null) {
            throw new IllegalArgumentException("the placed global spectral norm needs the host GlobalSpectralNorm "
                    + "and a placed model");
        }
        for (int i = 0; i < host.layers(); i++) {
            KernelGlobalSnrOps.check(model.ops(), host.operand(i)); // refuse a layer the kernels cannot run before training
        }
        return new TrainOps.Term<>() {
            private GlobalSpectralNorm.Engine<F, F> engine;

            @Override
            public String name() {
                return host.name();
            }

            @Override
            public double accumulate(F x, Shape s, I labels, long seed, TrainNetwork.Pass<F, Grads<F>> train,
                                     Grads<F> grads) {
                if (engine == null) {
                    engine = host.engine(new KernelGlobalSnrOps<>(model.ops()));
                }
                return engine.accumulate(seed, model::value, grads::of);
            }

            @Override
            public boolean mirrorsState() {
                return true;
            }

            @Override
            public void uploadState() {
                if (engine != null) {
                    engine.uploadState();
                }
            }

            @Override
            public void downloadState() {
                if (engine != null) {
                    engine.downloadState();
                }
            }

            @Override
            public void close() {
                if (engine != null) {
                    engine.close();
                    engine = null;
                }
            }
        };
    }

    /**
     * {@code r}, a data-dependent regularizer, as a regularizer of a training step on {@code model}: robust's
     * own {@code accumulate} on {@link RegEngine#placed} (a {@code DdOperatorNorm} reuses the step's TRAIN
     * linearization for f(x) when it is at x; an {@code InputGradient} takes the step's labels).
     *
     * @throws IllegalArgumentException for a null argument or a regularizer that does not run on a
     *                                  {@link RegEngine} (the message names it)
     */
    public static <F, I> TrainOps.Term<F, I, Grads<F>> dataDependent(Regularizer r, PlacedModel<F, I> model,
                                                                       BatchOps<F, F> batchOps) {
        if (r == null || model == null || batchOps == null) {
            throw new IllegalArgumentException("a placed regularizer needs a regularizer, a placed model and its "
                    + "batch operations");
        }
        if (!(r instanceof DdOperatorNorm || r instanceof DdSpectralNorm || r instanceof InputGradient)) {
            throw new IllegalArgumentException("regularizer " + r.name() + " (" + r.getClass().getSimpleName()
                    + ") has no implementation on " + model.ops().name());
        }
        return new TrainOps.Term<>() {
            @Override
            public String name() {
                return r.name();
            }

            @Override
            public double accumulate(F x, Shape s, I labels, long seed, TrainNetwork.Pass<F, Grads<F>> train,
                                     Grads<F> grads) {
                var e = RegEngine.placed(model, batchOps);
                if (r instanceof DdOperatorNorm dd) {
                    return dd.accumulate(e, x, s, seed, RegEngine.train(PlacedPass.of(train), x), grads);
                }
                if (r instanceof DdSpectralNorm sn) {
                    return sn.accumulate(e, x, s, seed, grads);
                }
                return ((InputGradient) r).accumulate(e, x, s, labels, grads);
            }
        };
    }
}
