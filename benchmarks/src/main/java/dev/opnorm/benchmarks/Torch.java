package dev.opnorm.benchmarks;

import dev.opnorm.nn.kernels.Conv2dDims;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The few PyTorch (libtorch, CPU, through the JavaCPP presets) calls the benchmarks need: tensors
 * from and to Java arrays, and the three convolution operations with the same meaning as the
 * {@code Kernels} methods of the same name. The conv gradients call {@code at::convolution_backward},
 * the op autograd itself runs for conv2d, with an output mask so only the requested gradient is
 * computed. Loading this class loads libtorch (a few seconds the first time: JavaCPP unpacks the
 * natives into ~/.javacpp/cache), so benchmarks touch it only in trials that measure PyTorch.
 */
final class Torch {
    private static final long[] DILATION = {1, 1};
    private static final long[] NO_OUTPUT_PADDING = {0, 0};

    private Torch() {
    }

    /** Sets libtorch's intra-op thread count ({@code at::set_num_threads}) and returns what it reports back. */
    static int setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("PyTorch threads must be >= 1, got " + threads);
        }
        torch.set_num_threads(threads);
        return torch.get_num_threads();
    }

    /** libtorch's own description of its build and thread pools, for logs. */
    static String describe() {
        return torch.show_config().getString() + torch.get_parallel_info().getString();
    }

    /** A float32 tensor of the given shape holding a copy of {@code a} (row-major). */
    static Tensor fromArray(float[] a, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n != a.length) {
            throw new IllegalArgumentException(a.length + " values for tensor shape " + java.util.Arrays.toString(shape));
        }
        try (FloatPointer p = new FloatPointer(a)) {
            // from_blob aliases p, which is freed when this block ends: clone into memory torch owns
            Tensor view = torch.from_blob(p, shape);
            Tensor t = view.clone();
            view.close();
            return t;
        }
    }

    /** The values of a float32 tensor in row-major order. */
    static float[] toArray(Tensor t) {
        Tensor c = t.contiguous();
        long n = c.numel();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor too large for a Java array: " + n + " elements");
        }
        float[] out = new float[(int) n];
        c.data_ptr_float().get(out);
        c.close();
        return out;
    }

    /** y = conv2d(x, w) + b, as {@code Kernels.conv2dForward}; b may be null. Returns a new tensor. */
    static Tensor conv2dForward(Tensor x, Tensor w, Tensor b, Conv2dDims d) {
        TensorOptional bias = b == null ? new TensorOptional() : new TensorOptional(b);
        Tensor y = torch.conv2d(x, w, bias, stride(d), padding(d), DILATION, 1);
        bias.close();
        return y;
    }

    /** gx = conv^T(gy, w), as {@code Kernels.conv2dVjpInput}. x only supplies the input shape. Returns a new tensor. */
    static Tensor conv2dVjpInput(Tensor gy, Tensor x, Tensor w, Conv2dDims d) {
        return backward(gy, x, w, d, true);
    }

    /**
     * gw = sum_n gy[n] (x) x[n], as {@code Kernels.conv2dVjpWeight} but OVERWRITING: PyTorch returns
     * a fresh tensor and autograd accumulates it into .grad separately. Returns a new tensor.
     */
    static Tensor conv2dVjpWeight(Tensor gy, Tensor x, Tensor w, Conv2dDims d) {
        return backward(gy, x, w, d, false);
    }

    private static Tensor backward(Tensor gy, Tensor x, Tensor w, Conv2dDims d, boolean input) {
        try (BoolPointer mask = new BoolPointer(3)) {
            mask.put(0, input).put(1, !input).put(2, false);
            T_TensorTensorTensor_T grads = torch.convolution_backward(gy, x, w, new long[] {d.k()},
                    stride(d), padding(d), DILATION, false, NO_OUTPUT_PADDING, 1, mask);
            // get0/get1 point into the tuple: copy the handle (a new reference to the same storage)
            // before the tuple is freed
            Tensor g = new Tensor(input ? grads.get0() : grads.get1());
            grads.close();
            return g;
        }
    }

    private static long[] stride(Conv2dDims d) {
        return new long[] {d.stride(), d.stride()};
    }

    private static long[] padding(Conv2dDims d) {
        return new long[] {d.pad(), d.pad()};
    }
}
