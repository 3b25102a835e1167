package dev.opnorm.nn.layers;

import dev.opnorm.linalg.LinearMap;

import java.util.Arrays;

/**
 * One example's diagonal block of a batch linearization: the tangent is zero on every other example
 * and only this example's slice of the result is read. Works in both BN modes.
 */
final class ExampleLinearMap implements LinearMap {
    private final Linearization lin;
    private final int inDim;     // c*h*w of the input
    private final int outDim;    // c*h*w of the output
    private final int inOff;     // example * inDim
    private final int outOff;    // example * outDim
    private final float[] inBuf;   // (n, c, h, w) input-shaped, zero outside the example's slice
    private final float[] outBuf;  // (n, c', h', w') output-shaped

    ExampleLinearMap(Linearization lin, int example) {
        int n = lin.inShape().n();
        if (example < 0 || example >= n) {
            throw new IllegalArgumentException("example " + example + " outside the batch of " + n
                    + " (input shape " + lin.inShape() + ")");
        }
        this.lin = lin;
        this.inDim = lin.inShape().perExample();
        this.outDim = lin.outShape().perExample();
        this.inOff = example * inDim;
        this.outOff = example * outDim;
        this.inBuf = new float[lin.inShape().size()];
        this.outBuf = new float[lin.outShape().size()];
    }

    @Override
    public int inDim() {
        return inDim;
    }

    @Override
    public int outDim() {
        return outDim;
    }

    @Override
    public void apply(float[] v, float[] out) {
        check(v, inDim, out, outDim);
        // inBuf stays zero outside [inOff, inOff+inDim): both directions write only that slice
        System.arraycopy(v, 0, inBuf, inOff, inDim);
        lin.jvp(inBuf, outBuf);
        System.arraycopy(outBuf, outOff, out, 0, outDim);
    }

    @Override
    public void applyTranspose(float[] u, float[] out) {
        check(u, outDim, out, inDim);
        Arrays.fill(outBuf, 0f);
        System.arraycopy(u, 0, outBuf, outOff, outDim);
        lin.vjp(outBuf, inBuf);
        System.arraycopy(inBuf, inOff, out, 0, inDim);
        // apply relies on inBuf being zero outside the slice; vjp wrote all of it (TRAIN couples examples)
        Arrays.fill(inBuf, 0f);
    }

    private static void check(float[] a, int aLen, float[] b, int bLen) {
        if (a == null || b == null) {
            throw new IllegalArgumentException("vectors must not be null");
        }
        if (a.length != aLen || b.length != bLen) {
            throw new IllegalArgumentException("expected input length " + aLen + " and output length " + bLen
                    + ", got " + a.length + " and " + b.length);
        }
        if (a == b) {
            throw new IllegalArgumentException("input and output must not alias");
        }
    }
}
