package dev.opnorm.benchmarks;

import dev.opnorm.linalg.LinearMap;
import dev.opnorm.linalg.LinearMaps;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.linalg.Svd;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.ejml.data.DMatrixRMaj;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * linalg: the power method on a dense 3072 x 1024 map (the penultimate Jacobian of the paper's 7-layer
 * CNN is 1024 x 3072 per example) and EJML's thin SVD (values and vectors, double) of 3072 x 1024,
 * 3072 x 256 and 3072 x 10 Gaussian matrices. One-threaded (neither the map nor EJML's SVD uses threads).
 *
 * <pre>
 * ./bench LinalgBench -wi 2 -i 3      (see BENCHMARKS.md)
 * </pre>
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class LinalgBench {
    private DMatrixRMaj a1024, a256, a10;          // (3072, k) double, Gaussian
    private LinearMap map;                          // (3072, 1024) float row-major view
    private float[] v, av, atav;                    // (1024), (3072), (1024)
    private PowerMethod.Options twentySteps;

    @Setup
    public void setup() {
        a1024 = gaussian(3072, 1024, 1);
        a256 = gaussian(3072, 256, 2);
        a10 = gaussian(3072, 10, 3);
        float[] f = new float[a1024.getNumElements()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a1024.data[i];
        map = LinearMaps.ofRowMajor(f, 3072, 1024);
        v = StartVectors.gaussian(4, 1024);
        av = new float[3072];
        atav = new float[1024];
        twentySteps = new PowerMethod.Options(20, 0, 5); // relTol 0: exactly 20 products with A and 19 with A^T
    }

    private static DMatrixRMaj gaussian(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        DMatrixRMaj a = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < a.data.length; i++) a.data[i] = r.nextGaussian();
        return a;
    }

    // @formatter:off
    /** One power iteration's products: A v then A^T (A v), 2 x 3.1 M multiply-adds. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public void powerStep3072x1024(Blackhole bh) { map.apply(v, av); map.applyTranspose(av, atav); bh.consume(atav); }

    /** PowerMethod.sigmaMax, 20 iterations (fixed: relTol 0), including normalizations. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public PowerMethod.Result powerMethod20Iterations3072x1024() { return PowerMethod.sigmaMax(map, twentySteps); }

    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Svd.Result svd3072x1024() { return Svd.of(a1024); }

    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Svd.Result svd3072x256() { return Svd.of(a256); }

    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public double[] svdValues3072x256() { return Svd.values(a256); }

    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Svd.Result svd3072x10() { return Svd.of(a10); }
    // @formatter:on
}
