package dev.opnorm.benchmarks;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.bounds.Backsub;
import dev.opnorm.nn.bounds.BoundStep;
import dev.opnorm.nn.bounds.Box;
import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.certify.Certificate;
import dev.opnorm.robust.certify.Certifier;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Wall time and tightness of certification on one Fashion-MNIST test image for several bound settings
 * (no JMH: single shots, for the minutes-long settings and loaded machines): per radius and setting, the
 * time of one propagation over the l_2 ball with the margin rows, the point propagation, the ReLUs left
 * unstable per layer, the certified margin bound, the (2,2) upper bound and its ratio to the lower bound
 * found by search.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar \
 *     dev.opnorm.benchmarks.CertifyCost MODEL.safetensors \
 *     [--model cnn7-w0.25] [--image 0] [--eps 0.001,0.01] [--bounds interval,0,3,all,all-full,all-box] [--label predicted]
 *     [--probe ENTRIES]
 * </pre>
 * Bounds: "interval", a number of tightened ReLU layers ({@link Certifier.Options#tightenLayers}) or
 * "all"; with "-full" appended ("all-full"), both rows of every unit go back in full instead of ReLU
 * signs first ({@link Certifier.Options#signsFirst}); with "-box" ("all-box", "all-full-box"), no zonotope
 * narrows the boxes first ({@link Certifier.Options#zonotope}). The label certified is the network's prediction unless {@code --label} names one; {@code --probe}
 * sets {@link Certifier.Options#probeRowSize} (the cheap first pass; default none).
 */
public final class CertifyCost {
    private CertifyCost() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].startsWith("--")) {
            throw new IllegalArgumentException("usage: CertifyCost MODEL.safetensors [--model M] [--image I] [--eps E,..]"
                    + " [--bounds interval,0,3,all,all-full,all-box] [--label predicted|L] [--probe ENTRIES]");
        }
        String spec = "cnn7-w0.25", epsList = "0.001,0.01", bounds = "interval,3", labelArg = "predicted";
        int image = 0, probe = Certifier.Options.PROBE;
        for (int i = 1; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--model" -> spec = args[i + 1];
                case "--image" -> image = Integer.parseInt(args[i + 1]);
                case "--eps" -> epsList = args[i + 1];
                case "--bounds" -> bounds = args[i + 1];
                case "--label" -> labelArg = args[i + 1];
                case "--probe" -> probe = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Sequential model = Models.create(spec, 1, FashionMnist.CLASS_NAMES.length, 0);
        Checkpoint.load(Path.of(args[0])).loadInto(model);
        Dataset test = FashionMnist.load(FashionMnist.DEBIAN_DIR, FashionMnist.Split.TEST, Domain.SYMMETRIC)
                .slice(image, 1).padTo(32, 32);
        Shape one = test.images().shape.withBatch(1);
        float[] x = Arrays.copyOf(test.images().data, one.size());
        float[] z = model.forward(new Tensor(one, x.clone())).data;
        int predicted = 0;
        for (int j = 1; j < z.length; j++) {
            predicted = z[j] > z[predicted] ? j : predicted;
        }
        int label = labelArg.equals("predicted") ? predicted : Integer.parseInt(labelArg);
        System.out.printf(Locale.ROOT, "image %d: true label %d, predicted %d; certifying %d%n", image,
                test.labels()[0], predicted, label);
        Certifier.Options base = Certifier.Options.defaults(2).withDomain(Domain.SYMMETRIC.low(), Domain.SYMMETRIC.high())
                .withProbeRowSize(probe);
        for (String e : epsList.split(",")) {
            double eps = Double.parseDouble(e);
            long t = System.nanoTime();
            double lower = new Certifier(model, one, 2, 2, base.withLinear(false)).ball(x, eps).lower();
            System.out.printf(Locale.ROOT, "eps %g: lower bound %.4g (search %.1f s)%n", eps, lower,
                    (System.nanoTime() - t) / 1e9);
            for (String b : bounds.split(",")) {
                Certifier.Options o = base.withSearch(0, 0);
                String layers = b.split("-")[0];
                java.util.List<String> flags = java.util.Arrays.asList(b.split("-"));
                o = b.equals("interval") ? o.withLinear(false)
                        : o.withTightenLayers(layers.equals("all") ? Certifier.Options.ALL_LAYERS
                        : Integer.parseInt(layers)).withSignsFirst(!flags.contains("full"))
                        .withZonotope(!flags.contains("box"));
                Certifier c = new Certifier(model, one, 2, 2, o);
                long t0 = System.nanoTime();
                Certifier.Propagation over = c.propagate(x, eps, label);
                long t1 = System.nanoTime();
                Certifier.Propagation at = c.propagate(x, 0, label);
                long t2 = System.nanoTime();
                Certificate cert = c.certify(x, label, eps, at, over);
                double up = c.upper(over.jacobian()).value();
                System.out.printf(Locale.ROOT, "eps %g %-8s ball %.2f s, point %.2f s | unstable %s| margin %.4g (%s)%s"
                                + " | upper %.4g, upper/lower %.3g%n", eps, b, (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                        unstable(model, c, one, x, eps, o), cert.marginLower(), cert.method(),
                        cert.certified() ? " certified" : "", up, up / lower);
            }
        }
    }

    /** ReLUs whose output box is [0, hi], hi &gt; 0, per ReLU layer: the chain walked again with the same bounds. */
    private static String unstable(Sequential model, Certifier c, Shape one, float[] x, double eps, Certifier.Options o) {
        StringBuilder out = new StringBuilder();
        Box box = Box.around(one, x, eps, o.domainLow(), o.domainHigh());
        Backsub back = c.backsub(x, eps);
        for (Layer layer : model.chain()) {
            box = back.prior(box);
            BoundStep s = layer.bounds().over(box, back);
            back = back.after(s, box);
            box = s.output();
            if (layer instanceof ReLU) {
                int u = 0;
                for (int j = 0; j < box.size(); j++) {
                    u += box.lo()[j] == 0 && box.hi()[j] > 0 ? 1 : 0;
                }
                out.append(u).append(' ');
            }
        }
        return out.toString();
    }
}
