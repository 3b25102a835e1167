package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.AbstractLayer;
import dev.opnorm.nn.layers.AbstractLinearization;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.LinearWeight;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.layers.TangentRule;
import dev.opnorm.nn.layers.WeightOperator;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A layer type the library does not know, written in this one file, works with the algorithms that
 * used to switch on layer classes: the tangent gradient and both global spectral norms pick up its
 * rules through the Layer / Linearization methods alone.
 */
class NewLayerTypeTest {

    /**
     * y[:, :, h, w] = W x[:, :, h, w] at every pixel, W (out, in), no bias: a 1x1 convolution written as
     * its own layer. Its operator on a (in, h, w) example is W applied per pixel (kron(I_hw, W)): not the
     * matrix itself, but with the same singular values.
     */
    static final class ChannelMix extends AbstractLayer {
        private final int in;
        private final int out;
        private final Param weight;

        ChannelMix(String name, int in, int out) {
            super(name, Engine.kernels());
            this.in = in;
            this.out = out;
            this.weight = new Param("weight", new float[out * in], out, in);
        }

        @Override
        public Shape outputShape(Shape s) {
            if (s.c() != in) {
                throw error("expects " + in + " channels, got input shape " + s);
            }
            return new Shape(s.n(), out, s.h(), s.w());
        }

        @Override
        public List<Param> params() {
            return List.of(weight);
        }

        @Override
        public void initParameters(SplittableRandom rnd) {
            for (int i = 0; i < weight.value.length; i++) {
                weight.value[i] = (float) rnd.nextGaussian();
            }
        }

        /** y_b = W x_b with x_b an (in, hw) matrix per example. */
        private void mix(float[] x, float[] y, int n, int hw) {
            for (int b = 0; b < n; b++) {
                kernels().gemm(false, false, out, hw, in, 1f, weight.value, 0, in, x, b * in * hw, hw, 0f, y,
                        b * out * hw, hw);
            }
        }

        /** x_b = W^T y_b. */
        private void mixTransposed(float[] y, float[] x, int n, int hw) {
            for (int b = 0; b < n; b++) {
                kernels().gemm(true, false, in, hw, out, 1f, weight.value, 0, in, y, b * out * hw, hw, 0f, x,
                        b * in * hw, hw);
            }
        }

        /** gW += sum_b y_b x_b^T. */
        private void weightGrad(float[] gW, float[] y, float[] x, int n, int hw) {
            for (int b = 0; b < n; b++) {
                kernels().gemm(false, true, out, in, hw, 1f, y, b * out * hw, hw, x, b * in * hw, hw, 1f, gW, 0, in);
            }
        }

        @Override
        protected Tensor forwardImpl(Tensor x, Shape o) {
            Tensor y = new Tensor(o);
            mix(x.data, y.data, o.n(), o.h() * o.w());
            return y;
        }

