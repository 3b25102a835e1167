package dev.opnorm.gpu.net;

import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.Regularizer;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.TrainingMethod;

import java.util.ArrayList;
import java.util.List;

/**
 * The device twin of a host training method: the same objective (weights, attack, fraction, regularizers
 * with their own configuration) evaluated by device kernels. Every method of the paper has one: standard,
 * adversarial (PGA), d.d. SNR in both forms, d.d. (p,q) ONR, global SNR (reshaped and true conv norm),
 * input-gradient regularization and the AT / d.d. SNR interpolation.
 */
public final class DeviceMethods {
    private DeviceMethods() {
    }

    /**
     * The device method for {@code host}; the caller owns (closes) it.
     *
     * @throws IllegalArgumentException for a method that is not an {@link Objective}, or a regularizer without
     *                                  a device implementation (the message names it)
     */
    public static DeviceMethod of(TrainingMethod host) {
        if (!(host instanceof Objective o)) {
            throw new IllegalArgumentException("training method " + host.name() + " (" + host.getClass().getSimpleName()
                    + ") has no device implementation: only robust.train.Objective methods run on the device");
        }
        if (o.attack() == null && o.regularizers().isEmpty() && o.cleanWeight() == 1) {
            return new DeviceStandardMethod();
        }
        List<DeviceObjective.Regularizer> regs = new ArrayList<>();
        try {
            for (Regularizer r : o.regularizers()) {
                regs.add(regularizer(r));
            }
        } catch (RuntimeException e) {
            regs.forEach(DeviceObjective.Regularizer::close);
            throw e;
        }
        return new DeviceObjective(o.name(), o.cleanWeight(), o.attack() == null ? null : DeviceObjective.pga(o.attack()),
                o.adversarialWeight(), o.fraction(), regs);
    }

    private static DeviceObjective.Regularizer regularizer(Regularizer r) {
        if (r instanceof GlobalSpectralNorm g) {
            return DeviceGlobalSnrOps.regularizer(g);
        }
        return DeviceRegOps.regularizer(r); // the data-dependent ones, robust's code on the device engine
    }
}
