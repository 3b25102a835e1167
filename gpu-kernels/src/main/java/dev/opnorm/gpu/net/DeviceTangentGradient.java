package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceTensor;

/**
 * The device twin of {@code robust.reg.TangentGradient}: grads += d/d theta of {@code <c, J(theta) t>}
 * for a fixed tangent t and cotangent c, J the input Jacobian of a {@link DeviceModel} at its
 * linearization's input (BatchNorm EVAL). For conv, linear, ReLU, max / avg pooling, flatten and EVAL
 * BatchNorm every Jacobian factor is a weight matrix, a fixed diagonal scale or a fixed 0/1 selection, so
 * with t_l the tangent entering layer l and c_l the cotangent at its output
 * <pre>
 *   d/dW_l <c, J t> = c_l (x) t_l               (conv2dVjpWeight / gemm with t_l as the input)
 *   d/dgamma_l      = sum over (n, h, w) of c_l * t_l / sqrt(running_var + eps)   (affine BN)
 * </pre>
 * computed with one tangent pass (each layer's input tangent kept in a pooled buffer) and one cotangent
 * pass that stops below the lowest layer with parameters. Everything is enqueued on the device: no
 * transfer, no waiting. Biases and BN shifts get nothing (they do not enter J).
 */
public final class DeviceTangentGradient {
    private DeviceTangentGradient() {
    }

    /**
     * grads += d/d theta {@code <cotangent, J(theta) tangent>}, summed over the batch (accumulated).
     *
     * @param lin       an EVAL linearization of the model
     * @param tangent   lin.inShape().size() elements, not modified
     * @param cotangent lin.outShape().size() elements, not modified; not the tangent
     * @throws IllegalArgumentException for a TRAIN-mode linearization, null or short tensors, or a layer with
     *                                  parameters this class has no rule for (a PreActBlock; its name is given)
     */
    public static void accumulate(DeviceLinearization lin, DeviceTensor tangent, DeviceTensor cotangent,
                                  DeviceGrads grads) {
        if (lin == null) {
            throw new IllegalArgumentException("TangentGradient needs a device linearization");
        }
        lin.tangentGradient(tangent, cotangent, grads);
    }
}
