package dev.opnorm.nn.checkpoint;

import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.optim.OptimizerState;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A training checkpoint in one safetensors file: model parameters and buffers, optimizer state, training
 * position (epoch, step, RNG states) and the run's configuration. Immutable; the {@code with...} methods
 * return a new checkpoint. The tensor naming is documented in the package description
 * ({@code package-info.java}); in short:
 * <pre>
 *   features.0.weight, features.1.running_mean, ...   model tensors, F32, PyTorch state_dict keys and shapes
 *   optim.&lt;param&gt;.&lt;state&gt;                           optimizer buffers (F32, the parameter's shape) and counters (I64 scalars)
 *   train.epoch, train.step                            I64 scalars
 *   rng.&lt;purpose&gt;                                     I64 [4], an Rng state
 *   metadata: format=opnorm-checkpoint, format_version=1, config=&lt;JSON&gt;, optim.kind=&lt;sgd|adam|adamw|rmsprop&gt;, ...
 * </pre>
 * A plain safetensors state dict without opnorm metadata (e.g. from {@code safetensors.torch.save_file(
 * model.state_dict(), ...)}) loads as model tensors only.
 */
public final class Checkpoint {
    /** Value of the "format" metadata entry. */
    public static final String FORMAT = "opnorm-checkpoint";
    /** Value of the "format_version" metadata entry this code writes and reads. */
    public static final String FORMAT_VERSION = "1";

    static final String OPTIM = "optim.";
    static final String TRAIN_EPOCH = "train.epoch";
    static final String TRAIN_STEP = "train.step";
    static final String RNG = "rng.";
    static final List<String> RESERVED_PREFIXES = List.of(OPTIM, "train.", RNG);
    static final Set<String> RESERVED_METADATA = Set.of("format", "format_version", "config", "optim.kind");

    private final Map<String, TensorEntry> model;   // name -> F32 tensor with the parameter's dims
    private final OptimizerState optimizer;         // null when absent
    private final TrainingState training;           // null when absent
    private final String config;                    // JSON text, null when absent
    private final Map<String, String> metadata;     // user entries only

    private Checkpoint(Map<String, TensorEntry> model, OptimizerState optimizer, TrainingState training, String config,
            Map<String, String> metadata) {
        this.model = Collections.unmodifiableMap(new LinkedHashMap<>(model));
        this.optimizer = optimizer;
        this.training = training;
        this.config = config;
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /**
     * A snapshot (values copied now) of a model's parameters and buffers, under their names and dims.
     *
     * @throws IllegalArgumentException when a name repeats, is empty or starts with a reserved prefix
     *                                  ("optim.", "train.", "rng.")
     */
    public static Checkpoint of(List<Param> params, List<Param> buffers) {
        Map<String, TensorEntry> m = new LinkedHashMap<>();
        List<Param> all = new ArrayList<>(params);
        all.addAll(buffers);
        for (Param p : all) {
            String n = p.name();
            if (n == null || n.isEmpty()) {
                throw new IllegalArgumentException("checkpoint: a model tensor has an empty name");
            }
            for (String prefix : RESERVED_PREFIXES) {
                if (n.startsWith(prefix)) {
                    throw new IllegalArgumentException("checkpoint: model tensor name '" + n + "' uses the reserved prefix '"
                            + prefix + "'");
                }
            }
            if (m.put(n, TensorEntry.f32(p.value, toLongs(p.dims()))) != null) {
                throw new IllegalArgumentException("checkpoint: model tensor name '" + n + "' appears twice");
            }
        }
        return new Checkpoint(m, null, null, null, Map.of());
    }

    /** {@link #of(List, List)} with a model's {@code params()} and {@code buffers()}. */
    public static Checkpoint of(Layer model) {
        return of(model.params(), model.buffers());
    }

    /** {@link #of(List, List)} for a model without buffers (or with them already in the list). */
    public static Checkpoint of(List<Param> tensors) {
        return of(tensors, List.of());
    }

    /** This checkpoint with optimizer state (its buffers must belong to model tensors of the same size). */
    public Checkpoint withOptimizer(OptimizerState state) {
        for (Map.Entry<String, float[]> e : state.buffers().entrySet()) {
            TensorEntry owner = model.get(owner(e.getKey()));
            if (owner == null || owner.numel() != e.getValue().length) {
                throw new IllegalArgumentException("checkpoint: optimizer buffer '" + e.getKey()
                        + "' does not belong to a model tensor of " + e.getValue().length + " values");
            }
        }
        return new Checkpoint(model, state, training, config, metadata);
    }

    /** This checkpoint with a training position. */
    public Checkpoint withTraining(TrainingState state) {
        return new Checkpoint(model, optimizer, state, config, metadata);
    }

    /**
     * This checkpoint with the run's configuration as JSON text (stored verbatim in the "config" metadata).
     *
     * @throws IllegalArgumentException when the text is not one well-formed JSON value
     */
    public Checkpoint withConfig(String json) {
        try {
            Json.parse(json);
        } catch (Json.JsonException e) {
            throw new IllegalArgumentException("checkpoint: config is not valid JSON: " + e.getMessage());
        }
        return new Checkpoint(model, optimizer, training, json, metadata);
    }

    /**
     * This checkpoint with an extra metadata string (e.g. "git_commit").
     *
     * @throws IllegalArgumentException for the reserved keys format, format_version, config, optim.kind
     */
    public Checkpoint withMetadata(String key, String value) {
        if (key == null || value == null || RESERVED_METADATA.contains(key)) {
            throw new IllegalArgumentException("checkpoint: metadata key '" + key + "' is reserved or null");
        }
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.put(key, value);
        return new Checkpoint(model, optimizer, training, config, m);
    }

    /** Model tensors by name (F32, the parameters' dims). */
    public Map<String, TensorEntry> modelTensors() {
        return model;
    }

    public Optional<OptimizerState> optimizer() {
        return Optional.ofNullable(optimizer);
    }

    public Optional<TrainingState> training() {
        return Optional.ofNullable(training);
    }

    /** The configuration JSON text. */
    public Optional<String> config() {
        return Optional.ofNullable(config);
    }

    /** User metadata (without the reserved entries). */
    public Map<String, String> metadata() {
        return metadata;
    }

    // ---- saving ----

    /** Writes the checkpoint atomically (see {@link SafeTensors#write}). */
    public void save(Path file) throws IOException {
        Map<String, TensorEntry> t = new LinkedHashMap<>(model);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", FORMAT_VERSION);
        if (config != null) {
            meta.put("config", config);
        }
        if (optimizer != null) {
            meta.put("optim.kind", optimizer.kind());
            for (Map.Entry<String, float[]> e : optimizer.buffers().entrySet()) {
                t.put(OPTIM + e.getKey(), TensorEntry.f32(e.getValue(), model.get(owner(e.getKey())).shape()));
            }
            for (Map.Entry<String, Long> e : optimizer.counters().entrySet()) {
                t.put(OPTIM + e.getKey(), TensorEntry.i64Scalar(e.getValue()));
            }
        }
        if (training != null) {
            t.put(TRAIN_EPOCH, TensorEntry.i64Scalar(training.epoch()));
            t.put(TRAIN_STEP, TensorEntry.i64Scalar(training.step()));
            for (Map.Entry<String, long[]> e : training.rng().entrySet()) {
                t.put(RNG + e.getKey(), TensorEntry.i64(e.getValue(), e.getValue().length));
            }
        }
        meta.putAll(metadata);
        SafeTensors.write(file, t, meta);
    }

    /** The parameter name of optimizer key "&lt;param&gt;.&lt;state&gt;" (param names may contain dots). */
    private static String owner(String key) {
        int dot = key.lastIndexOf('.');
        return dot < 0 ? key : key.substring(0, dot);
    }

    private static long[] toLongs(int[] dims) {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            l[i] = dims[i];
        }
        return l;
    }

    // ---- loading ----

    /**
     * Reads a checkpoint (or a plain safetensors state dict) and validates its structure.
     *
     * @throws IOException naming the file: unreadable or invalid safetensors, another format or version,
     *                     malformed config JSON, optimizer/training tensors of the wrong type or shape, and
     *                     naming the tensor: a NaN or infinite value, a negative BatchNorm running variance
     */
    public static Checkpoint load(Path file) throws IOException {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = new LinkedHashMap<>(c.metadata());
        String format = meta.remove("format");
        String version = meta.remove("format_version");
        String config = meta.remove("config");
        String optimKind = meta.remove("optim.kind");
        if (format != null && !format.equals(FORMAT)) {
            throw bad(file, "format '" + format + "' is not " + FORMAT);
        }
        if (format != null && !FORMAT_VERSION.equals(version)) {
            throw bad(file, "checkpoint format_version '" + version + "' is not supported (this reader knows "
                    + FORMAT_VERSION + ")");
        }
        if (config != null) {
            try {
                Json.parse(config);
            } catch (Json.JsonException e) {
                throw bad(file, "config metadata is not valid JSON: " + e.getMessage());
            }
        }
        Map<String, TensorEntry> model = new LinkedHashMap<>();
        Map<String, float[]> buffers = new LinkedHashMap<>();
        Map<String, Long> counters = new LinkedHashMap<>();
        Map<String, long[]> rng = new LinkedHashMap<>();
        Long epoch = null, step = null;
        for (Map.Entry<String, TensorEntry> e : c.tensors().entrySet()) {
            String n = e.getKey();
            TensorEntry t = e.getValue();
            if (n.startsWith(OPTIM)) {
                String key = n.substring(OPTIM.length());
                if (t.dtype() == DType.F32) {
                    buffers.put(key, t.toFloats());
                } else if (t.dtype() == DType.I64 && t.numel() == 1) {
                    counters.put(key, t.toLongs()[0]);
                } else {
                    throw bad(file, "optimizer tensor '" + n + "' is " + t + ", expected F32 or an I64 scalar");
                }
            } else if (n.equals(TRAIN_EPOCH) || n.equals(TRAIN_STEP)) {
                if (t.dtype() != DType.I64 || t.numel() != 1) {
                    throw bad(file, "tensor '" + n + "' is " + t + ", expected an I64 scalar");
                }
                if (n.equals(TRAIN_EPOCH)) {
                    epoch = t.toLongs()[0];
                } else {
                    step = t.toLongs()[0];
                }
            } else if (n.startsWith(RNG)) {
                if (t.dtype() != DType.I64 || t.shape().length != 1) {
                    throw bad(file, "RNG state '" + n + "' is " + t + ", expected a 1-D I64 tensor");
                }
                rng.put(n.substring(RNG.length()), t.toLongs());
            } else if (n.startsWith("train.")) {
                throw bad(file, "unknown training tensor '" + n + "'");
            } else {
                model.put(n, t);
            }
            String invalid = invalidValues(n, t);
            if (invalid != null) {
                throw bad(file, invalid + ": refusing to load it (a diverged or corrupted run?)");
            }
        }
        OptimizerState optim = null;
        if (optimKind != null) {
            optim = new OptimizerState(optimKind, buffers, counters);
        } else if (!buffers.isEmpty() || !counters.isEmpty()) {
            throw bad(file, "optimizer tensors without 'optim.kind' metadata");
        }
        TrainingState training = null;
        if (epoch != null || step != null || !rng.isEmpty()) {
            if (epoch == null || step == null) {
                throw bad(file, "training state needs both " + TRAIN_EPOCH + " and " + TRAIN_STEP);
            }
            try {
                training = new TrainingState(epoch, step, rng);
            } catch (IllegalArgumentException ex) {
                throw bad(file, ex.getMessage());
            }
        }
        return new Checkpoint(model, optim, training, config, meta);
    }

    /**
     * Why the values of tensor {@code name} cannot be weights, or null when they can: a NaN or infinite value
     * in a floating-point tensor, or a negative BatchNorm variance ("...running_var"; its square root is taken).
     */
    static String invalidValues(String name, TensorEntry t) {
        if (t.dtype() != DType.F32 && t.dtype() != DType.F64) {
            return null;
        }
        double[] v;
        if (t.dtype() == DType.F64) {
            v = t.toDoubles();
        } else {
            float[] f = t.toFloats();
            v = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                v[i] = f[i];
            }
        }
        boolean variance = name.equals("running_var") || name.endsWith(".running_var");
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                return "tensor '" + name + "' " + Arrays.toString(t.shape()) + " holds " + v[i] + " at index " + i
                        + (v.length > 1 ? " (of " + v.length + " values)" : "");
            }
            if (variance && v[i] < 0) {
                return "tensor '" + name + "' " + Arrays.toString(t.shape()) + " holds the negative BatchNorm variance "
                        + v[i] + " at index " + i;
            }
        }
        return null;
    }

    /**
     * Copies the saved values into {@code tensors} (parameters and buffers), matching by name. All tensors are
     * checked before any is written, so a failed load leaves the model untouched.
     *
     * @param strict as PyTorch's load_state_dict: true = model tensors missing from the checkpoint and
     *               checkpoint tensors unknown to the model are errors; false = both are ignored. Shape and
     *               type mismatches are always errors.
     * @throws IllegalArgumentException listing every mismatch at once (missing, unexpected, wrong shape or type)
     */
    public void loadInto(List<Param> tensors, boolean strict) {
        List<String> problems = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Param p : tensors) {
            names.add(p.name());
            TensorEntry t = model.get(p.name());
            if (t == null) {
                if (strict) {
                    problems.add("missing: " + p.name() + " " + Arrays.toString(p.dims()));
                }
                continue;
            }
            if (t.dtype() != DType.F32) {
                problems.add("wrong type: " + p.name() + " is " + t.dtype() + " in the checkpoint, the model needs F32");
            } else if (!Arrays.equals(t.shape(), toLongs(p.dims()))) {
                problems.add("wrong shape: " + p.name() + " is " + Arrays.toString(t.shape()) + " in the checkpoint, "
                        + Arrays.toString(p.dims()) + " in the model");
            } else {
                // a checkpoint built in memory ({@link #of}) never went through load's check
                String invalid = invalidValues(p.name(), t);
                if (invalid != null) {
                    problems.add("invalid values: " + invalid);
                }
            }
        }
        if (strict) {
            for (String n : model.keySet()) {
                if (!names.contains(n)) {
                    problems.add("unexpected: " + n + " " + model.get(n));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("checkpoint does not fit the model: " + problems.size()
                    + " problem(s):\n  " + String.join("\n  ", problems));
        }
        for (Param p : tensors) {
            TensorEntry t = model.get(p.name());
            if (t != null) {
                t.copyFloatsInto(p.value);
            }
        }
    }

    /** Strict {@link #loadInto(List, boolean)} of a model's {@code params()} and {@code buffers()}. */
    public void loadInto(Layer model) {
        List<Param> all = new ArrayList<>(model.params());
        all.addAll(model.buffers());
        loadInto(all, true);
    }

    /** {@link #loadInto(List, boolean)} with strict checking. */
    public void loadInto(List<Param> tensors) {
        loadInto(tensors, true);
    }

    private static IOException bad(Path file, String problem) {
        return new IOException(file + ": " + problem);
    }
}
