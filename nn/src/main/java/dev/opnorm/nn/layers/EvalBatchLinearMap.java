package dev.opnorm.nn.layers;

import dev.opnorm.linalg.BatchLinearMap;

/** A linearization in EVAL mode seen as the block-diagonal batch of its per-example Jacobians. */
final class EvalBatchLinearMap implements BatchLinearMap {
    private final Linearization lin;

    EvalBatchLinearMap(Linearization lin) {
        if (lin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("asBatchLinearMap needs a linearization in EVAL mode: in "
                    + lin.mode() + " mode BatchNorm's batch statistics couple the examples, so the Jacobian"
                    + " is not block diagonal; use asLinearMap(example) instead");
        }
        this.lin = lin;
    }

    @Override
    public int batch() {
        return lin.inShape().n();
    }

    @Override
    public int inDim() {
        return lin.inShape().perExample();
    }

    @Override
    public int outDim() {
        return lin.outShape().perExample();
    }

    @Override
    public void apply(float[] v, float[] out) {
        lin.jvp(v, out);
    }

    @Override
    public void applyTranspose(float[] u, float[] out) {
        lin.vjp(u, out);
    }
}
