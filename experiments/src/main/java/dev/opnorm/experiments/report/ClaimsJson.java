package dev.opnorm.experiments.report;

import dev.opnorm.experiments.run.RunManifest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code claims.json}: every claim with its numbers, the comparison and whether it held, and a
 * summary. Non-finite numbers are written as {@code null} (JSON has no NaN). Layout:
 * <pre>
 * {
 *   "run": {"command": "reproduce", "git_commit": "...", ...},      (the manifest's fields, when given)
 *   "summary": {"total": 7, "held": 5, "failed": 2},
 *   "claims": [
 *     {"id": "...", "statement": "...", "comparison": "...", "numbers": {"a": 0.61, "b": 0.08},
 *      "held": true, "note": "..."},
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
        int held = 0;
        for (Claim c : claims) {
            if (!ids.add(c.id())) {
                throw new IllegalArgumentException("two claims have the id " + c.id());
            }
            held += c.held() ? 1 : 0;
        }
        StringBuilder b = new StringBuilder("{\n");
        if (manifest != null) {
            b.append("  \"run\": ").append(object(manifest.fields(), "  ")).append(",\n");
        }
        b.append("  \"summary\": {\"total\": ").append(claims.size()).append(", \"held\": ").append(held)
                .append(", \"failed\": ").append(claims.size() - held).append("},\n");
        b.append("  \"claims\": [");
        for (int i = 0; i < claims.size(); i++) {
            Claim c = claims.get(i);
            b.append(i == 0 ? "\n" : ",\n");
            b.append("    {\"id\": ").append(Json.quote(c.id()))
                    .append(",\n     \"statement\": ").append(Json.quote(c.statement()))
                    .append(",\n     \"comparison\": ").append(Json.quote(c.comparison()))
                    .append(",\n     \"numbers\": {");
            int j = 0;
            for (Map.Entry<String, Double> e : c.numbers().entrySet()) {
                b.append(j++ == 0 ? "" : ", ").append(Json.quote(e.getKey())).append(": ")
                        .append(Json.number(e.getValue()));
            }
            b.append("},\n     \"held\": ").append(c.held())
                    .append(",\n     \"note\": ").append(Json.quote(c.note())).append('}');
        }
        b.append(claims.isEmpty() ? "]\n" : "\n  ]\n");
        return b.append("}\n").toString();
    }

    /** Writes {@link #json} to file atomically. */
    public static void write(Path file, List<Claim> claims, RunManifest manifest) throws IOException {
        RunManifest.AtomicFiles.writeString(file, json(claims, manifest));
    }

    private static String object(Map<String, String> m, String indent) {
        StringBuilder b = new StringBuilder("{");
        int i = 0;
        for (var e : m.entrySet()) {
            b.append(i++ == 0 ? "\n" : ",\n").append(indent).append("  ").append(Json.quote(e.getKey())).append(": ")
                    .append(Json.quote(e.getValue()));
        }
        return b.append(m.isEmpty() ? "}" : "\n" + indent + "}").toString();
    }
}
