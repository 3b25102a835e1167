package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceBuffer;
import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenCl;
import dev.opnorm.nn.Shape;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Device buffers recycled between linearizations of one {@link DeviceModel}: a training step or a
 * power-method run allocates the same activation and residual shapes every time, and creating device
 * buffers is not free on a GPU driver. A buffer given back is handed out again only for later work;
 * the queue is in order, so kernels enqueued after the hand-out run after every kernel that used the
 * buffer before. Contents of a handed-out buffer are undefined. Not thread safe (as the model).
 */
final class DevicePool {
    private final OpenCl cl;
    private final Map<Shape, ArrayDeque<DeviceTensor>> tensors = new HashMap<>();
    private final Map<Integer, ArrayDeque<DeviceInts>> ints = new HashMap<>();

    DevicePool(OpenCl cl) {
        this.cl = cl;
    }

    DeviceTensor tensor(Shape s) {
        ArrayDeque<DeviceTensor> q = tensors.get(s);
        DeviceTensor t = q == null ? null : q.poll();
        return t != null ? t : DeviceTensor.allocate(cl, s);
    }

    DeviceInts ints(int length) {
        ArrayDeque<DeviceInts> q = ints.get(length);
        DeviceInts t = q == null ? null : q.poll();
        return t != null ? t : DeviceInts.allocate(cl, length);
    }

    /** Takes a buffer back for reuse (the caller must not use it any more). */
    void give(DeviceBuffer b) {
        if (b.isClosed()) {
            return;
        }
        if (b instanceof DeviceTensor t) {
            tensors.computeIfAbsent(t.shape(), k -> new ArrayDeque<>()).push(t);
        } else if (b instanceof DeviceInts i) {
            ints.computeIfAbsent(i.length(), k -> new ArrayDeque<>()).push(i);
        }
    }

    /** Frees every pooled buffer (those handed out stay with their users). */
    void clear() {
        tensors.values().forEach(q -> q.forEach(DeviceTensor::close));
        ints.values().forEach(q -> q.forEach(DeviceInts::close));
        tensors.clear();
        ints.clear();
    }
}
