package dev.opnorm.gpu;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

import dev.opnorm.nn.kernels.Conv2dDims;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.PoolDims;

/**
 * {@link Kernels} on OpenCL, for the array-based layers ({@code --backend opencl}): each call uploads
 * its inputs (and, for accumulating ops, its output), runs the device op of {@link OpenClOps}, downloads
 * the output and frees the device buffers. Correct, but bound by host-device transfers: code that wants
 * the GPU's speed keeps its data in {@link DeviceTensor}s and calls {@link OpenClOps} directly.
 *
 * <p>Only the elements the dimensions address are transferred (arrays may be longer). An array passed
 * twice in one call (an allowed alias such as {@code relu(y, y, n)}) is uploaded once and the kernel
 * runs in place on the device.
 */
public final class OpenClKernels implements Kernels {
    private final OpenCl cl;
    private final OpenClOps ops;

    /** On the JVM's shared runtime ({@link OpenCl#shared()}). */
    public OpenClKernels() {
        this(OpenCl.shared());
    }

    public OpenClKernels(OpenCl cl) {
        this.cl = cl;
        this.ops = cl.ops();
    }

    public OpenCl runtime() {
        return cl;
    }

    @Override
    public String name() {
        return "opencl";
    }

    /**
     * The device buffers of one call: each distinct host array gets one device buffer of the largest
     * prefix any argument needs; {@link #close()} releases them all.
     */
    private final class Staging implements AutoCloseable {
        private final Map<Object, DeviceBuffer> staged = new IdentityHashMap<>();
        private final Set<Object> uploaded = Collections.newSetFromMap(new IdentityHashMap<>());

        /** A device copy of a[0, count) (uploaded). */
        DeviceTensor in(float[] a, int count, String what) {
            return stage(a, count, what, true);
        }

        /** A device buffer for a[0, count), not uploaded (the op overwrites it). */
        DeviceTensor out(float[] a, int count, String what) {
            return stage(a, count, what, false);
        }

        private DeviceTensor stage(float[] a, int count, String what, boolean upload) {
            if (a == null) {
                throw new IllegalArgumentException(what + " must not be null");
            }
            if (count < 0 || count > a.length) {
                throw new IllegalArgumentException(what + ": needs " + count + " elements, array has " + a.length);
            }
            DeviceTensor d = (DeviceTensor) staged.get(a);
            if (d != null) {
                if (d.length() < Math.max(1, count)) {
                    throw new IllegalArgumentException(what + " aliases another argument with a different size");
                }
            } else {
                d = DeviceTensor.allocate(cl, Math.max(1, count));
                staged.put(a, d);
            }
            if (upload && count > 0 && uploaded.add(a)) {
                d.upload(a, 0, 0, count);
            }
            return d;
        }

        DeviceInts ints(int[] a, int count, String what, boolean upload) {
            if (a == null || count > a.length) {
                throw new IllegalArgumentException(what + ": needs " + count + " elements, array has "
                        + (a == null ? "null" : a.length));
            }
            DeviceInts d = DeviceInts.allocate(cl, Math.max(1, count));
            staged.put(a, d);
            if (upload) {
                d.upload(a, count);
            }
            return d;
        }

        @Override
        public void close() {
            staged.values().forEach(DeviceBuffer::close);
        }
    }

    private static void back(DeviceTensor d, float[] dst, int count) {
        if (count > 0) {
            d.download(dst, 0, 0, count);
        }
    }

    // ---- convolution ------------------------------------------------------------------------------

