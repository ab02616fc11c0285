// The kernels of OpenClTensorOps (org.fqlspark.tensor.opencl): every operation of TensorOps, in OpenCL C 1.2.
//
// Conventions. A tensor is a buffer plus an element offset (views of one flat parameter vector share a buffer, and
// sub-buffers would need aligned offsets), row-major [rows, cols]. A stack of `members` equal blocks of rows is the
// critic ensemble (TensorOps, "stacked ensembles"): row r belongs to member r / rowsPerMember, whose row vectors
// (bias, LayerNorm scale) are row `member` of a [members, cols] tensor. A plain 2-D op is the stack of one member,
// so the stacked and per-member calls run the same arithmetic and give the same bits.
//
// The element-wise arithmetic is that of the CPU kernels (org.fqlspark.tensor.Kernels): tanh-GELU with the same
// float32 [13/6] rational tanh, LayerNorm with the biased variance, Adam with epsilon outside the square root.
// Reductions (row means, sums of squares, loss sums) run as work-group trees, so their rounding differs from the
// CPU's sequential sums in the last bits; column sums (bias and LayerNorm gradients) add rows in order, as the CPU.
//
// No contraction of a * b + c into fused multiply-adds outside GEMM: the element-wise arithmetic then rounds exactly
// as the Java kernels do (with a contracted rational tanh, GELU' in the saturated tails came out ~1e-7 instead of 0,
// 2.7e-5 after a LayerNorm backward). GEMM asks for fma() explicitly.
#pragma OPENCL FP_CONTRACT OFF

// Compile-time constants (set by the host): WG, the work-group size of the row and reduction kernels (a power of
// two); TS, TSK and RT, the GEMM tile (TS x TS outputs per work-group, TSK-deep slices of K, RT x RT per work-item).

#ifndef WG
#define WG 64
#endif
#ifndef TS
#define TS 32
#endif
#ifndef TSK
#define TSK 16
#endif
#ifndef RT
#define RT 2
#endif
#define TT (TS / RT)

#define SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_CUBIC 0.044715f

// tanh by the odd/even [13/6] minimax rational form Eigen and XLA use for float32 (|error| < 2e-6): Kernels.tanh.
inline float rational_tanh(float x) {
    float y = fmax(-7.90531110763549805f, fmin(7.90531110763549805f, x));
    float y2 = y * y;
    float p = y2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = y2 * p + -8.60467152213735e-11f;
    p = y2 * p + 5.12229709037114e-08f;
    p = y2 * p + 1.48572235717979e-05f;
    p = y2 * p + 6.37261928875436e-04f;
    p = y2 * p + 4.89352455891786e-03f;
    p = y * p;
    float q = y2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = y2 * q + 2.26843463243900e-03f;
    q = y2 * q + 4.89352518554385e-03f;
    return p / q;
}

inline float gelu(float v) {
    return 0.5f * v * (1.0f + rational_tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v)));
}

inline float gelu_derivative(float v) {
    float v2 = v * v;
    float t = rational_tanh(SQRT_2_OVER_PI * v * (1.0f + GELU_CUBIC * v2));
    return 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * v2);
}

