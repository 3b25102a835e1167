package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The nn layers computed with {@link OpenClKernels} (what {@code --backend opencl} runs today): the
 * 7-layer CNN at width 1/16 must give the same output, JVP, VJP and parameter gradients as with
 * ScalarKernels, in both BatchNorm modes.
 */
class LayersOnOpenClTest {
    /** Relative to the largest magnitude of the compared quantity: a whole network of float sums. */
    private static final double NET_REL = 1e-4;

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void cnn7_onOpenClKernels_matchesScalarKernels(BnMode mode) {
        OpenClKernels ocl = new OpenClKernels(OpenClTesting.runtime());
        Sequential netRef = Cnn7.create(1.0 / 16, 3, 10, 7L, new ScalarKernels());
        Sequential netOcl = Cnn7.create(1.0 / 16, 3, 10, 7L, ocl);
        Random rnd = new Random(41);
        Tensor x = Tensor.of(2, 3, 32, 32, OpenClTesting.randn(rnd, 2 * 3 * 32 * 32));

        Linearization ref = netRef.linearize(x, mode);
        Linearization got = netOcl.linearize(x, mode);
        assertNear(ref.output().data, got.output().data, "output " + mode);

        float[] dx = OpenClTesting.randn(rnd, x.shape.size());
        float[] dyRef = new float[ref.outShape().size()], dyGot = new float[ref.outShape().size()];
        ref.jvp(dx, dyRef);
        got.jvp(dx, dyGot);
        assertNear(dyRef, dyGot, "jvp " + mode);

        float[] gy = OpenClTesting.randn(rnd, ref.outShape().size());
        float[] gxRef = new float[x.shape.size()], gxGot = new float[x.shape.size()];
        ref.vjp(gy, gxRef);
        got.vjp(gy, gxGot);
        assertNear(gxRef, gxGot, "vjp " + mode);

        ParamGrads gRef = new ParamGrads(), gGot = new ParamGrads();
        ref.vjpParams(gy, gRef);
        got.vjpParams(gy, gGot);
        List<Param> pr = netRef.params(), pg = netOcl.params();
        assertEquals(pr.size(), pg.size());
        // In TRAIN mode a conv bias before BatchNorm has gradient 0 up to rounding (BN removes the mean):
        // its entries are cancellation noise, so gradients are compared on the scale of all gradients.
        double scale = 0;
        for (Param p : pr) {
            scale = Math.max(scale, maxAbs(gRef.of(p)));
        }
        for (int i = 0; i < pr.size(); i++) {
            assertNear(gRef.of(pr.get(i)), gGot.of(pg.get(i)), scale, "gradient of " + pr.get(i).name() + " " + mode);
        }
    }

    private static void assertNear(float[] want, float[] got, String what) {
        assertNear(want, got, maxAbs(want), what);
    }

    /** |got - want| <= NET_REL * scale elementwise. */
    private static void assertNear(float[] want, float[] got, double scale, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            if (!(err <= NET_REL * scale)) {
                org.junit.jupiter.api.Assertions.fail(what + ": element " + i + " is " + got[i] + ", expected "
                        + want[i] + " (error " + err + " > " + NET_REL + " * " + scale + ")");
            }
        }
    }

    private static double maxAbs(float[] a) {
        double max = 0;
        for (float v : a) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }
}
