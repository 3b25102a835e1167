package dev.opnorm.gpu.net;

import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.RmsProp;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.optim.UpdateOps;

/**
 * nn's {@link UpdateOps} on the device: the element-wise optimizer updates ({@code training.cl}:
 * {@code sgd_update}, {@code adam_update}, {@code rmsprop_update}, through {@link dev.opnorm.gpu.OpenClOps})
 * on {@link DeviceTensor}s, so that {@code nn.optim}'s optimizers (written once) keep their state on the
 * device after {@code optimizer.moveTo(ops)} and update a {@link PlacedModel}'s parameters from
 * {@link Gradients} with no transfer: an update only enqueues a kernel. {@link #upload} and
 * {@link #download} are the optimizer's explicit state transfers (moving it, checkpoints).
 *
 * <p>The kernels are {@link dev.opnorm.nn.optim.HostUpdateOps}'s loops operation for operation with the
 * same float scalars, so on PoCL every value equals the host's bit for bit; a GPU driver may compute float
 * division and sqrt to a few ulps (OpenCL's default accuracy), which only Adam and RMSprop use.
 *
 * <p>State buffers are allocated on the runtime, independent of any model. Two instances on the same
 * runtime are equal (an optimizer moved to either is where the other expects it).
 */
public final class DeviceUpdateOps implements UpdateOps<DeviceTensor> {
    private final OpenCl cl;

    public DeviceUpdateOps(OpenCl cl) {
        if (cl == null) {
            throw new IllegalArgumentException("DeviceUpdateOps needs an OpenCL runtime");
        }
        this.cl = cl;
    }

    @Override
    public DeviceTensor zeros(int length) {
        DeviceTensor t = DeviceTensor.allocate(cl, length);
        cl.ops().fill(t, 0f, length);
        return t;
    }

    @Override
    public DeviceTensor upload(float[] values) {
        return DeviceTensor.of(cl, values);
    }

    @Override
    public float[] download(DeviceTensor buffer, int length) {
        float[] out = new float[length];
        buffer.download(out, 0, 0, length);
        return out;
    }

    @Override
    public void release(DeviceTensor buffer) {
        buffer.close();
    }

    @Override
    public void sgd(DeviceTensor p, DeviceTensor grad, DeviceTensor buf, Sgd.Scalars s, int length) {
        cl.ops().sgdUpdate(p, grad, buf, s.weightDecay(), s.momentum(), s.keep(), s.negLr(), s.first(), s.nesterov(),
                length);
    }

    @Override
    public void adam(DeviceTensor p, DeviceTensor grad, DeviceTensor m, DeviceTensor v, Adam.Scalars s, int length) {
        cl.ops().adamUpdate(p, grad, m, v, s.weightDecay(), s.decay(), s.decoupled(), s.w1(), s.beta1(), s.w2(),
                s.beta2(), s.negStep(), s.bc2Sqrt(), s.eps(), length);
    }

    @Override
    public void rmsprop(DeviceTensor p, DeviceTensor grad, DeviceTensor sq, DeviceTensor ga, DeviceTensor buf,
                        RmsProp.Scalars s, int length) {
        cl.ops().rmspropUpdate(p, grad, sq, ga, buf, s.weightDecay(), s.alpha(), s.w(), s.eps(), s.momentum(),
                s.negLr(), length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceUpdateOps d && d.cl == cl;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(cl);
    }

    @Override
    public String toString() {
        return "the OpenCL device " + cl.device().name;
    }
}
