package dev.opnorm.benchmarks;

import dev.opnorm.linalg.LinearMap;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.robust.certify.Bracket;
import dev.opnorm.robust.certify.Certifier;
import dev.opnorm.robust.certify.NormBounds;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Certification on the quick profile's network (the 7-layer CNN at width 0.25: {@code model}, a trained
 * checkpoint, or random weights with BatchNorm statistics calibrated on 64 Fashion-MNIST test images) at the
 * first test image, (2,2): the upper bound over the
 * ball with linear back-substitution (windowed rows; l_2 radius {@code eps2}, l_inf radius
 * {@code epsInf}; pre-activations tightened in the first {@code tightenLayers} ReLU layers, rows stopped
 * past {@code maxRowSize} entries), the interval-only bound (l_2), the interval and the linear
 * propagation with the 9 margin rows of certification, next to one power-iteration step (a JVP
 * and a VJP of the linearization: the cost unit), a whole power iteration and the point bracket
 * (extraction + {@link NormBounds}, the (2,2) upper by Gram iteration).
 *
 * <pre>
 * ./bench CertifyBench -p model=runs/reproduce/models/standard.safetensors      (see BENCHMARKS.md)
 * </pre>
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 3, time = 2)
public class CertifyBench {
    /**
     * The network: "" for the CNN at width 0.25 with random weights and calibrated BatchNorm statistics, or a
     * checkpoint of that architecture (the quick reproduction's {@code models/standard.safetensors}).
     */
    @Param({""})
    public String model;

    /** l_2 radius of the linear bound. */
    @Param({"0.0001"})
    public double eps2;

    /** l_inf radius of the linear bound. */
    @Param({"0.00001"})
    public double epsInf;

    /** Entries past which a windowed row stops at the layer it has reached (2147483647: never). */
    @Param({"2147483647"})
    public int maxRowSize;

    /** ReLU layers whose pre-activation bounds are back-substituted (2147483647: all, Certifier's default). */
    @Param({"2147483647"})
    public int tightenLayers;

    /** ReLU signs fixed first ({@link Certifier.Options#signsFirst}, the default) or both rows in full. */
    @Param({"true"})
    public boolean signsFirst;

    /** Boxes narrowed by a zonotope over the ball first ({@link Certifier.Options#zonotope}, the default) or not. */
    @Param({"true"})
    public boolean zonotope;

    private Certifier certifier, linearL2, linearLinf;
    private float[] x;
    private int label;
    private LinearMap jacobian;
    private float[] v, jv, jtjv;

    @Setup
    public void setup() throws IOException {
        Sequential net = Cnn7.create(0.25, 1, 10, 0);
        Dataset test = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TEST, Domain.SYMMETRIC)
                .slice(0, 64).padTo(Cnn7.SIZE, Cnn7.SIZE);
        if (model.isEmpty()) {
            BatchNorm2d.calibrate(net, test.images(), 40);
        } else {
            dev.opnorm.nn.checkpoint.Checkpoint.load(java.nio.file.Path.of(model)).loadInto(net);
        }
        Shape one = test.images().shape.withBatch(1);
        x = Arrays.copyOf(test.images().data, one.size());
        label = test.labels()[0];
        certifier = new Certifier(net, one, 2, 2, Certifier.Options.defaults(2).withDomain(-1, 1).withLinear(false));
        linearL2 = new Certifier(net, one, 2, 2, Certifier.Options.defaults(2).withDomain(-1, 1)
                .withMaxRowSize(maxRowSize).withTightenLayers(tightenLayers).withSignsFirst(signsFirst)
                .withZonotope(zonotope));
        linearLinf = new Certifier(net, one, 2, 2, Certifier.Options.defaults(Double.POSITIVE_INFINITY)
                .withDomain(-1, 1).withMaxRowSize(maxRowSize).withTightenLayers(tightenLayers).withSignsFirst(signsFirst)
                .withZonotope(zonotope));
        jacobian = net.linearize(new Tensor(one, x.clone()), BnMode.EVAL).asLinearMap(0);
        v = new float[one.size()];
        Arrays.fill(v, 1f / (float) Math.sqrt(v.length));
        jv = new float[10];
        jtjv = new float[one.size()];
    }

    // @formatter:off
    /** One power-iteration step: J v then J^T (J v) at x. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public float[] powerStep() { jacobian.apply(v, jv); jacobian.applyTranspose(jv, jtjv); return jtjv; }

    /** A whole (2,2) power iteration at x (Certifier's settings: up to 100 steps, relTol 1e-6), linearization included. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public OperatorNorm.Result powerIteration() { return certifier.estimate(x); }

    /** The upper bound over the l_2 ball of radius eps2: interval propagation with 10 rows, then the norm bound. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public NormBounds.Bound ballUpper() { return certifier.upper(certifier.propagate(x, eps2, -1).jacobian()); }

    /** The same with linear back-substitution over the l_2 ball of radius eps2. */
    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public NormBounds.Bound ballUpperLinearL2() { return linearL2.upper(linearL2.propagate(x, eps2, -1).jacobian()); }

    /** The same over the l_inf ball of radius epsInf. */
    @Benchmark @BenchmarkMode(Mode.SingleShotTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public NormBounds.Bound ballUpperLinearLinf() { return linearLinf.upper(linearLinf.propagate(x, epsInf, -1).jacobian()); }

    /** The propagation certification needs: 10 logit rows and 9 margin rows. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Certifier.Propagation ballWithMargins() { return certifier.propagate(x, eps2, label); }

    /** The same with linear bounds (tightenLayers ReLU layers tightened; logit and margin rows back-substituted). */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Certifier.Propagation ballWithMarginsLinear() { return linearL2.propagate(x, eps2, label); }

    /** The point bracket: power iteration, extraction of the 10 x 1024 Jacobian, NormBounds. */
    @Benchmark @BenchmarkMode(Mode.AverageTime) @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Bracket pointBracket() { return certifier.point(x); }
}
