package dev.opnorm.experiments.report;

import dev.opnorm.experiments.run.RunManifest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code claims.json}: every claim as its effect with the 95 % interval, the bound with its reason and the
 * verdict, and a summary by verdict. Non-finite numbers are written as {@code null} (JSON has no NaN). Layout:
 * <pre>
 * {
 *   "run": {"command": "reproduce", "git_commit": "...", "seed": 0, ...},   (the manifest's fields, when given)
 *   "summary": {"total": 20, "held": 15, "contradicted": 1, "inconclusive": 4},
 *   "claims": [
 *     {"id": "...", "statement": "...", "effect": "AT - standard accuracy at eps_train",
 *      "estimate": 0.28, "ci95": [0.24, 0.32], "interval": "paired bootstrap over 1000 test images, ...",
 *      "side": "above", "bound": 0.2, "bound_reason": "...", "comparison": "... > 0.2",
 *      "verdict": "held", "numbers": {"AT": 0.37, "standard": 0.09}, "note": "..."},
 *     ...
 *   ]
 * }
 * </pre>
 */
public final class ClaimsJson {
    private ClaimsJson() {
    }

    /**
     * The JSON text.
     *
     * @param manifest its fields become "run" (null: no "run" member)
     * @throws IllegalArgumentException for two claims with the same id
     */
    public static String json(List<Claim> claims, RunManifest manifest) {
        Set<String> ids = new HashSet<>();
        int[] count = new int[Claim.Verdict.values().length];
        for (Claim c : claims) {
            if (!ids.add(c.id())) {
                throw new IllegalArgumentException("two claims have the id " + c.id());
            }
            count[c.verdict().ordinal()]++;
        }
        StringBuilder b = new StringBuilder("{\n");
        if (manifest != null) {
            b.append("  \"run\": ").append(object(manifest.fields(), "  ")).append(",\n");
        }
        b.append("  \"summary\": {\"total\": ").append(claims.size());
        for (Claim.Verdict v : Claim.Verdict.values()) {
            b.append(", ").append(Json.quote(v.label())).append(": ").append(count[v.ordinal()]);
        }
        b.append("},\n  \"claims\": [");
        for (int i = 0; i < claims.size(); i++) {
            Claim c = claims.get(i);
            Estimate e = c.effect();
            b.append(i == 0 ? "\n" : ",\n");
            b.append("    {\"id\": ").append(Json.quote(c.id()))
                    .append(",\n     \"statement\": ").append(Json.quote(c.statement()))
                    .append(",\n     \"effect\": ").append(Json.quote(c.effectName()))
                    .append(",\n     \"estimate\": ").append(Json.number(e.value()))
                    .append(",\n     \"ci95\": [").append(Json.number(e.low())).append(", ")
                    .append(Json.number(e.high())).append(']')
                    .append(",\n     \"interval\": ").append(Json.quote(e.method()))
                    .append(",\n     \"side\": ").append(Json.quote(c.side().name().toLowerCase(java.util.Locale.ROOT)))
                    .append(",\n     \"bound\": ").append(Json.number(c.bound()))
                    .append(",\n     \"bound_reason\": ").append(Json.quote(c.reason()))
                    .append(",\n     \"comparison\": ").append(Json.quote(c.comparison()))
                    .append(",\n     \"verdict\": ").append(Json.quote(c.verdict().label()))
                    .append(",\n     \"numbers\": {");
            int j = 0;
            for (Map.Entry<String, Double> n : c.numbers().entrySet()) {
                b.append(j++ == 0 ? "" : ", ").append(Json.quote(n.getKey())).append(": ")
                        .append(Json.number(n.getValue()));
            }
            b.append("},\n     \"note\": ").append(Json.quote(c.note())).append('}');
        }
        b.append(claims.isEmpty() ? "]\n" : "\n  ]\n");
        return b.append("}\n").toString();
    }

    /** Writes {@link #json} to file atomically. */
    public static void write(Path file, List<Claim> claims, RunManifest manifest) throws IOException {
        RunManifest.AtomicFiles.writeString(file, json(claims, manifest));
    }

    private static String object(Map<String, Object> m, String indent) {
        StringBuilder b = new StringBuilder("{");
        int i = 0;
        for (var e : m.entrySet()) {
            b.append(i++ == 0 ? "\n" : ",\n").append(indent).append("  ").append(Json.quote(e.getKey())).append(": ")
                    .append(Json.value(e.getValue()));
        }
        return b.append(m.isEmpty() ? "}" : "\n" + indent + "}").toString();
    }
}
