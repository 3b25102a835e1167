package dev.opnorm.spark;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweepGridTest {

    @Test
    void knobsGoOnlyToTheMethodsThatUseThemAndDuplicatesRunOnce() {
        SweepGrid g = SweepGrid.parse("{\"method\": [\"standard\", \"at\", \"global-snr\"], \"lambda\": [0.01, 0.1],"
                + " \"eps\": [0.5, 1], \"seed\": [0, 1], \"width\": 0.0625, \"epochs\": 2}", "grid.json");
        List<SweepGrid.Run> runs = g.runs("grid.json");
        // standard: 2 seeds; at: 2 eps x 2 seeds; global-snr: 2 lambdas x 2 seeds
        assertEquals(2 + 4 + 4, runs.size());
        SweepGrid.Run first = runs.get(0);
        assertEquals("standard", first.method());
        assertNull(first.lambda());
        assertNull(first.eps());
        assertEquals("000-standard-w0.0625-e2-s0", first.name());
        assertEquals("cnn7-w0.0625", first.model());
        SweepGrid.Run at = runs.get(2);
        assertEquals("at", at.method());
        assertNull(at.lambda());
        assertEquals(0.5, at.eps());
        assertEquals("002-at-eps0.5-w0.0625-e2-s0", at.name());
        for (int i = 0; i < runs.size(); i++) {
            assertEquals(i, runs.get(i).index());
        }
        assertEquals(runs.size(), runs.stream().map(SweepGrid.Run::name).distinct().count());
    }

    @Test
    void settingsAndTheirErrorsNameTheSource() {
        SweepGrid g = SweepGrid.parse("{\"batch\": 32, \"eval_eps\": [0, 0.5]}", "g.json");
        SweepGrid.Settings s = g.settings(null, 2, "g.json");
        assertEquals(32, s.batch());
        assertEquals(2, s.evalEps().length);
        assertEquals(1000, s.trainSubset());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SweepGrid.parse("{\"epoch\": 2}", "g.json"));
        assertTrue(unknown.getMessage().contains("g.json") && unknown.getMessage().contains("'epoch'"),
                unknown.getMessage());
        IllegalArgumentException method = assertThrows(IllegalArgumentException.class,
                () -> SweepGrid.parse("{\"method\": \"nope\"}", "g.json").runs("g.json"));
        assertTrue(method.getMessage().contains("g.json"), method.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> SweepGrid.parse("{\"batch\": 2.5}", "g.json").settings(null, 1, "g.json"));
        assertTrue(batch.getMessage().contains("'batch'"), batch.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SweepGrid.parse("[1]", "g.json"));
    }
}
