package dev.opnorm.gpu.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.StepResult;
import dev.opnorm.robust.train.TrainingMethod;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which device method each host method becomes (the numerics are tested per method elsewhere). */
class DeviceMethodsTest {
    @Test
    void of_mapsEveryObjectiveForm_toItsDeviceTwin_keepingTheName() {
        try (DeviceMethod m = DeviceMethods.of(Objective.standard())) {
            assertInstanceOf(DeviceStandardMethod.class, m);
        }
        Objective[] forms = {
            Objective.adversarial(Pga.l2(0.5).iterations(3), 0.5, 0.5, 1),
            Objective.regularized(DdOperatorNorm.sumOfSquares(1, 0.5, 2, BnMode.EVAL)),
            Objective.regularized(new DdSpectralNorm(0.1, 2), new InputGradient(0.1)),
            Objective.convex(0.5, Pga.l2(0.5).iterations(2), 1, 1, 1, 0.5, 2, BnMode.EVAL),
        };
        for (Objective o : forms) {
            try (DeviceMethod m = DeviceMethods.of(o)) {
                assertInstanceOf(DeviceObjective.class, m, o.name());
                assertEquals(o.name(), ((DeviceObjective) m).name(), "the host method's name");
            }
        }
    }

    @Test
    void of_rejectsAMethodThatIsNotAnObjective_namingIt() {
        TrainingMethod custom = new TrainingMethod() {
            @Override
            public String name() {
                return "my-method";
            }

            @Override
            public StepResult step(Layer model, Tensor x, int[] labels, Rng rng, ParamGrads grads) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Map<String, Object> config() {
                return Map.of();
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceMethods.of(custom));
        assertTrue(e.getMessage().contains("my-method"), e.getMessage());
    }
}
