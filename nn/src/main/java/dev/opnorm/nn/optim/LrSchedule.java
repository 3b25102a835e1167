package dev.opnorm.nn.optim;

import java.util.Arrays;

/**
 * A learning rate as a pure function of a counter {@code t} (epoch or step, whichever the caller uses), so
 * that resuming needs no schedule state: {@code optimizer.setLearningRate(schedule.at(t))} before each step
 * or epoch. Computed in double with {@link StrictMath}: the same value on every platform.
 */
public interface LrSchedule {
    /** The learning rate at {@code t >= 0}. */
    double at(long t);

    /** {@code lr} forever. */
    static LrSchedule constant(double lr) {
        return new Constant(lr);
    }

    /**
     * {@code lr * gamma^k}, k = number of milestones {@code <= t} (PyTorch's MultiStepLR: the decay applies from
     * the milestone on).
     */
    static LrSchedule step(double lr, double gamma, long... milestones) {
        return new Step(lr, gamma, milestones);
    }

    /**
     * Linear warmup then cosine annealing:
     * <pre>
     *   t &lt; warmup:          lr * (t + 1) / warmup
     *   warmup &lt;= t &lt; total: minLr + (lr - minLr) * (1 + cos(pi * (t - warmup) / (total - warmup))) / 2
     *   t &gt;= total:          minLr
     * </pre>
     * With {@code warmup = 0} this is PyTorch's CosineAnnealingLR with {@code T_max = total, eta_min = minLr}.
     */
    static LrSchedule cosine(double lr, long total, long warmup, double minLr) {
        return new Cosine(lr, total, warmup, minLr);
    }

    private static void checkLr(String what, double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("lr schedule: " + what + " must be finite and >= 0, got " + lr);
        }
    }

    private static void checkT(long t) {
        if (t < 0) {
            throw new IllegalArgumentException("lr schedule: t must be >= 0, got " + t);
        }
    }

    /** See {@link LrSchedule#constant}. */
    record Constant(double lr) implements LrSchedule {
        public Constant {
            checkLr("lr", lr);
        }

        @Override
        public double at(long t) {
            checkT(t);
            return lr;
        }
    }

    /** See {@link LrSchedule#step}. */
    record Step(double lr, double gamma, long[] milestones) implements LrSchedule {
        public Step {
            checkLr("lr", lr);
            if (!(gamma > 0) || Double.isInfinite(gamma)) {
                throw new IllegalArgumentException("lr schedule: gamma must be finite and > 0, got " + gamma);
            }
            milestones = milestones.clone();
            for (int i = 0; i < milestones.length; i++) {
                if (milestones[i] <= 0 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                    throw new IllegalArgumentException("lr schedule: milestones must be positive and increasing, got "
                            + Arrays.toString(milestones));
                }
            }
        }

        @Override
        public long[] milestones() {
            return milestones.clone();
        }

        @Override
        public double at(long t) {
            checkT(t);
            int k = 0;
            while (k < milestones.length && milestones[k] <= t) {
                k++;
            }
            return lr * StrictMath.pow(gamma, k);
        }

        @Override
        public String toString() {
            return "Step[lr=" + lr + ", gamma=" + gamma + ", milestones=" + Arrays.toString(milestones) + "]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Step s && s.lr == lr && s.gamma == gamma && Arrays.equals(s.milestones, milestones);
        }

        @Override
        public int hashCode() {
            return Double.hashCode(lr) * 31 + Double.hashCode(gamma) * 17 + Arrays.hashCode(milestones);
        }
    }

    /** See {@link LrSchedule#cosine}. */
    record Cosine(double lr, long total, long warmup, double minLr) implements LrSchedule {
        public Cosine {
            checkLr("lr", lr);
            checkLr("minLr", minLr);
            if (warmup < 0 || total <= warmup) {
                throw new IllegalArgumentException("lr schedule: cosine needs 0 <= warmup < total, got warmup "
                        + warmup + ", total " + total);
            }
        }

        @Override
        public double at(long t) {
            checkT(t);
            if (t < warmup) {
                return lr * (t + 1) / warmup;
            }
            if (t >= total) {
                return minLr;
            }
            double progress = (double) (t - warmup) / (total - warmup);
            return minLr + (lr - minLr) * (1 + StrictMath.cos(StrictMath.PI * progress)) / 2;
        }
    }
}
