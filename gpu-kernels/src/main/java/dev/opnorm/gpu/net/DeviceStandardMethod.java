package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.Gradients;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.util.Rng;

import java.util.Map;

/**
 * Standard training on the device: mean softmax cross-entropy of the TRAIN-mode forward pass, as
 * {@code Objective.standard()} with {@code SoftmaxCrossEntropy} on the host. Scalars: {@code [loss,
 * correct]} ({@code mean_and_count}); the clean loss is the loss.
 */
public final class DeviceStandardMethod implements DeviceMethod {
    private DeviceTensor grad;     // (n, k)  d loss / d logits
    private DeviceTensor lossRow;  // (n)     per-example loss
    private DeviceTensor correct;  // (n)     1 where the first maximal logit is the label

    @Override
    public String name() {
        return "standard";
    }

    @Override
    public int scalars() {
        return 2;
    }

    @Override
    public PlacedLinearization<DeviceTensor> step(PlacedModel<DeviceTensor, DeviceInts> model, DeviceTensor x, DeviceInts labels, Rng rng, Gradients<DeviceTensor> grads,
                                    DeviceTensor out) {
        OpenCl cl = DeviceNetworks.runtime(model);
        int n = x.shape().n();
        PlacedLinearization<DeviceTensor> lin = model.linearize(x, x.shape(), BnMode.TRAIN);
        try {
            lossOf(cl, lin.output(), labels, n, lin.outShape().perExample(), out);
            lin.vjpParams(grad, grads);
            return lin;
        } catch (RuntimeException e) {
            lin.close();
            throw e;
        }
    }

    /**
     * Enqueues the mean cross-entropy of logits z (n, k): the gradient into this method's scratch,
     * {@code out[0]} = loss, {@code out[1]} = correct count.
     */
    void lossOf(OpenCl cl, DeviceTensor z, DeviceInts labels, int n, int k, DeviceTensor out) {
        scratch(cl, n, k);
        OpenClOps ops = cl.ops();
        ops.softmaxXentRows(grad, lossRow, correct, z, labels, n, k);
        ops.meanAndCount(out, lossRow, correct, n);
    }

    @Override
    public DeviceStepResult decode(float[] s, int n) {
        return new DeviceStepResult(s[0], s[0], 0, Map.of(), Math.round(s[1]), n);
    }

    private void scratch(OpenCl cl, int n, int k) {
        if (grad == null || grad.length() < n * k || lossRow.length() < n) {
            close();
            grad = DeviceTensor.allocate(cl, new Shape(n, k, 1, 1));
            lossRow = DeviceTensor.allocate(cl, n);
            correct = DeviceTensor.allocate(cl, n);
        }
    }

    @Override
    public void close() {
        for (DeviceTensor t : new DeviceTensor[]{grad, lossRow, correct}) {
            if (t != null) {
                t.close();
            }
        }
        grad = lossRow = correct = null;
    }
}