// The sum of every work-item's v over the work-group (WG work-items, a power of two), returned to all of them.
inline float group_sum(__local float* scratch, float v) {
    int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

inline float group_max(__local float* scratch, float v) {
    int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}

// ------------------------------------------------------------------ moving values

__kernel void fill(__global float* x, const int xo, const int n, const float value) {
    int i = get_global_id(0);
    if (i < n) x[xo + i] = value;
}

__kernel void copy(__global const float* src, const int so, __global float* dst, const int dO, const int n) {
    int i = get_global_id(0);
    if (i < n) dst[dO + i] = src[so + i];
}

__kernel void set_column(__global float* x, const int xo, const int rows, const int cols, const int col, const float value) {
    int r = get_global_id(0);
    if (r < rows) x[xo + r * cols + col] = value;
}

// dst[:, firstCol + j] += src[:, j] / divisor (one Euler step on the flow input's action columns)
__kernel void add_divided_to_columns(__global float* dst, const int dO, const int dcols, const int firstCol,
                                     __global const float* src, const int so, const int rows, const int scols,
                                     const float divisor) {
    int i = get_global_id(0);
    if (i >= rows * scols) return;
    int r = i / scols;
    int j = i - r * scols;
    dst[dO + r * dcols + firstCol + j] += src[so + i] / divisor;
}

// dst[:, dstCol + j] = src[:, srcCol + j] (clipped to [-1, 1] when clip) for j < width
__kernel void copy_columns(__global const float* src, const int so, const int scols, const int srcCol,
                           __global float* dst, const int dO, const int dcols, const int dstCol,
                           const int rows, const int width, const int clip) {
    int i = get_global_id(0);
    if (i >= rows * width) return;
    int r = i / width;
    int j = i - r * width;
    float v = src[so + r * scols + srcCol + j];
    dst[dO + r * dcols + dstCol + j] = clip ? fmax(-1.0f, fmin(1.0f, v)) : v;
}

// ------------------------------------------------------------------ GEMM

// C_b = op(A_b) · op(B_b) + beta · C_b for batch b = get_global_id(2) (a stack's members; stride 0 shares a matrix).
// op(A) is M x K, op(B) K x N; lda, ldb, ldc are the stored row lengths. Each K-sum runs in order k = 0, 1, ...
// beta == 0 never reads C (it may hold anything, NaN included).
__kernel __attribute__((reqd_work_group_size(TT, TT, 1)))
void gemm(const int M, const int N, const int K,
          __global const float* A, const int aOff, const int lda, const int aStride, const int transA,
          __global const float* B, const int bOff, const int ldb, const int bStride, const int transB,
          __global float* C, const int cOff, const int ldc, const int cStride, const float beta) {
    const int batch = get_global_id(2);
    const int ao = aOff + batch * aStride;
    const int bo = bOff + batch * bStride;
    const int co = cOff + batch * cStride;
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int n0 = get_group_id(0) * TS;
    const int m0 = get_group_id(1) * TS;
    const int tid = ty * TT + tx;
    __local float As[TSK][TS + 1];
    __local float Bs[TSK][TS + 1];
    float acc[RT][RT];
    for (int i = 0; i < RT; i++)
        for (int j = 0; j < RT; j++) acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TSK) {
        for (int l = 0; l < (TS * TSK) / (TT * TT); l++) {
            int idx = tid + l * TT * TT;
            int mm, kk, nn;
            // load along the stored rows, so neighbouring work-items read neighbouring addresses
            if (transA) { mm = idx % TS; kk = idx / TS; } else { kk = idx % TSK; mm = idx / TSK; }
            int gm = m0 + mm;
            int gk = k0 + kk;
            As[kk][mm] = (gm < M && gk < K) ? (transA ? A[ao + gk * lda + gm] : A[ao + gm * lda + gk]) : 0.0f;
            if (transB) { kk = idx % TSK; nn = idx / TSK; } else { nn = idx % TS; kk = idx / TS; }
            int gn = n0 + nn;
            gk = k0 + kk;
            Bs[kk][nn] = (gn < N && gk < K) ? (transB ? B[bo + gn * ldb + gk] : B[bo + gk * ldb + gn]) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TSK; kk++) {
            float a[RT];
            float b[RT];
            for (int i = 0; i < RT; i++) a[i] = As[kk][ty + i * TT];
            for (int j = 0; j < RT; j++) b[j] = Bs[kk][tx + j * TT];
            for (int i = 0; i < RT; i++)
                for (int j = 0; j < RT; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < RT; i++) {
        int m = m0 + ty + i * TT;
        if (m >= M) continue;
        for (int j = 0; j < RT; j++) {
            int n = n0 + tx + j * TT;
            if (n >= N) continue;
            int at = co + m * ldc + n;
            C[at] = beta == 0.0f ? acc[i][j] : acc[i][j] + beta * C[at];
        }
    }
}

// ------------------------------------------------------------------ layers

// z += bias (row `member` of a [members, cols] bias); out = gelu(z) unless outO < 0
__kernel void bias_gelu(__global float* z, const int zo, __global const float* bias, const int bo,
                        __global float* out, const int oo, const int rows, const int cols, const int rowsPerMember) {
    int i = get_global_id(0);
    if (i >= rows * cols) return;
    int r = i / cols;
    int j = i - r * cols;
    float v = z[zo + i] + bias[bo + (r / rowsPerMember) * cols + j];
    z[zo + i] = v;
    if (oo >= 0) out[oo + i] = gelu(v);
}

// grad *= gelu'(z)
__kernel void gelu_backward(__global float* grad, const int go, __global const float* z, const int zo, const int n) {
    int i = get_global_id(0);
    if (i < n) grad[go + i] *= gelu_derivative(z[zo + i]);
}

// One work-group per row. withGelu: z += bias, x = gelu(z) (the fused hidden layer); otherwise x is read from z.
// xhat = (x - mean) / sqrt(var + eps), inv = 1 / sqrt(var + eps), out = xhat · scale + lnBias.
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void layer_norm(__global float* z, const int zo, const int withGelu, __global const float* bias, const int bo,
                __global const float* scale, const int so, __global const float* lnBias, const int lo, const float eps,
                __global float* xhat, const int xo, __global float* inv, const int io, __global float* out, const int oo,
                const int cols, const int rowsPerMember) {
    __local float scratch[WG];
    const int r = get_group_id(0);
    const int lid = get_local_id(0);
    const int member = r / rowsPerMember;
    const int base = r * cols;
    float s = 0.0f;
    for (int j = lid; j < cols; j += WG) {
        float x;
        if (withGelu) {
            float v = z[zo + base + j] + bias[bo + member * cols + j];
            z[zo + base + j] = v;
            x = gelu(v);
        } else {
            x = z[zo + base + j];
        }
        xhat[xo + base + j] = x;
        s += x;
    }
    float mean = group_sum(scratch, s) / cols;
    float q = 0.0f;
    for (int j = lid; j < cols; j += WG) {
        float c = xhat[xo + base + j] - mean;
        xhat[xo + base + j] = c;
        q += c * c;
    }
    float is = 1.0f / sqrt(group_sum(scratch, q) / cols + eps);
    if (lid == 0) inv[io + r] = is;
    for (int j = lid; j < cols; j += WG) {
        float xh = xhat[xo + base + j] * is;
        xhat[xo + base + j] = xh;
        out[oo + base + j] = xh * scale[so + member * cols + j] + lnBias[lo + member * cols + j];
    }
}

// One work-group per row: gradIn = inv · (d - mean(d) - xhat · mean(d ⊙ xhat)) with d = gradOut ⊙ scale, then
// (withGelu) gradIn *= gelu'(z). The parameter gradients are ln_parameter_gradients'.
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void layer_norm_backward(__global const float* gradOut, const int go, __global const float* xhat, const int xo,
                         __global const float* inv, const int io, __global const float* scale, const int so,
                         __global float* gradIn, const int gio, const int withGelu, __global const float* z, const int zo,
                         const int cols, const int rowsPerMember) {
    __local float scratch[WG];
    const int r = get_group_id(0);
    const int lid = get_local_id(0);
    const int member = r / rowsPerMember;
    const int base = r * cols;
    float s1 = 0.0f;
    float s2 = 0.0f;
    for (int j = lid; j < cols; j += WG) {
        float d = gradOut[go + base + j] * scale[so + member * cols + j];
        s1 += d;
        s2 += d * xhat[xo + base + j];
    }
    float meanD = group_sum(scratch, s1) / cols;
    float meanDX = group_sum(scratch, s2) / cols;
    float is = inv[io + r];
    for (int j = lid; j < cols; j += WG) {
        float d = gradOut[go + base + j] * scale[so + member * cols + j];
        float g = is * (d - meanD - xhat[xo + base + j] * meanDX);
        if (withGelu) g *= gelu_derivative(z[zo + base + j]);
        gradIn[gio + base + j] = g;
    }
}

// One work-item per (member, column): gradScale += Σ_rows gradOut ⊙ xhat, gradBias += Σ_rows gradOut (rows in order).
__kernel void ln_parameter_gradients(__global const float* gradOut, const int go, __global const float* xhat, const int xo,
                                     __global float* gradScale, const int gso, __global float* gradBias, const int gbo,
                                     const int members, const int rowsPerMember, const int cols) {
    int i = get_global_id(0);
    if (i >= members * cols) return;
    int member = i / cols;
    int j = i - member * cols;
    int first = member * rowsPerMember;
    if (gso >= 0) {
        float s = gradScale[gso + i];
        for (int r = first; r < first + rowsPerMember; r++) s += gradOut[go + r * cols + j] * xhat[xo + r * cols + j];
        gradScale[gso + i] = s;
    }
    if (gbo >= 0) {
        float b = gradBias[gbo + i];
        for (int r = first; r < first + rowsPerMember; r++) b += gradOut[go + r * cols + j];
        gradBias[gbo + i] = b;
    }
}

// One work-item per (member, column): out[member, j] (+)= Σ of the member's rows, in row order.
__kernel void column_sums(__global const float* x, const int xo, __global float* out, const int oo,
                          const int members, const int rowsPerMember, const int cols, const int accumulate) {
    int i = get_global_id(0);
    if (i >= members * cols) return;
    int member = i / cols;
    int j = i - member * cols;
    int first = member * rowsPerMember;
    float s = accumulate ? out[oo + i] : 0.0f;
    for (int r = first; r < first + rowsPerMember; r++) s += x[xo + r * cols + j];
    out[oo + i] = s;
}

// ------------------------------------------------------------------ optimiser

// Adam (optax semantics, epsilon outside the square root); the host passes the float32 constants Kernels.adam uses.
__kernel void adam(__global float* p, const int po, __global const float* g, const int go, __global float* m, const int mo,
                   __global float* v, const int vo, const int n, const float b1, const float b2, const float oneMinusB1,
                   const float oneMinusB2, const float bc1, const float bc2, const float e, const float rate) {
    int i = get_global_id(0);
    if (i >= n) return;
    float gi = g[go + i];
    float mi = b1 * m[mo + i] + oneMinusB1 * gi;
    float vi = b2 * v[vo + i] + oneMinusB2 * (gi * gi);
    m[mo + i] = mi;
    v[vo + i] = vi;
    p[po + i] -= rate * (mi / bc1) / (sqrt(vi / bc2) + e);
}

// target = keep · target + tau · source
__kernel void polyak(__global float* t, const int to, __global const float* s, const int so, const int n,
                     const float keep, const float tau) {
    int i = get_global_id(0);
    if (i < n) t[to + i] = keep * t[to + i] + tau * s[so + i];
}

// First pass of Σ x²: work-group g sums the elements g·WG + lid, + groups·WG, ... into partial[g].
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void sum_squares_partial(__global const float* x, const int xo, const int n, __global float* partial) {
    __local float scratch[WG];
    int stride = get_num_groups(0) * WG;
    float s = 0.0f;
    for (int i = get_global_id(0); i < n; i += stride) {
        float v = x[xo + i];
        s += v * v;
    }
    float total = group_sum(scratch, s);
    if (get_local_id(0) == 0) partial[get_group_id(0)] = total;
}

// Second pass: one work-group; out[oo] = Σ partial[0, count) (when add, out[oo] += it).
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void sum_partials(__global const float* partial, const int count, __global float* out, const int oo, const int add) {
    __local float scratch[WG];
    float s = 0.0f;
    for (int i = get_local_id(0); i < count; i += WG) s += partial[i];
    float total = group_sum(scratch, s);
    if (get_local_id(0) == 0) out[oo] = add ? out[oo] + total : total;
}

// ------------------------------------------------------------------ the loss stage (TensorOps' loss-stage operations)
//
// Small: a few values per batch row. The reducing ones run as one work-group that strides over the batch and sums
// by a tree; the host reads their results (the `stats` slots) once per training step.

// nextQ[i] = min or mean over the members of nextQs[j·B + i]; targetQ[i] = r[i] + discount · m[i] · nextQ[i]
__kernel void td_target(__global const float* nextQs, const int nqo, const int count, const int b, const int useMin,
                        __global const float* rewards, const int ro, __global const float* masks, const int mo, const float discount,
                        __global float* nextQ, const int nq, __global float* targetQ, const int tq) {
    int i = get_global_id(0);
    if (i >= b) return;
    float agg = useMin ? INFINITY : 0.0f;
    for (int j = 0; j < count; j++) {
        float q = nextQs[nqo + j * b + i];
        agg = useMin ? fmin(agg, q) : agg + q / count;
    }
    nextQ[nq + i] = agg;
    targetQ[tq + i] = rewards[ro + i] + discount * masks[mo + i] * agg;
}

// gradient = scale · (p − t) with t repeated every tn values; stats[so] = Σ (p − t)²
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void squared_error_gradient(__global const float* p, const int po, const int n, __global const float* t, const int to, const int tn,
                            const float scale, __global float* grad, const int go, __global float* stats, const int so) {
    __local float scratch[WG];
    float s = 0.0f;
    for (int i = get_local_id(0); i < n; i += WG) {
        float diff = p[po + i] - t[to + i % tn];
        s += diff * diff;
        grad[go + i] = scale * diff;
    }
    float total = group_sum(scratch, s);
    if (get_local_id(0) == 0) stats[so] = total;
}

// stats[so] = Σ x, stats[so + 1] = max x, stats[so + 2] = min x
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void sum_max_min(__global const float* x, const int xo, const int n, __global float* stats, const int so) {
    __local float scratch[WG];
    float s = 0.0f;
    float hi = -INFINITY;
    float lo = INFINITY;
    for (int i = get_local_id(0); i < n; i += WG) {
        float v = x[xo + i];
        s += v;
        hi = fmax(hi, v);
        lo = fmin(lo, v);
    }
    float total = group_sum(scratch, s);
    float largest = group_max(scratch, hi);
    float smallest = -group_max(scratch, -lo);
    if (get_local_id(0) == 0) {
        stats[so] = total;
        stats[so + 1] = largest;
        stats[so + 2] = smallest;
    }
}

// The Q term: qπ[i] = Σ_j q[j·B + i] / count, λ = normalize ? 1 / mean|qπ| : 1; gradQ[all] = −weight · λ / (count · B);
// stats[so] = −λ · mean qπ, stats[so + 1] = mean qπ
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void q_loss_gradient(__global const float* q, const int qo, const int count, const int b, const int normalize, const float weight,
                     __global float* gradQ, const int go, __global float* stats, const int so) {
    __local float scratch[WG];
    float s = 0.0f;
    float a = 0.0f;
    for (int i = get_local_id(0); i < b; i += WG) {
        float qpi = 0.0f;
        for (int j = 0; j < count; j++) qpi += q[qo + j * b + i] / count;
        s += qpi;
        a += fabs(qpi);
    }
    float mean = group_sum(scratch, s) / b;
    float meanAbs = group_sum(scratch, a) / b;
    float lambda = normalize ? 1.0f / meanAbs : 1.0f;
    float g = -weight * lambda / ((float) count * b);
    for (int i = get_local_id(0); i < count * b; i += WG) gradQ[go + i] = g;
    if (get_local_id(0) == 0) {
        stats[so] = -lambda * mean;
        stats[so + 1] = mean;
    }
}

// gradient[i, c] = scale · (a − teacher) + (−1 ≤ a ≤ 1 ? Σ_j inputGrad[j·B + i, firstCol + c] : 0); stats[so] = Σ (a − teacher)²
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void actor_action_gradient(__global const float* inputGrad, const int igo, const int width, const int firstCol, const int count,
                           const int b, const int d, __global const float* actions, const int ao, __global const float* teacher, const int to,
                           const float scale, __global float* grad, const int go, __global float* stats, const int so) {
    __local float scratch[WG];
    float s = 0.0f;
    for (int idx = get_local_id(0); idx < b * d; idx += WG) {
        int i = idx / d;
        int c = idx - i * d;
        float q = 0.0f;
        for (int j = 0; j < count; j++) q += inputGrad[igo + (j * b + i) * width + firstCol + c];
        float a = actions[ao + idx];
        float diff = a - teacher[to + idx];
        s += diff * diff;
        grad[go + idx] = scale * diff + ((a >= -1.0f && a <= 1.0f) ? q : 0.0f);
    }
    float total = group_sum(scratch, s);
    if (get_local_id(0) == 0) stats[so] = total;
}
