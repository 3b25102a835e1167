package dev.opnorm.experiments.cli;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedModels;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.PgaBackend;
import dev.opnorm.robust.train.PlacedTrainOps;
import dev.opnorm.robust.train.StepRunner;

/**
 * What {@code --backend} chose, made once by {@link EngineOptions#install()}: the kernels of the host layers
 * and the engines the commands run on. A command asks it for the engine it needs and runs one code path:
 * the PGA ({@link #pga}), training's step runners ({@link #training}), the (p,q) iteration ({@link #norms}).
 * {@link #cpu} is the JVM (nn's layers over the chosen CPU kernels); {@link #opencl} keeps networks, iterates
 * and training state on the OpenCL device.
 */
public interface ComputeBackend {
    /** The kernels installed as the engine default (the host layers' arithmetic). */
    Kernels kernels();

    /** The PGA engine. */
    PgaBackend pga();

    /** The training runners ({@code Trainer.runOn}). */
    StepRunner.Factory training();

    /** The backend as a training run's provenance records it. */
    String trainingText();

    /** The (p,q) operator norm engine. */
    NormEngine norms();

    /** Frees what the engines keep for {@code net} between calls (a device copy); default: nothing. */
    default void release(Layer net) {
    }

    /** Per-example (p,q) operator norms of the Jacobian of a network or of one named prefix of it, BatchNorm EVAL. */
    interface NormEngine {
        /**
         * Refuses (p, alpha) when this engine cannot run them for the target, before any work.
         *
         * @param features true for the prefix's Jacobian, false for the logits'
         * @throws IllegalArgumentException naming the flags
         */
        default void check(double p, double alpha, String alphaText, boolean features, String modelSpec) {
        }

        /**
         * The iteration at x: OperatorNorm's start vectors (the first run's given), stopping rule and restarts.
         *
         * @param prefix the name of the model's part whose Jacobian is measured, or null for the whole model
         */
        Batch estimate(Sequential model, String prefix, Tensor x, double p, double q, OperatorNorm.Options o,
                       float[] start);
    }

    /** One batch's norms and the model's logits at it. */
    record Batch(double[] value, int[] iterations, boolean[] converged, float[] logits) {
    }

    /**
     * The JVM with {@code kernels}: the same engines as on a device, on models placed on the host
     * ({@code PlacedModel.host}: each layer its own kernels, nothing copied).
     */
    static ComputeBackend cpu(Kernels kernels) {
        NormEngine host = ComputeBackend::hostNorms;
        return new ComputeBackend() {
            @Override
            public Kernels kernels() {
                return kernels;
            }

            @Override
            public PgaBackend pga() {
                return PgaBackend.host();
            }

            @Override
            public StepRunner.Factory training() {
                return PlacedTrainOps.runners(PlacedModel::host);
            }

            @Override
            public String trainingText() {
                return kernels.name();
            }

            @Override
            public NormEngine norms() {
                return host;
            }
        };
    }

    /**
     * The OpenCL device of the JVM's shared runtime, the host layers on {@code kernels} (OpenCL kernels): the
     * PGA and the training steps on device models, the (p,q) iteration on the device for the logits and for a
     * prefix the device model can hold as its own network (a child of the model); the Wide ResNet's feature
     * prefix has none, so its iteration runs on the host over these kernels.
     */
    static ComputeBackend opencl(Kernels kernels) {
        NormEngine device = new NormEngine() {
            @Override
            public void check(double p, double alpha, String alphaText, boolean features, String modelSpec) {
                boolean onDevice = !(features && modelSpec.startsWith("wrn"));
                if (onDevice && alpha != Double.POSITIVE_INFINITY && p != 1 && p != 2 && p != Double.POSITIVE_INFINITY) {
                    throw new IllegalArgumentException("--alpha " + alphaText + " with --p " + Norms.format(p)
                            + " on --backend opencl: the device projects onto the l_p sphere for --p 1, 2 or inf only; "
                            + "use --alpha inf or --backend cpu for --p " + Norms.format(p));
                }
            }

            @Override
            public Batch estimate(Sequential model, String prefix, Tensor x, double p, double q,
                                  OperatorNorm.Options o, float[] start) {
                Layer target = prefix == null ? model : model.name().startsWith("wrn") ? null : model.child(prefix);
                if (target == null) {
                    return hostNorms(model, prefix, x, p, q, o, start);
                }
                float[] logits = model.forward(x).data;
                try (OperatorNorm.BatchResult<DeviceTensor> r = PlacedModels.operatorNorm(
                        PlacedModels.model(OpenCl.shared().ops(), target), x, p, q, o, start)) {
                    return new Batch(r.value().clone(), r.iterations().clone(), r.converged().clone(), logits);
                }
            }
        };
        return new ComputeBackend() {
            @Override
            public Kernels kernels() {
                return kernels;
            }

            @Override
            public PgaBackend pga() {
                return net -> PgaBackend.placed(PlacedModels.model(OpenCl.shared().ops(), net));
            }

            @Override
            public StepRunner.Factory training() {
                return PlacedTrainOps.runners(OpenCl.shared().ops());
            }

            @Override
            public String trainingText() {
                return "opencl (device-resident training on " + OpenCl.shared().device().name + ")";
            }

            @Override
            public NormEngine norms() {
                return device;
            }

            @Override
            public void release(Layer net) {
                PlacedModels.release(net);
            }
        };
    }

    private static Batch hostNorms(Sequential model, String prefix, Tensor x, double p, double q,
                                   OperatorNorm.Options o, float[] start) {
        Linearization lin = model.linearize(x, BnMode.EVAL);
        Linearization j = prefix != null ? lin.upTo(prefix) : lin;
        // the host's batch operations of a placed model (PlacedBatchOps), on the Jacobian of the prefix
        try (PlacedModel<float[], int[]> m = PlacedModel.host(model);
             OperatorNorm.BatchResult<float[]> r = OperatorNorm.estimate(j.asBatchLinearMap(), PlacedBatchOps.of(m),
                     p, q, o, start, false)) {
            return new Batch(r.value().clone(), r.iterations().clone(), r.converged().clone(), lin.output().data);
        }
    }
}