        @Override
        protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape o) {
            Tensor y = forwardImpl(x, o);
            int n = o.n(), hw = o.h() * o.w();
            return new AbstractLinearization(describe(), x.shape, o, mode) {
                @Override
                public Tensor output() {
                    return y;
                }

                @Override
                protected void jvpImpl(float[] dx, float[] dy) {
                    mix(dx, dy, n, hw);
                }

                @Override
                protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
                    if (gx != null) {
                        mixTransposed(gy, gx, n, hw);
                    }
                    if (grads != null) {
                        weightGrad(grads.of(weight), gy, x.data, n, hw);
                    }
                }

                @Override
                public TangentRule tangentRule() {
                    return (t, g, grads) -> weightGrad(grads.of(weight), g, t, n, hw);
                }
            };
        }

        @Override
        public List<LinearWeight> linearWeights() {
            return List.of(new LinearWeight() {
                @Override
                public Layer layer() {
                    return ChannelMix.this;
                }

                @Override
                public Param weight() {
                    return weight;
                }

                @Override
                public int rows() {
                    return out;
                }

                @Override
                public int cols() {
                    return in;
                }

                @Override
                public boolean actsAsMatrix() {
                    return false;
                }

                @Override
                public WeightOperator operatorOn(Shape s) {
                    Shape one = s.withBatch(1);
                    Shape o = outputShape(one);
                    int hw = one.h() * one.w();
                    return new WeightOperator() {
                        @Override
                        public Shape inShape() {
                            return one;
                        }

                        @Override
                        public Shape outShape() {
                            return o;
                        }

                        @Override
                        public void apply(float[] x, float[] y) {
                            mix(x, y, 1, hw);
                        }

                        @Override
                        public void applyTranspose(float[] y, float[] x) {
                            mixTransposed(y, x, 1, hw);
                        }

                        @Override
                        public void accumulateWeightGradient(float[] gW, float[] y, float[] x) {
                            weightGrad(gW, y, x, 1, hw);
                        }
                    };
                }
            });
        }
    }

    private static final Shape IN = new Shape(3, 2, 4, 4);

    /** conv -> ChannelMix -> flatten -> linear: linear in x, so J does not change when the weights move. */
    private static Sequential net(long seed) {
        Sequential net = new Sequential("net", new Conv2d("0", 2, 3, 3, 1, 1, true), new ChannelMix("1", 3, 2),
                new Flatten("2"), new Linear("3", 2 * 4 * 4, 3, true));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    @Test
    void tangentGradient_usesTheNewLayersRule_matchesCentralDifferences() {
        Sequential net = net(1);
        Tensor x = RegTestSupport.gaussian(IN, 2);
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] t = RegTestSupport.gaussian(lin.inShape().size(), 3);
        float[] c = RegTestSupport.gaussian(lin.outShape().size(), 4);
        ParamGrads grads = new ParamGrads();
        TangentGradient.accumulate(net, lin, t, c, grads);
        // every weight, the new layer's included, moves <c, J t>; a missing or wrong rule fails here
        RegTestSupport.checkDirectionalDerivatives(net, grads, m -> value(m, x, t, c), 6, 5);
        Param mix = net.child("1").params().get(0);
        // the mix weight alone, coordinate by coordinate (J is linear in it: the difference is exact)
        float[] g = grads.of(mix);
        for (int k = 0; k < mix.size(); k++) {
            float saved = mix.value[k];
            mix.value[k] = saved + 0.5f;
            double plus = value(net, x, t, c);
            mix.value[k] = saved - 0.5f;
            double minus = value(net, x, t, c);
            mix.value[k] = saved;
            double fd = (plus - minus) / 1.0;
            assertEquals(fd, g[k], 1e-3 * Math.max(1, Math.abs(fd)), "weight[" + k + "]");
        }
    }

    private static double value(Layer net, Tensor x, float[] t, float[] c) {
        Linearization l = net.linearize(x, BnMode.EVAL);
        float[] jt = new float[l.outShape().size()];
        l.jvp(t, jt);
        return RegTestSupport.dot(c, 0, RegTestSupport.toDouble(jt), 0, jt.length);
    }

    private static DMatrixRMaj matrix(Param w, int rows, int cols) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < w.size(); i++) {
            m.data[i] = w.value[i];
        }
        return m;
    }

    @Test
    void globalSpectralNorm_bothFormsRegularizeTheNewLayer() {
        Sequential net = net(6);
        Param mix = net.child("1").params().get(0);
        double exact = Svd.values(matrix(mix, 2, 3))[0];
        for (GlobalSpectralNorm reg : List.of(GlobalSpectralNorm.reshaped(net, 0.1),
                GlobalSpectralNorm.convolution(net, IN, 0.1, 1))) {
            assertEquals(3, reg.layers(), reg.name());
            assertEquals("1", reg.layerName(1));
            reg.initialize(7);
            for (int k = 0; k < 80; k++) {
                reg.powerStep();
            }
            // per-pixel W has W's singular values, as an operator on (3, 4, 4) as well as reshaped
            assertEquals(exact, reg.sigma(1), RegTestSupport.SIGMA_REL * exact, reg.name());
            ParamGrads grads = new ParamGrads();
            reg.penalty(grads);
            RegTestSupport.checkDirectionalDerivatives(net, grads, m -> reg.penalty(new ParamGrads()), 4, 8);
        }
    }
}
