package dev.opnorm.api;

import dev.opnorm.nn.checkpoint.Checkpoint;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Sequential;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Saving and loading a model's weights as a safetensors file (PyTorch state_dict names, F32, readable by
 * {@code safetensors.torch.load_file}): parameters and BatchNorm running statistics. Files are written to a
 * temporary file and renamed, so a crash never leaves half a checkpoint. For optimizer state, training
 * position and configuration use {@link Checkpoint} directly (this class is a thin layer over it).
 *
 * <pre>{@code
 * Checkpoints.save(model, Path.of("model.safetensors"));
 * Sequential copy = Checkpoints.load(Path.of("model.safetensors"), "cnn7-w0.25", 1, 10);
 * }</pre>
 *
 * <p>Thread safety: saving reads the model's parameters (do not train it meanwhile); loading overwrites
 * them (do not evaluate it meanwhile).
 */
public final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * Writes {@code model}'s parameters and buffers (a snapshot taken now) to {@code file}, replacing it.
     *
     * @param model the network (not modified)
     * @param file  the .safetensors file to write; its folder must exist
     * @throws IOException              when the file cannot be written
     * @throws IllegalArgumentException when the model has duplicate or reserved tensor names
     */
    public static void save(Layer model, Path file) throws IOException {
        Checkpoint.of(model).save(file);
    }

    /**
     * Overwrites {@code model}'s parameters and buffers with the file's tensors, matched by name. Strict: a
     * missing, extra or differently shaped tensor is an error, and on error the model is left untouched.
     *
     * @param file  a safetensors file written by {@link #save} (or by PyTorch with the same state_dict names)
     * @param model the network to overwrite
     * @param <L>   the model's type
     * @return {@code model}
     * @throws IOException              when the file cannot be read or is not a valid safetensors file
     * @throws IllegalArgumentException listing every mismatch between file and model
     */
    public static <L extends Layer> L loadInto(Path file, L model) throws IOException {
        Checkpoint.load(file).loadInto(model);
        return model;
    }

    /**
     * Builds the network named by {@code spec} ({@link Models#named}) and loads the file's weights into it.
     *
     * @param file       a safetensors file written by {@link #save}
     * @param spec       the architecture the weights belong to (e.g. "cnn7-w0.25")
     * @param inChannels input channels of that architecture
     * @param classes    its number of logits
     * @return a new network holding the file's weights
     * @throws IOException              as {@link #loadInto}
     * @throws IllegalArgumentException for an unknown spec, or when the file does not fit that network
     */
    public static Sequential load(Path file, String spec, int inChannels, int classes) throws IOException {
        return loadInto(file, Models.named(spec, inChannels, classes, 0));
    }

    /**
     * The whole checkpoint (model tensors, optional optimizer state, training position, configuration,
     * metadata), without a model to load into.
     *
     * @param file a safetensors file
     * @return the checkpoint, tensors in memory
     * @throws IOException when the file cannot be read or is not a valid safetensors file
     */
    public static Checkpoint load(Path file) throws IOException {
        return Checkpoint.load(file);
    }
}
