package dev.opnorm.nn.layers;

import dev.opnorm.nn.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A {@link Linearized} on host arrays as the host {@link Linearization}: the argument checks of
 * {@link AbstractLinearization}, then the generic linearization's own code.
 */
class HostLinearization extends AbstractLinearization {
    final Linearized<float[]> step;
    private Tensor output;

    HostLinearization(Linearized<float[]> step) {
        super(step.owner(), step.inShape(), step.outShape(), step.mode());
        this.step = step;
    }

    @Override
    public Tensor output() {
        if (output == null) {
            output = new Tensor(outShape(), step.output());
        }
        return output;
    }

    @Override
    protected void jvpImpl(float[] dx, float[] dy) {
        step.jvp(dx, dy);
    }

    @Override
    protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
        step.vjp(gy, gx, grads);
    }

    @Override
    public TangentRule tangentRule() {
        return step.hasTangentRule() ? step::tangentRule : null;
    }

    @Override
    public ActivationSite activationSite() {
        return step.activationSite();
    }

    @Override
    public void commit() {
        step.commit();
    }

    @Override
    public List<Linearization> chain() {
        List<Linearized<float[]>> c = step.chain();
        if (c.size() == 1 && c.get(0) == step) {
            return List.of(this);
        }
        List<Linearization> out = new ArrayList<>(c.size());
        for (Linearized<float[]> p : c) {
            out.add(p.host());
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void visit(java.util.function.Consumer<Linearization> visitor) {
        visitor.accept(this);
        for (Linearized<float[]> p : step.parts()) {
            p.host().visit(visitor);
        }
    }

    @Override
    public Linearization upTo(String path) {
        return step.upTo(path).host();
    }
}
