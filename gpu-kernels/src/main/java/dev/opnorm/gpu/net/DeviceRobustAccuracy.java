package dev.opnorm.gpu.net;

import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.attack.RobustAccuracy;

/**
 * Clean and robust accuracy ({@link RobustAccuracy}'s definition) with the PGA on the OpenCL device
 * ({@link DevicePga}): untargeted against the true labels, BatchNorm EVAL, batch after batch. Per batch:
 * one upload of the images, one of the labels, one of each restart's start offsets, and one download of
 * 8 floats per example; the adversarial points stay on the device.
 */
public final class DeviceRobustAccuracy {
    private DeviceRobustAccuracy() {
    }

    /**
     * As {@link RobustAccuracy#of}, with the attack run on {@code cl} (the network's device mirror is
     * cached by {@link DeviceNetworks#model}). Example i of the data set gets the same random start as on the
     * host, whatever the batch size.
     *
     * @throws IllegalArgumentException for batch &lt; 1, an empty data set, a data set whose domain differs
     *                                  from the attack's, or a network the device cannot run
     */
    public static RobustAccuracy of(OpenCl cl, Layer net, Dataset data, Pga attack, int batch) {
        RobustAccuracy.checkArguments(data, attack, batch);
        DevicePga pga = new DevicePga(cl, attack);
        int clean = 0, robust = 0;
        for (int from = 0; from < data.size(); from += batch) {
            Dataset b = data.slice(from, Math.min(batch, data.size() - from));
            DevicePga.Outcome o = pga.run(net, b.images(), b.labels(), DevicePga.Target.LABELS, from);
            for (int i = 0; i < b.size(); i++) {
                clean += o.cleanPredictions()[i] == b.labels()[i] ? 1 : 0;
                robust += o.predictions()[i] == b.labels()[i] ? 1 : 0;
            }
        }
        return new RobustAccuracy(attack.describe(), attack.p(), attack.eps(), data.size(), clean, robust);
    }
}
