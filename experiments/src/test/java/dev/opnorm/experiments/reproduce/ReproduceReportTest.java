package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.report.Claim;
import dev.opnorm.nn.kernels.ScalarKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The claims are decided by the stored numbers alone: the paper's pattern holds, its opposite fails. */
class ReproduceReportTest {
    @TempDir
    Path tmp;

    private Reproduction withNumbers(Path out, boolean paperPattern) throws IOException {
        Reproduction r = new Reproduction(Profile.SMOKE, out, tmp, 0, new ScalarKernels(),
                1, new PrintStream(OutputStream.nullOutputStream()));
        PhaseStore st = r.store();
        st.finish("choose-eps", map("eps_train", "1.0", "eps_reached", "true", "fooled_1",
                String.valueOf(paperPattern ? 0.95 : 0.5)), 1);
        st.finish("fig3", map("acc_l2_standard", "0.05", "acc_l2_at", s(paperPattern ? 0.55 : 0.05), "acc_l2_dd-snr",
                s(paperPattern ? 0.53 : 0.2), "acc_l2_global-snr", s(paperPattern ? 0.08 : 0.6), "acc_l2_dd-onr", "0.3",
                "acc_linf_standard", "0.1", "acc_linf_dd-onr", s(paperPattern ? 0.5 : 0.1)), 1);
        st.finish("fig2", map("sigma1_clean_standard", "10", "sigma1_clean_at", s(paperPattern ? 2 : 9),
                "sigma1_clean_dd-snr", s(paperPattern ? 3 : 9), "sigma1_clean_global-snr", s(paperPattern ? 8 : 1),
                "cos_top_standard", "0.3", "cos_tail_standard", s(paperPattern ? 0.02 : 0.3),
                "cos_top_at", "0.4", "cos_tail_at", "0.02", "cos_top_global-snr", "0.3", "cos_tail_global-snr", "0.02",
                "cos_top_dd-snr", "0.4", "cos_tail_dd-snr", "0.02", "cos_top_dd-onr", "0.3", "cos_tail_dd-onr", "0.02",
                "cos_top_random", s(paperPattern ? 0.03 : 0.3), "cos_tail_random", "0.03"), 1);
        st.finish("fig4", map("dev_adv_standard", "4", "dev_adv_at", s(paperPattern ? 1 : 4), "dev_adv_dd-snr",
                s(paperPattern ? 1 : 4), "sigma_adv_standard", "10", "sigma_adv_at", s(paperPattern ? 2 : 12),
                "sigma_adv_dd-snr", s(paperPattern ? 2 : 12)), 1);
        st.finish("fig5", map("shared_near_standard", "0.8", "shared_near_at", s(paperPattern ? 0.95 : 0.7),
                "shared_near_dd-snr", s(paperPattern ? 0.93 : 0.7), "shared_random_standard", "0.9",
                "shared_random_at", "0.9", "shared_random_dd-snr", "0.9"), 1);
        st.finish("fig7", map("robust_t0", "0.5", "robust_t0.5", s(paperPattern ? 0.52 : 0.2), "robust_t1", "0.55"), 1);
        st.finish("table2", map("acc_standard", "0.9", "acc_at", "0.8", "acc_global-snr", s(paperPattern ? 0.82 : 0.95),
                "acc_dd-snr", "0.79", "acc_dd-onr", "0.81"), 1);
        return r;
    }

    @Test
    void claims_holdForThePaperPattern_failForItsOpposite() throws IOException {
        List<Claim> held = ReproduceReport.claims(withNumbers(tmp.resolve("a"), true));
        List<Claim> failed = ReproduceReport.claims(withNumbers(tmp.resolve("b"), false));
        assertEquals(held.size(), failed.size());
        assertEquals(20, held.size());
        for (int i = 0; i < held.size(); i++) {
            assertTrue(held.get(i).held(), held.get(i).id() + " " + held.get(i).numbers());
            assertFalse(failed.get(i).held(), failed.get(i).id() + " " + failed.get(i).numbers());
        }
    }

    private static String s(double v) {
        return String.valueOf(v);
    }

    private static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }
}
