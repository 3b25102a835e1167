package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.init.PyTorchInit;
import dev.opnorm.nn.kernels.Kernels;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Fully connected layer, PyTorch's {@code nn.Linear}: y = x W^T + b on (n, in, 1, 1) features, with
 * W (out, in) and optional b (out). JVP dy = dx W^T; VJP gx = gy W; gW += gy^T x; gb += sum_n gy.
 * Inputs must already be flat (use {@link Flatten}). Parameters "weight" and "bias".
 */
public final class Linear extends AbstractLayer {
    private final int inFeatures;
    private final int outFeatures;
    private final Param weight; // (out, in)
    private final Param bias;   // (out) or null

    public Linear(String name, int inFeatures, int outFeatures, boolean bias) {
        this(name, inFeatures, outFeatures, bias, Engine.kernels());
    }

    public Linear(String name, int inFeatures, int outFeatures, boolean bias, Kernels kernels) {
        super(name, kernels);
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear '" + name + "': bad configuration in=" + inFeatures
                    + " out=" + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = new Param("weight", new float[outFeatures * inFeatures], outFeatures, inFeatures);
        this.bias = bias ? new Param("bias", new float[outFeatures], outFeatures) : null;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    public Param weight() {
        return weight;
    }

    /** The bias parameter, or null. */
    public Param bias() {
        return bias;
    }

    @Override
    public Shape outputShape(Shape in) {
        if (in.c() != inFeatures || in.h() != 1 || in.w() != 1) {
            throw error("expects input shape (n, " + inFeatures + ", 1, 1), got " + in
                    + (in.perExample() == inFeatures && in.h() * in.w() > 1 ? " (flatten it first)" : ""));
        }
        return Shape.features(in.n(), outFeatures);
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        Tensor y = new Tensor(out);
        int n = x.shape.n();
        kernels.gemm(false, true, n, outFeatures, inFeatures, 1f, x.data, 0, inFeatures,
                weight.value, 0, inFeatures, 0f, y.data, 0, outFeatures);
        if (bias != null) {
            kernels.addRowBias(y.data, bias.value, n, outFeatures);
        }
        return y;
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        int n = in.n();
        F w = b.param(weight);
        F bb = b.paramOrNull(bias);
        return new Linearized<F>(this, b, in, out, mode) {
            {
                F y = tensor(out);
                b.ops().gemm(false, true, n, outFeatures, inFeatures, 1f, x, 0, inFeatures, w, 0, inFeatures, 0f,
                        y, 0, outFeatures);
                if (bb != null) {
                    b.ops().addRowBias(y, bb, n, outFeatures);
                }
                setOutput(y);
            }

            @Override
            public void jvp(F dx, F dy) {
                backend.ops().gemm(false, true, n, outFeatures, inFeatures, 1f, dx, 0, inFeatures,
                        w, 0, inFeatures, 0f, dy, 0, outFeatures);
            }

            @Override
            public boolean hasTangentRule() {
                return true;
            }

            /** J = W: d/dW {@code <g, J t>} = g^T t, the weight VJP with t as the input. */
            @Override
            public void tangentRule(F t, F g, Grads<F> grads) {
                backend.ops().gemm(true, false, outFeatures, inFeatures, n, 1f, g, 0, outFeatures,
                        t, 0, inFeatures, 1f, grads.of(weight), 0, inFeatures);
            }

            @Override
            public void vjp(F gy, F gx, Grads<F> grads) {
                if (gx != null) {
                    backend.ops().gemm(false, false, n, inFeatures, outFeatures, 1f, gy, 0, outFeatures,
                            w, 0, inFeatures, 0f, gx, 0, inFeatures);
                }
                if (grads != null) {
                    backend.ops().gemm(true, false, outFeatures, inFeatures, n, 1f, gy, 0, outFeatures,
                            x, 0, inFeatures, 1f, grads.of(weight), 0, inFeatures);
                    if (bias != null) {
                        backend.ops().sumRowsAccumulate(grads.of(bias), gy, n, outFeatures);
                    }
                }
            }
        };
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    @Override
    public List<Param> params() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }

    @Override
    public void initParameters(SplittableRandom rnd) {
        PyTorchInit.weightAndBias(weight.value, bias == null ? null : bias.value, inFeatures, rnd);
    }

    /** The (out, in) matrix, applied as it is to every example: its operator on any input is itself. */
    @Override
    public List<LinearWeight> linearWeights() {
        return List.of(new LinearWeight() {
            @Override
            public Layer layer() {
                return Linear.this;
            }

            @Override
            public Param weight() {
                return weight;
            }

            @Override
            public int rows() {
                return outFeatures;
            }

            @Override
            public int cols() {
                return inFeatures;
            }

            @Override
            public boolean actsAsMatrix() {
                return true;
            }

            @Override
            public WeightOperator operatorOn(Shape in) {
                Shape one = in.withBatch(1);
                Shape out = outputShape(one);
                return new WeightOperator() {
                    @Override
                    public Shape inShape() {
                        return one;
                    }

                    @Override
                    public Shape outShape() {
                        return out;
                    }

                    @Override
                    public void apply(float[] x, float[] y) {
                        kernels.gemm(false, true, 1, outFeatures, inFeatures, 1f, x, 0, inFeatures,
                                weight.value, 0, inFeatures, 0f, y, 0, outFeatures);
                    }

                    @Override
                    public void applyTranspose(float[] y, float[] x) {
                        kernels.gemm(false, false, 1, inFeatures, outFeatures, 1f, y, 0, outFeatures,
                                weight.value, 0, inFeatures, 0f, x, 0, inFeatures);
                    }

                    @Override
                    public void accumulateWeightGradient(float[] gW, float[] y, float[] x) {
                        kernels.gemm(true, false, outFeatures, inFeatures, 1, 1f, y, 0, outFeatures,
                                x, 0, inFeatures, 1f, gW, 0, inFeatures);
                    }
                };
            }
        });
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new LinearBounds(this);
    }
}