    @Override
    public void conv2dForward(float[] y, float[] x, float[] w, float[] b, Conv2dDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, d.inputSize(), "conv2dForward x");
            DeviceTensor dw = s.in(w, d.weightSize(), "conv2dForward w");
            DeviceTensor db = b == null ? null : s.in(b, d.k(), "conv2dForward b");
            DeviceTensor dy = s.out(y, d.outputSize(), "conv2dForward y");
            ops.conv2dForward(dy, dx, dw, db, d);
            back(dy, y, d.outputSize());
        }
    }

    @Override
    public void conv2dVjpInput(float[] gx, float[] gy, float[] w, Conv2dDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dgy = s.in(gy, d.outputSize(), "conv2dVjpInput gy");
            DeviceTensor dw = s.in(w, d.weightSize(), "conv2dVjpInput w");
            DeviceTensor dgx = s.out(gx, d.inputSize(), "conv2dVjpInput gx");
            ops.conv2dVjpInput(dgx, dgy, dw, d);
            back(dgx, gx, d.inputSize());
        }
    }

    @Override
    public void conv2dVjpWeight(float[] gw, float[] gy, float[] x, Conv2dDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dgy = s.in(gy, d.outputSize(), "conv2dVjpWeight gy");
            DeviceTensor dx = s.in(x, d.inputSize(), "conv2dVjpWeight x");
            DeviceTensor dgw = s.in(gw, d.weightSize(), "conv2dVjpWeight gw");
            ops.conv2dVjpWeight(dgw, dgy, dx, d);
            back(dgw, gw, d.weightSize());
        }
    }

    @Override
    public void conv2dVjpBias(float[] gb, float[] gy, Conv2dDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dgy = s.in(gy, d.outputSize(), "conv2dVjpBias gy");
            DeviceTensor dgb = s.in(gb, d.k(), "conv2dVjpBias gb");
            ops.conv2dVjpBias(dgb, dgy, d);
            back(dgb, gb, d.k());
        }
    }

    // ---- dense ------------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        if (m <= 0 || n <= 0) {
            if (m < 0 || n < 0 || k < 0) {
                throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
            }
            return;
        }
        int aEnd = k == 0 ? 0 : extent(aOff, lda, transA ? k : m, transA ? m : k);
        int bEnd = k == 0 ? 0 : extent(bOff, ldb, transB ? n : k, transB ? k : n);
        int cEnd = extent(cOff, ldc, m, n);
        try (Staging s = new Staging()) {
            // C is uploaded even when beta == 0: elements between its rows (ldc > n) must survive the download
            DeviceTensor dc = s.in(c, cEnd, "gemm C");
            DeviceTensor da = s.in(a, aEnd, "gemm A");
            DeviceTensor dbb = s.in(b, bEnd, "gemm B");
            ops.gemm(transA, transB, m, n, k, alpha, da, aOff, lda, dbb, bOff, ldb, beta, dc, cOff, ldc);
            dc.download(c, cOff, cOff, cEnd - cOff);
        }
    }

    /** One past the last element of a rows x cols matrix at off with leading dimension ld. */
    private static int extent(int off, int ld, int rows, int cols) {
        return Math.toIntExact((long) off + (long) (rows - 1) * ld + cols);
    }

    // ---- elementwise ------------------------------------------------------------------------------

    @Override
    public void relu(float[] y, float[] x, int len) {
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, len, "relu x");
            DeviceTensor dy = s.out(y, len, "relu y");
            ops.relu(dy, dx, len);
            back(dy, y, len);
        }
    }

    @Override
    public void reluMask(float[] out, float[] in, float[] x, int len) {
        try (Staging s = new Staging()) {
            DeviceTensor din = s.in(in, len, "reluMask in");
            DeviceTensor dx = s.in(x, len, "reluMask x");
            DeviceTensor dout = s.out(out, len, "reluMask out");
            ops.reluMask(dout, din, dx, len);
            back(dout, out, len);
        }
    }

    @Override
    public void axpy(float[] y, float a, float[] x, int len) {
        try (Staging s = new Staging()) {
            DeviceTensor dy = s.in(y, len, "axpy y");
            DeviceTensor dx = s.in(x, len, "axpy x");
            ops.axpy(dy, a, dx, len);
            back(dy, y, len);
        }
    }

    @Override
    public void add(float[] y, float[] a, float[] b, int len) {
        try (Staging s = new Staging()) {
            DeviceTensor da = s.in(a, len, "add a");
            DeviceTensor db = s.in(b, len, "add b");
            DeviceTensor dy = s.out(y, len, "add y");
            ops.add(dy, da, db, len);
            back(dy, y, len);
        }
    }

    @Override
    public void scale(float[] y, float alpha, float[] x, int len) {
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, len, "scale x");
            DeviceTensor dy = s.out(y, len, "scale y");
            ops.scale(dy, alpha, dx, len);
            back(dy, y, len);
        }
    }

    @Override
    public void addRowBias(float[] c, float[] bias, int m, int n) {
        int len = Math.multiplyExact(m, n);
        try (Staging s = new Staging()) {
            DeviceTensor dc = s.in(c, len, "addRowBias c");
            DeviceTensor db = s.in(bias, n, "addRowBias bias");
            ops.addRowBias(dc, db, m, n);
            back(dc, c, len);
        }
    }

    @Override
    public void sumRowsAccumulate(float[] gb, float[] g, int m, int n) {
        try (Staging s = new Staging()) {
            DeviceTensor dg = s.in(g, Math.multiplyExact(m, n), "sumRowsAccumulate g");
            DeviceTensor dgb = s.in(gb, n, "sumRowsAccumulate gb");
            ops.sumRowsAccumulate(dgb, dg, m, n);
            back(dgb, gb, n);
        }
    }

    // ---- per-channel (BatchNorm) -----------------------------------------------------------------

    @Override
    public void channelMeanVar(float[] mean, float[] var, float[] x, int n, int c, int hw) {
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, Math.multiplyExact(Math.multiplyExact(n, c), hw), "channelMeanVar x");
            DeviceTensor dm = s.out(mean, c, "channelMeanVar mean");
            DeviceTensor dv = s.out(var, c, "channelMeanVar var");
            if (dm == dv) {
                throw new IllegalArgumentException("channelMeanVar: mean and var must not alias");
            }
            ops.channelMeanVar(dm, dv, dx, n, c, hw);
            back(dm, mean, c);
            back(dv, var, c);
        }
    }

    @Override
    public void channelAffine(float[] y, float[] x, float[] scale, float[] shift, int n, int c, int hw) {
        int len = Math.multiplyExact(Math.multiplyExact(n, c), hw);
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, len, "channelAffine x");
            DeviceTensor dsc = s.in(scale, c, "channelAffine scale");
            DeviceTensor dsh = shift == null ? null : s.in(shift, c, "channelAffine shift");
            DeviceTensor dy = s.out(y, len, "channelAffine y");
            ops.channelAffine(dy, dx, dsc, dsh, n, c, hw);
            back(dy, y, len);
        }
    }

    @Override
    public void bnTrainJacobian(float[] out, float[] in, float[] xhat, float[] coef, int n, int c, int hw) {
        if (out == in) {
            throw new IllegalArgumentException("bnTrainJacobian: out must not alias in");
        }
        int len = Math.multiplyExact(Math.multiplyExact(n, c), hw);
        try (Staging s = new Staging()) {
            DeviceTensor din = s.in(in, len, "bnTrainJacobian in");
            DeviceTensor dxh = s.in(xhat, len, "bnTrainJacobian xhat");
            DeviceTensor dcoef = s.in(coef, c, "bnTrainJacobian coef");
            DeviceTensor dout = s.out(out, len, "bnTrainJacobian out");
            ops.bnTrainJacobian(dout, din, dxh, dcoef, n, c, hw);
            back(dout, out, len);
        }
    }

    @Override
    public void channelSumsAccumulate(float[] sumA, float[] sumAB, float[] a, float[] b, int n, int c, int hw) {
        int len = Math.multiplyExact(Math.multiplyExact(n, c), hw);
        try (Staging s = new Staging()) {
            DeviceTensor da = s.in(a, len, "channelSumsAccumulate a");
            DeviceTensor db = b == null ? null : s.in(b, len, "channelSumsAccumulate b");
            DeviceTensor dsa = s.in(sumA, c, "channelSumsAccumulate sumA");
            DeviceTensor dsab = b == null ? null : s.in(sumAB, c, "channelSumsAccumulate sumAB");
            ops.channelSumsAccumulate(dsa, dsab, da, db, n, c, hw);
            back(dsa, sumA, c);
            if (b != null) {
                back(dsab, sumAB, c);
            }
        }
    }

    // ---- pooling ----------------------------------------------------------------------------------

    @Override
    public void maxPool2dForward(float[] y, int[] argmax, float[] x, PoolDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, d.inputSize(), "maxPool2dForward x");
            DeviceTensor dy = s.out(y, d.outputSize(), "maxPool2dForward y");
            DeviceInts da = s.ints(argmax, d.outputSize(), "maxPool2dForward argmax", false);
            ops.maxPool2dForward(dy, da, dx, d);
            back(dy, y, d.outputSize());
            da.download(argmax, d.outputSize());
        }
    }

    @Override
    public void maxPool2dJvp(float[] dy, float[] dx, int[] argmax, PoolDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor ddx = s.in(dx, d.inputSize(), "maxPool2dJvp dx");
            DeviceInts da = s.ints(argmax, d.outputSize(), "maxPool2dJvp argmax", true);
            DeviceTensor ddy = s.out(dy, d.outputSize(), "maxPool2dJvp dy");
            ops.maxPool2dJvp(ddy, ddx, da, d);
            back(ddy, dy, d.outputSize());
        }
    }

    @Override
    public void maxPool2dVjp(float[] gx, float[] gy, int[] argmax, PoolDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dgy = s.in(gy, d.outputSize(), "maxPool2dVjp gy");
            DeviceInts da = s.ints(argmax, d.outputSize(), "maxPool2dVjp argmax", true);
            DeviceTensor dgx = s.out(gx, d.inputSize(), "maxPool2dVjp gx");
            ops.maxPool2dVjp(dgx, dgy, da, d);
            back(dgx, gx, d.inputSize());
        }
    }

    @Override
    public void avgPool2dForward(float[] y, float[] x, PoolDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dx = s.in(x, d.inputSize(), "avgPool2dForward x");
            DeviceTensor dy = s.out(y, d.outputSize(), "avgPool2dForward y");
            ops.avgPool2dForward(dy, dx, d);
            back(dy, y, d.outputSize());
        }
    }

    @Override
    public void avgPool2dVjp(float[] gx, float[] gy, PoolDims d) {
        try (Staging s = new Staging()) {
            DeviceTensor dgy = s.in(gy, d.outputSize(), "avgPool2dVjp gy");
            DeviceTensor dgx = s.out(gx, d.inputSize(), "avgPool2dVjp gx");
            ops.avgPool2dVjp(dgx, dgy, d);
            back(dgx, gx, d.inputSize());
        }
    }
}
