package dev.opnorm.robust.train;

import dev.opnorm.nn.optim.LrSchedule;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The learning-rate schedule of a run, a pure function of the epoch or of the global step (so a resumed run
 * needs no schedule state).
 *
 * @param kind       "constant", "step" or "cosine"
 * @param perStep    the counter is the global optimizer step (true) or the epoch (false)
 * @param gamma      step: the factor applied at each milestone
 * @param milestones step: counter values (epochs or steps) where the rate is multiplied by gamma, increasing
 * @param warmup     cosine: linear warm-up length in counter units
 * @param minLr      cosine: the final learning rate
 */
public record ScheduleSpec(String kind, boolean perStep, double gamma, long[] milestones, long warmup, double minLr) {
    public ScheduleSpec {
        if (!List.of("constant", "step", "cosine").contains(kind)) {
            throw new IllegalArgumentException("schedule must be constant, step or cosine, got '" + kind + "'");
        }
        milestones = milestones == null ? new long[0] : milestones.clone();
    }

    /** The base rate throughout. */
    public static ScheduleSpec constant() {
        return new ScheduleSpec("constant", false, 1, new long[0], 0, 0);
    }

    /** Multiply by gamma at each milestone epoch (PyTorch's MultiStepLR, stepped per epoch). */
    public static ScheduleSpec stepAtEpochs(double gamma, long... milestones) {
        return new ScheduleSpec("step", false, gamma, milestones, 0, 0);
    }

    /** Cosine annealing over the whole run, per optimizer step, after {@code warmupSteps} of linear warm-up. */
    public static ScheduleSpec cosinePerStep(long warmupSteps, double minLr) {
        return new ScheduleSpec("cosine", true, 1, new long[0], warmupSteps, minLr);
    }

    @Override
    public long[] milestones() {
        return milestones.clone();
    }

    /**
     * The schedule for base rate {@code lr} over {@code total} counter units (epochs, or steps when perStep).
     *
     * @throws IllegalArgumentException for settings {@link LrSchedule} rejects
     */
    public LrSchedule create(double lr, long total) {
        switch (kind) {
            case "constant":
                return LrSchedule.constant(lr);
            case "step":
                return LrSchedule.step(lr, gamma, milestones);
            default:
                return LrSchedule.cosine(lr, total, warmup, minLr);
        }
    }

    /** The settings, for the run's configuration record. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind);
        m.put("per_step", perStep);
        if (kind.equals("step")) {
            m.put("gamma", gamma);
            List<Object> ms = new ArrayList<>();
            for (long x : milestones) {
                ms.add(x);
            }
            m.put("milestones", ms);
        } else if (kind.equals("cosine")) {
            m.put("warmup", warmup);
            m.put("min_lr", minLr);
        }
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScheduleSpec s && s.kind.equals(kind) && s.perStep == perStep && s.gamma == gamma
                && java.util.Arrays.equals(s.milestones, milestones) && s.warmup == warmup && s.minLr == minLr;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + java.util.Arrays.hashCode(milestones);
    }
}
