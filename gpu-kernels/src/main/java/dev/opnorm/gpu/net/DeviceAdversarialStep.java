package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceBuffer;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.robust.attack.Pga;

/**
 * One adversarial-training step on the device, Madry et al.'s form of {@code robust.train.Objective}
 * (clean weight 0, adversarial weight 1, the whole batch attacked):
 *
 * <pre>
 *   x* = PGA(x, y)          BatchNorm EVAL, the attack's seed replaced by the step's seed ({@link DevicePga})
 *   one SGD step on CE(f(x*), y)   BatchNorm TRAIN, running statistics committed ({@link DeviceSgdTrainer#step(DeviceTensor, DeviceInts)})
 * </pre>
 *
 * which is what {@code Objective.adversarial(attack, 0, 1, 1).step} followed by the optimizer step does
 * on the host, with {@code attackSeed} in place of the host's {@code rng.fork("attack").nextLong()}. x*
 * never leaves the device: with the batch already there, a step uploads each restart's start offsets
 * and downloads 8 floats per example (the attack's statistics) plus the trainer's 8 bytes. The mixed
 * objective (clean and adversarial terms with their own weights, part of the batch attacked) needs a
 * weighted cross-entropy on the device and is not covered here.
 */
public final class DeviceAdversarialStep implements AutoCloseable {
    private final DeviceModel model;
    private final DeviceSgdTrainer trainer;
    private final Pga attack;
    private DeviceTensor xAdv;       // (n, c, h, w), reused across steps of one batch shape
    private DeviceTensor inputBuffer;
    private DeviceInts labelBuffer;

    /**
     * @param model   the device network; {@code trainer} must train this model
     * @param trainer the optimizer step (not closed by {@link #close()})
     * @param attack  the PGA settings; its seed is replaced at every step
     * @throws IllegalArgumentException for a null argument or an attack with an iterate listener
     */
    public DeviceAdversarialStep(DeviceModel model, DeviceSgdTrainer trainer, Pga attack) {
        if (model == null || trainer == null || attack == null) {
            throw new IllegalArgumentException("DeviceAdversarialStep needs a model, a trainer and an attack");
        }
        new DevicePga(model.runtime(), attack); // checks the attack once
        this.model = model;
        this.trainer = trainer;
        this.attack = attack;
    }

    /**
     * One step on a batch on the device: x (n, c, h, w) inside the attack's domain (not checked: use
     * {@link #step(Tensor, int[], long)} for a checked host batch), labels (n) in [0, classes).
     *
     * @return the loss and correct count of the training forward pass on x*
     * @throws IllegalArgumentException as {@link DevicePga#run} and {@link DeviceSgdTrainer#step(DeviceTensor, DeviceInts)}
     */
    public DeviceSgdTrainer.StepResult step(DeviceTensor x, DeviceInts labels, long attackSeed) {
        if (x == null || labels == null) {
            throw new IllegalArgumentException("adversarial step needs a batch and its labels");
        }
        Shape s = x.shape();
        if (xAdv == null || !xAdv.shape().equals(s)) {
            if (xAdv != null) {
                xAdv.close();
            }
            xAdv = DeviceTensor.allocate(model.runtime(), s);
        }
        new DevicePga(model.runtime(), attack.seed(attackSeed))
                .run(model, x, labels, DevicePga.Target.LABELS, 0, xAdv, null);
        return trainer.step(xAdv, labels);
    }

    /**
     * One step on a host batch: checks x (finite, in the domain) and the labels, uploads both (into buffers
     * reused across steps of one shape), then {@link #step(DeviceTensor, DeviceInts, long)}.
     */
    public DeviceSgdTrainer.StepResult step(Tensor x, int[] labels, long attackSeed) {
        if (x == null || labels == null) {
            throw new IllegalArgumentException("adversarial step needs a batch and its labels");
        }
        int n = x.shape.n(), classes = model.outputShape(x.shape).perExample();
        if (labels.length != n) {
            throw new IllegalArgumentException("adversarial step: " + labels.length + " labels for a batch of " + n);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("adversarial step: label " + labels[i] + " of example " + i
                        + " outside [0, " + classes + ")");
            }
        }
        for (int i = 0; i < x.data.length; i++) {
            float v = x.data[i];
            if (!(v >= attack.domain().low() && v <= attack.domain().high())) {
                throw new IllegalArgumentException("adversarial step: x[" + i + "] = " + v
                        + " is NaN or outside the input domain " + attack.domain());
            }
        }
        OpenCl cl = model.runtime();
        if (inputBuffer == null || !inputBuffer.shape().equals(x.shape)) {
            if (inputBuffer != null) {
                inputBuffer.close();
                labelBuffer.close();
            }
            inputBuffer = DeviceTensor.allocate(cl, x.shape);
            labelBuffer = DeviceInts.allocate(cl, n);
        }
        inputBuffer.upload(x.data);
        labelBuffer.upload(labels);
        return step(inputBuffer, labelBuffer, attackSeed);
    }

    /** Frees the step's own buffers (not the model or the trainer). */
    @Override
    public void close() {
        for (DeviceBuffer b : new DeviceBuffer[]{xAdv, inputBuffer, labelBuffer}) {
            if (b != null) {
                b.close();
            }
        }
    }
}
