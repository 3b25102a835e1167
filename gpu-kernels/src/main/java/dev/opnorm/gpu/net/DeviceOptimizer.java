package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.optim.OptimizerState;
import dev.opnorm.nn.optim.RmsProp;
import dev.opnorm.nn.optim.Sgd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The update of a host {@link Optimizer} ({@link Sgd}, {@link Adam} / AdamW, {@link RmsProp}) run on the
 * device over a {@link DeviceModel}'s parameters, with the optimizer state (momentum buffers, moments,
 * square averages) kept on the device. The host optimizer it mirrors stays the owner of the
 * configuration, the learning rate and the state FORMAT: {@link #downloadState()} writes the device state
 * into it ({@link Optimizer#importState}), so a checkpoint is written by the host code and is the same
 * file whichever side trained; {@link #uploadState()} goes the other way (after a resume).
 *
 * <p>Semantics are the host optimizer's exactly (PyTorch's single-tensor updates, fma where libtorch
 * fuses, per-step scalars such as Adam's bias corrections computed on the host in double with
 * {@link StrictMath}, lazily created state, parameters without a gradient buffer skipped). The element
 * updates are one kernel per parameter ({@code training.cl}: {@code sgd_update}, {@code adam_update},
 * {@code rmsprop_update}), twins in {@link dev.opnorm.gpu.TrainingTwins}. On PoCL the results equal the
 * host's bit for bit; a GPU driver may compute float division and sqrt to a few ulps (OpenCL's default
 * accuracy), which only Adam and RMSprop use.
 *
 * <p>{@link #step} only enqueues (no transfer). Not thread safe; {@link #close()} frees the device state.
 */
public abstract sealed class DeviceOptimizer implements AutoCloseable
        permits DeviceOptimizer.DeviceSgd, DeviceOptimizer.DeviceAdam, DeviceOptimizer.DeviceRmsProp {
    protected final DeviceModel model;
    protected final Optimizer host;
    protected final List<Param> params;
    private final List<String> names;          // state buffer names (PyTorch's) of this configuration
    private final DeviceTensor[][] state;      // [param][name]: null until the parameter's first step
    private final long[] steps;                // Adam's per-parameter step counter

    private DeviceOptimizer(DeviceModel model, Optimizer host, List<String> names) {
        this.model = model;
        this.host = host;
        this.params = host.params();
        for (Param p : params) {
            model.value(p); // throws naming a parameter that the model does not hold
        }
        this.names = List.copyOf(names);
        this.state = new DeviceTensor[params.size()][];
        this.steps = new long[params.size()];
        uploadState();
    }

    /**
     * The device update of {@code host} over {@code model}'s copy of its parameters, starting from the host
     * optimizer's current state (uploaded).
     *
     * @throws IllegalArgumentException for an optimizer type with no device update, or a parameter of host
     *                                  that the model does not hold
     */
    public static DeviceOptimizer of(DeviceModel model, Optimizer host) {
        if (model == null || host == null) {
            throw new IllegalArgumentException("DeviceOptimizer needs a device model and a host optimizer");
        }
        if (host instanceof Sgd s) {
            return new DeviceSgd(model, s);
        }
        if (host instanceof Adam a) {
            return new DeviceAdam(model, a);
        }
        if (host instanceof RmsProp r) {
            return new DeviceRmsProp(model, r);
        }
        throw new IllegalArgumentException("optimizer " + host.describe() + " has no device update (device "
                + "optimizers: sgd, adam, adamw, rmsprop)");
    }

    /** The host optimizer mirrored (configuration, learning rate, checkpoint format). */
    public Optimizer host() {
        return host;
    }

    public double learningRate() {
        return host.learningRate();
    }

    /** The learning rate of the following steps (the host optimizer's; its check and message). */
    public void setLearningRate(double lr) {
        host.setLearningRate(lr);
    }

    /**
     * One update of every parameter that has a gradient buffer in {@code grads} (as
     * {@link Optimizer#step}): the model's device parameters change; gradients are read only. Enqueued.
     */
    public final void step(DeviceGrads grads) {
        OpenCl cl = model.runtime();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            if (!grads.has(p)) {
                continue;
            }
            boolean first = state[i] == null;
            if (first) {
                state[i] = new DeviceTensor[names.size()];
                for (int k = 0; k < names.size(); k++) {
                    state[i][k] = DeviceTensor.allocate(cl, p.size());
                    cl.ops().fill(state[i][k], 0f, p.size());
                }
            }
            steps[i]++;
            update(cl.ops(), model.value(p), grads.of(p), state[i], first, steps[i], p.size());
        }
    }

    /**
     * Enqueues parameter p's update: {@code s} its state buffers in {@link #names} order (zeros at its
     * first step, {@code first} true), {@code t} its step count including this one.
     */
    abstract void update(OpenClOps ops, DeviceTensor p, DeviceTensor grad, DeviceTensor[] s, boolean first, long t,
                         int len);

    /** Whether the state has a per-parameter step counter ("step", Adam). */
    boolean counted() {
        return false;
    }

    /**
     * Copies the device state into the host optimizer ({@link Optimizer#importState}, one download per
     * state buffer), e.g. before a checkpoint.
     */
    public void downloadState() {
        Map<String, float[]> buffers = new LinkedHashMap<>();
        Map<String, Long> counters = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            if (state[i] == null) {
                continue;
            }
            String pn = params.get(i).name();
            for (int k = 0; k < names.size(); k++) {
                buffers.put(pn + "." + names.get(k), state[i][k].download());
            }
            if (counted()) {
                counters.put(pn + ".step", steps[i]);
            }
        }
        host.importState(new OptimizerState(host.kind(), buffers, counters));
    }

    /**
     * Replaces the device state with the host optimizer's ({@link Optimizer#exportState}, one upload per
     * state buffer), e.g. after the host optimizer imported a checkpoint's state.
     */
    public void uploadState() {
        OptimizerState s = host.exportState();
        OpenCl cl = model.runtime();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            String pn = p.name();
            boolean has = !names.isEmpty() ? s.buffers().containsKey(pn + "." + names.get(0))
                    : counted() && s.counters().containsKey(pn + ".step");
            if (!has) {
                free(i);
                steps[i] = 0;
                continue;
            }
            if (state[i] == null) {
                state[i] = new DeviceTensor[names.size()];
                for (int k = 0; k < names.size(); k++) {
                    state[i][k] = DeviceTensor.allocate(cl, p.size());
                }
            }
            for (int k = 0; k < names.size(); k++) {
                state[i][k].upload(s.buffers().get(pn + "." + names.get(k)));
            }
            steps[i] = counted() ? s.counters().get(pn + ".step") : 0;
        }
    }

    private void free(int i) {
        if (state[i] != null) {
            for (DeviceTensor t : state[i]) {
                t.close();
            }
            state[i] = null;
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < state.length; i++) {
            free(i);
        }
    }

    /** {@link Sgd} on the device ({@code sgd_update}); state: momentum_buffer when momentum != 0. */
    static final class DeviceSgd extends DeviceOptimizer {
        private final Sgd.Config c;

        DeviceSgd(DeviceModel model, Sgd host) {
            super(model, host, host.config().momentum() != 0 ? List.of("momentum_buffer") : List.of());
            this.c = host.config();
        }

        @Override
        void update(OpenClOps ops, DeviceTensor p, DeviceTensor grad, DeviceTensor[] s, boolean first, long t,
                    int len) {
            ops.sgdUpdate(p, grad, s.length > 0 ? s[0] : null, (float) c.weightDecay(), (float) c.momentum(),
                    (float) (1 - c.dampening()), (float) -learningRate(), first, c.nesterov(), len);
        }
    }

    /** {@link Adam} / AdamW on the device ({@code adam_update}); state: exp_avg, exp_avg_sq, step. */
    static final class DeviceAdam extends DeviceOptimizer {
        private final Adam.Config c;

        DeviceAdam(DeviceModel model, Adam host) {
            super(model, host, List.of("exp_avg", "exp_avg_sq"));
            this.c = host.config();
        }

        @Override
        boolean counted() {
            return true;
        }

        @Override
        void update(OpenClOps ops, DeviceTensor p, DeviceTensor grad, DeviceTensor[] s, boolean first, long t,
                    int len) {
            // the host's scalars, computed the host's way (Adam.update)
            double lr = learningRate();
            double bc1 = 1 - StrictMath.pow(c.beta1(), t);
            double bc2 = 1 - StrictMath.pow(c.beta2(), t);
            ops.adamUpdate(p, grad, s[0], s[1], (float) c.weightDecay(), (float) (1 - lr * c.weightDecay()),
                    c.decoupled(), (float) (1 - c.beta1()), (float) c.beta1(), (float) (1 - c.beta2()),
                    (float) c.beta2(), (float) -(lr / bc1), (float) StrictMath.sqrt(bc2), (float) c.eps(), len);
        }
    }

    /** {@link RmsProp} on the device ({@code rmsprop_update}); state: square_avg [, momentum_buffer] [, grad_avg]. */
    static final class DeviceRmsProp extends DeviceOptimizer {
        private final RmsProp.Config c;

        DeviceRmsProp(DeviceModel model, RmsProp host) {
            super(model, host, names(host.config()));
            this.c = host.config();
        }

        private static List<String> names(RmsProp.Config c) {
            if (c.momentum() > 0) {
                return c.centered() ? List.of("square_avg", "momentum_buffer", "grad_avg")
                        : List.of("square_avg", "momentum_buffer");
            }
            return c.centered() ? List.of("square_avg", "grad_avg") : List.of("square_avg");
        }

        @Override
        void update(OpenClOps ops, DeviceTensor p, DeviceTensor grad, DeviceTensor[] s, boolean first, long t,
                    int len) {
            boolean mom = c.momentum() > 0;
            DeviceTensor buf = mom ? s[1] : null;
            DeviceTensor ga = c.centered() ? s[mom ? 2 : 1] : null;
            ops.rmspropUpdate(p, grad, s[0], ga, buf, (float) c.weightDecay(), (float) c.alpha(),
                    (float) (1 - c.alpha()), (float) c.eps(), (float) c.momentum(), (float) -learningRate(), len);
        }
    }
}
