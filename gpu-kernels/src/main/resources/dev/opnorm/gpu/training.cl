/* training.cl: the loss and the optimizer update of a device-resident training step.
 * Java twins: TrainingTwins (the same formulas in the same order). */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

/* range n (one work-item per example i): softmax cross-entropy on logits z (n, k), as
 * nn.loss.SoftmaxCrossEntropy: in double with the maximum logit subtracted;
 * grad[i, j] = (softmax(z_i)_j - [j == y_i]) / n (overwritten), lossRow[i] = logsumexp(z_i) - z_i[y_i],
 * correct[i] = 1 when the first maximal logit is the label, else 0. A label outside [0, k) or a
 * non-finite logit makes lossRow[i] NaN (the host reads the mean and reports it). */
__kernel void softmax_xent_rows(__global float *grad, __global float *lossRow, __global float *correct,
                                __global const float *z, __global const int *labels, const int n, const int k) {
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    const int y = labels[i], off = i * k;
    double mx = -INFINITY;
    int arg = 0;
    int finite = 1;
    for (int j = 0; j < k; j++) {
        const float v = z[off + j];
        finite = finite && isfinite(v);
        if (v > mx) {
            mx = v;
            arg = j;
        }
    }
    double sum = 0.0;
    for (int j = 0; j < k; j++) {
        sum += exp(z[off + j] - mx);
    }
    const double lse = mx + log(sum);
    const int ok = finite && y >= 0 && y < k;
    lossRow[i] = ok ? (float) (lse - z[off + y]) : NAN;
    correct[i] = ok && arg == y ? 1.0f : 0.0f;
    for (int j = 0; j < k; j++) {
        const double p = exp(z[off + j] - lse);
        grad[off + j] = (float) ((p - (j == y ? 1.0 : 0.0)) / n);
    }
}

/* range 1: out[0] = mean of lossRow (summed in double, in example order), out[1] = sum of correct */
__kernel void mean_and_count(__global float *out, __global const float *lossRow, __global const float *correct,
                             const int n) {
    if (get_global_id(0) != 0) {
        return;
    }
    double s = 0.0, c = 0.0;
    for (int i = 0; i < n; i++) {
        s += lossRow[i];
        c += correct[i];
    }
    out[0] = (float) (s / n);
    out[1] = (float) c;
}

/* range len: torch.optim.SGD as nn.optim.Sgd (fma exactly where libtorch fuses):
 *   g = grad + wd * p; buf = first ? g : keep * g + mom * buf; g = nesterov ? g + mom * buf : buf;
 *   p -= lr * g. hasMomentum == 0: no buffer (buf is not touched). p and buf overwritten. */
__kernel void sgd_update(__global float *p, __global const float *grad, __global float *buf,
                         const float wd, const float mom, const float keep, const float negLr,
                         const int hasMomentum, const int first, const int nesterov, const int len) {
    const int j = get_global_id(0);
    if (j >= len) {
        return;
    }
    float g = grad[j];
    if (wd != 0.0f) {
        g = fma(wd, p[j], g);
    }
    if (hasMomentum) {
        const float b = first ? g : fma(keep, g, buf[j] * mom);
        buf[j] = b;
        g = nesterov ? fma(mom, b, g) : b;
    }
    p[j] = fma(negLr, g, p[j]);
}
