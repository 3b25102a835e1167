package dev.opnorm.nn.optim;

import java.util.Arrays;

/**
 * {@link UpdateOps} on host arrays: the reference arithmetic of the optimizers. State and element-wise
 * math in float, one line per libtorch tensor operation, with {@link Math#fma} exactly where libtorch's
 * vectorized CPU kernels fuse ({@code add(x, alpha)}, {@code addcmul}) and not where they do not
 * ({@code addcdiv}). Element-wise, so the result does not depend on threads or vector width.
 * {@link #upload} and {@link #download} are copies.
 */
public final class HostUpdateOps implements UpdateOps<float[]> {
    /** Stateless: one instance serves every optimizer. */
    public static final HostUpdateOps INSTANCE = new HostUpdateOps();

    private HostUpdateOps() {
    }

    @Override
    public float[] zeros(int length) {
        return new float[length];
    }

    @Override
    public float[] upload(float[] values) {
        return values.clone();
    }

    @Override
    public float[] download(float[] buffer, int length) {
        return Arrays.copyOf(buffer, length);
    }

    @Override
    public void release(float[] buffer) {
        // garbage collected
    }

    @Override
    public void sgd(float[] p, float[] grad, float[] buf, Sgd.Scalars s, int length) {
        float wd = s.weightDecay(), mom = s.momentum(), keep = s.keep(), negLr = s.negLr();
        boolean first = s.first(), nesterov = s.nesterov();
        for (int j = 0; j < length; j++) {
            float g = grad[j];
            if (wd != 0) {
                g = Math.fma(wd, p[j], g);
            }
            if (buf != null) {
                float b = first ? g : Math.fma(keep, g, buf[j] * mom);
                buf[j] = b;
                g = nesterov ? Math.fma(mom, b, g) : b;
            }
            p[j] = Math.fma(negLr, g, p[j]);
        }
    }

    @Override
    public void adam(float[] p, float[] grad, float[] m, float[] v, Adam.Scalars s, int length) {
        float wd = s.weightDecay(), decay = s.decay(), w1 = s.w1(), b1 = s.beta1(), w2 = s.w2(), b2 = s.beta2();
        float negStep = s.negStep(), bc2Sqrt = s.bc2Sqrt(), eps = s.eps();
        boolean decoupled = s.decoupled();
        for (int j = 0; j < length; j++) {
            float g = grad[j];
            if (wd != 0) {
                if (decoupled) {
                    p[j] = p[j] * decay;
                } else {
                    g = Math.fma(wd, p[j], g);
                }
            }
            m[j] = Math.fma(w1, g, m[j] * b1);
            v[j] = Math.fma(w2 * g, g, v[j] * b2);
            float denom = (float) Math.sqrt(v[j]) / bc2Sqrt + eps;
            p[j] = p[j] + negStep * m[j] / denom;
        }
    }

    @Override
    public void rmsprop(float[] p, float[] grad, float[] sq, float[] ga, float[] buf, RmsProp.Scalars s, int length) {
        float wd = s.weightDecay(), alpha = s.alpha(), w = s.w(), eps = s.eps(), mom = s.momentum(), negLr = s.negLr();
        for (int j = 0; j < length; j++) {
            float g = grad[j];
            if (wd != 0) {
                g = Math.fma(wd, p[j], g);
            }
            sq[j] = Math.fma(w * g, g, sq[j] * alpha);
            float avg;
            if (ga != null) {
                ga[j] = Math.fma(w, g, ga[j] * alpha);
                avg = (float) Math.sqrt(Math.fma(-ga[j], ga[j], sq[j])) + eps;
            } else {
                avg = (float) Math.sqrt(sq[j]) + eps;
            }
            if (buf != null) {
                buf[j] = buf[j] * mom + g / avg;
                p[j] = Math.fma(negLr, buf[j], p[j]);
            } else {
                p[j] = p[j] + negLr * g / avg;
            }
        }
    }

    @Override
    public String toString() {
        return "the host";
    }
}
