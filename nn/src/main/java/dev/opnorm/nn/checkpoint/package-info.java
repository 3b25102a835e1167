/**
 * Checkpoints as safetensors files, readable by PyTorch and numpy without opnorm.
 *
 * <h2>Format</h2>
 * {@link dev.opnorm.nn.checkpoint.SafeTensors} reads and writes the safetensors layout: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
 * {@code {"dtype", "shape", "data_offsets"}} plus an optional {@code "__metadata__"} object of strings, then
 * the raw little-endian tensor bytes. Writes are atomic (temporary file in the same directory, fsync,
 * rename); reads validate every length and offset and fail with an {@link java.io.IOException} that names
 * the file and the problem. {@link dev.opnorm.nn.checkpoint.Json} is the small strict JSON reader/writer
 * behind the header. No Java serialization anywhere.
 *
 * <h2>Tensor naming of a {@link dev.opnorm.nn.checkpoint.Checkpoint}</h2>
 * <table>
 *   <caption>tensors in an opnorm checkpoint</caption>
 *   <tr><th>name</th><th>dtype, shape</th><th>holds</th></tr>
 *   <tr><td>{@code features.0.weight}, {@code features.1.running_mean}, ...</td><td>F32, {@code Param.dims()}</td>
 *       <td>model parameters and buffers under their PyTorch state_dict keys (conv weight (out, in, kh, kw),
 *       linear weight (out, in))</td></tr>
 *   <tr><td>{@code optim.<param>.<state>}</td><td>F32, the parameter's shape</td>
 *       <td>optimizer buffers, PyTorch's state names: {@code momentum_buffer} (SGD, RMSprop), {@code exp_avg},
 *       {@code exp_avg_sq} (Adam/AdamW), {@code square_avg}, {@code grad_avg} (RMSprop)</td></tr>
 *   <tr><td>{@code optim.<param>.step}</td><td>I64, scalar {@code []}</td><td>Adam's per-parameter step count</td></tr>
 *   <tr><td>{@code train.epoch}, {@code train.step}</td><td>I64, scalar</td><td>next epoch, optimizer steps taken</td></tr>
 *   <tr><td>{@code rng.<purpose>}</td><td>I64, {@code [4]}</td><td>an {@code Rng} state (xoshiro256**), e.g.
 *       {@code rng.shuffle}</td></tr>
 * </table>
 * Metadata strings: {@code format = "opnorm-checkpoint"}, {@code format_version = "1"}, {@code config} = the
 * run's resolved configuration as JSON, {@code optim.kind} = sgd | adam | adamw | rmsprop, plus free entries
 * such as {@code git_commit}. Model tensor names may not start with {@code optim.}, {@code train.} or
 * {@code rng.}.
 *
 * <h2>Reading a checkpoint outside opnorm</h2>
 * <pre>
 *   from safetensors.torch import load_file             # or: from safetensors.numpy import load_file
 *   sd = load_file("ckpt.safetensors")
 *   model.load_state_dict({k: v for k, v in sd.items() if not k.startswith(("optim.", "train.", "rng."))})
 *
 *   from safetensors import safe_open                   # the metadata
 *   with safe_open("ckpt.safetensors", "pt") as f: config = json.loads(f.metadata()["config"])
 * </pre>
 * A PyTorch {@code model.state_dict()} saved with {@code safetensors.torch.save_file} loads into an opnorm model
 * with {@code Checkpoint.load(file).loadInto(params, strict)} (BatchNorm's {@code num_batches_tracked} is then
 * "unexpected" unless strict is false).
 */
package dev.opnorm.nn.checkpoint;
