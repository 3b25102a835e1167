package dev.opnorm.nn.models;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.Sequential;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelsTest {

    @Test
    void create_parsesCnn7WithWidth() {
        Sequential net = Models.create("cnn7-w0.25", 3, 10, 4);
        assertEquals(Shape.features(1, 256),
                ((Sequential) net.child(Cnn7.FEATURES)).outputShape(new Shape(1, 3, 32, 32)));
        assertArrayEquals(Cnn7.create(0.25, 3, 10, 4).params().get(0).value, net.params().get(0).value);
        assertEquals(Shape.features(1, 1024),
                ((Sequential) Models.create("CNN7", 1, 10, 4).child(Cnn7.FEATURES)).outputShape(new Shape(1, 1, 32, 32)));
    }

    @Test
    void create_parsesWideResNet() {
        Sequential net = Models.create("wrn-10-2", 3, 10, 1);
        assertEquals("fc.weight[10, 128]", net.params().get(net.params().size() - 2).toString());
    }

    @Test
    void create_rejectsUnknownNamesWithTheAcceptedForms() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Models.create("resnet50", 3, 10, 1));
        assertTrue(e.getMessage().contains("resnet50") && e.getMessage().contains("wrn-28-10"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Models.create("wrn-12-1", 3, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> Models.create("cnn7-w0", 3, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> Models.create(null, 3, 10, 1));
    }
}
