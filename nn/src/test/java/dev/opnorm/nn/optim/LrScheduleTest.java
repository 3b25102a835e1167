package dev.opnorm.nn.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LrScheduleTest {
    @Test
    void constant_isConstant() {
        LrSchedule s = LrSchedule.constant(0.1);
        assertEquals(0.1, s.at(0));
        assertEquals(0.1, s.at(1_000_000));
    }

    @Test
    void step_decaysFromEachMilestoneOn() {
        LrSchedule s = LrSchedule.step(0.1, 0.1, 30, 60);
        assertEquals(0.1, s.at(0));
        assertEquals(0.1, s.at(29));
        assertEquals(0.01, s.at(30), 1e-17);
        assertEquals(0.01, s.at(59), 1e-17);
        assertEquals(0.001, s.at(60), 1e-18);
        assertEquals(0.001, s.at(1000), 1e-18);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(0.1, 0.1, 60, 30));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.step(0.1, 0, 30));
    }

    @Test
    void cosine_warmsUpLinearlyThenAnneals() {
        LrSchedule s = LrSchedule.cosine(1.0, 12, 2, 0.0);
        assertEquals(0.5, s.at(0));
        assertEquals(1.0, s.at(1));
        assertEquals(1.0, s.at(2));                                // cosine starts at its peak
        assertEquals(0.5, s.at(7), 1e-15);                         // half way through the 10 annealing steps
        assertEquals((1 + Math.cos(Math.PI * 0.9)) / 2, s.at(11), 1e-15);
        assertEquals(0.0, s.at(12));
        assertEquals(0.0, s.at(100));
    }

    @Test
    void cosine_withoutWarmup_matchesCosineAnnealingLR() {
        // PyTorch CosineAnnealingLR closed form: eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2
        LrSchedule s = LrSchedule.cosine(0.1, 50, 0, 0.001);
        for (int t = 0; t <= 50; t++) {
            assertEquals(0.001 + 0.099 * (1 + Math.cos(Math.PI * t / 50)) / 2, s.at(t), 1e-15, "t=" + t);
        }
    }

    @Test
    void schedules_rejectBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0.1, 5, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(0.1, 5, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(-0.1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(0.1).at(-1));
    }
}
