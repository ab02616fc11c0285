package org.fqlspark.tensor.opencl;

import static org.bytedeco.opencl.global.OpenCL.CL_FALSE;
import static org.bytedeco.opencl.global.OpenCL.CL_TRUE;
import static org.bytedeco.opencl.global.OpenCL.clEnqueueNDRangeKernel;
import static org.bytedeco.opencl.global.OpenCL.clEnqueueReadBuffer;
import static org.bytedeco.opencl.global.OpenCL.clEnqueueWriteBuffer;
import static org.bytedeco.opencl.global.OpenCL.clFinish;
import static org.bytedeco.opencl.global.OpenCL.clSetKernelArg;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.opencl._cl_event;
import org.bytedeco.opencl._cl_kernel;
import org.bytedeco.opencl._cl_mem;
import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TensorOps;

/**
 * {@link TensorOps} on an OpenCL device: every operation is a kernel of {@code fql_kernels.cl} (GEMM included: a
 * tiled kernel of our own), tensors live in device buffers, and nothing waits on the device except what hands values
 * to the host ({@link #download}, {@link #sumOfSquares}). Uploads are asynchronous: the values are first copied into
 * host staging memory that stays untouched until the next wait, so the caller's array may change at once.
 *
 * <p>It counts what a training step costs the host (see {@link Counters}): kernel launches, host-to-device and
 * device-to-host copies and blocking waits; {@code fql bench --backend opencl} prints them per step.
 *
 * <p>One context, queue and compiled program per device and JVM ({@link OpenClRuntime}), shared by all instances.
 * An instance is not thread-safe (it owns kernel objects whose arguments it sets): one per training thread, like the
 * other backends.
 */
public final class OpenClTensorOps implements TensorOps {

    /** Device memory of one allocation; views share it. Released by a cleaner when no tensor refers to it. */
    static final class Storage {
        final _cl_mem mem;
        final long size;

        Storage(OpenClRuntime rt, long size) {
            this.size = size;
            this.mem = rt.allocate(this, size);
        }
    }

    /** A row-major {@code rows × cols} matrix at element {@code offset} of a device buffer. */
    public static final class ClTensor implements Tensor {
        final Storage storage;
        final int offset;
        private final int rows;
        private final int cols;

        ClTensor(Storage storage, int offset, int rows, int cols) {
            this.storage = storage;
            this.offset = offset;
            this.rows = rows;
            this.cols = cols;
        }

        @Override
        public int rows() {
            return rows;
        }

        @Override
        public int cols() {
            return cols;
        }
    }

    /**
     * What the host did so far: kernel launches, host-to-device copies ({@code uploads}), device-to-host copies
     * ({@code downloads}) and calls that blocked until the device finished ({@code waits}: every download, and
     * nothing else unless staging memory ran out).
     */
    public record Counters(long launches, long uploads, long downloads, long waits) {
        public Counters minus(Counters o) {
            return new Counters(launches - o.launches, uploads - o.uploads, downloads - o.downloads, waits - o.waits);
        }
    }

    /** Partial sums of the first pass of a sum of squares (the second pass is one work-group). */
    private static final int REDUCE_GROUPS = 64;
    /** Staging memory for uploads beyond which the host waits for the device rather than allocate more. */
    private static final long MAX_STAGING_FLOATS = 64L << 20;

    private final OpenClRuntime rt;
    private final Map<String, _cl_kernel> kernels = new HashMap<>();
    private final IntPointer intArg = new IntPointer(1);
    private final org.bytedeco.javacpp.FloatPointer floatArg = new org.bytedeco.javacpp.FloatPointer(1);
    private final PointerPointer<_cl_mem> memArg = new PointerPointer<>(1);
    private final SizeTPointer global = new SizeTPointer(3);
    private final SizeTPointer local = new SizeTPointer(3);
    private final ClTensor partials;
    private final ClTensor scalar;

    private FloatPointer staging = new FloatPointer(1L << 16);
    private long stagingUsed;
    private long stagingRetired;
    private final List<FloatPointer> retired = new ArrayList<>();
    private FloatPointer readBack = new FloatPointer(1L << 12);

    /** The system property that picks the GEMM: {@code auto} (CLBlast where it loads), {@code clblast} or {@code tiled}. */
    public static final String GEMM_PROPERTY = ClBlastGemm.PROPERTY;

    /** CLBlast for GEMM, or null for the tiled kernel of {@code fql_kernels.cl} ({@code -Dfql.opencl.gemm}, see {@link ClBlastGemm}). */
    private final ClBlastGemm clblast;

    private long launches;
    private long uploads;
    private long downloads;
    private long waits;

    /** On the device an explicit {@code --backend opencl} uses ({@link OpenClDevices#preferred()}). */
    public OpenClTensorOps() {
        this(OpenClDevices.preferred());
    }

    private static final java.util.concurrent.atomic.AtomicLong CREATED = new java.util.concurrent.atomic.AtomicLong();

    public OpenClTensorOps(OpenClDevices.Device device) {
        this.rt = OpenClRuntime.of(device);
        this.clblast = ClBlastGemm.select(rt.queue);
        CREATED.incrementAndGet();
        // the kernel objects go with the instance (the map, not the instance, is what the action holds)
        Map<String, _cl_kernel> own = kernels;
        OpenClRuntime.CLEANER.register(this, () -> own.values().forEach(org.bytedeco.opencl.global.OpenCL::clReleaseKernel));
        this.partials = (ClTensor) zeros(1, REDUCE_GROUPS);
        this.scalar = (ClTensor) zeros(1, 1);
    }

    /** Instances made in this JVM so far (tests use it to see that a job really ran on OpenCL). */
    public static long instancesCreated() {
        return CREATED.get();
    }

    /** The device this instance runs on. */
    public OpenClDevices.Device device() {
        return rt.device;
    }

    @Override
    public String deviceName() {
        return rt.device.name();
    }

    public Counters counters() {
        return new Counters(launches, uploads, downloads, waits);
    }

    @Override
    public Map<String, Long> deviceCounters() {
        Map<String, Long> m = new java.util.LinkedHashMap<>();
        m.put(LAUNCHES, launches);
        m.put(UPLOADS, uploads);
        m.put(DOWNLOADS, downloads);
        m.put(WAITS, waits);
        return m;
    }

    /** The names of {@link #deviceCounters()}. */
    public static final String LAUNCHES = "kernel launches";
    public static final String UPLOADS = "host-to-device copies";
    public static final String DOWNLOADS = "device-to-host copies";
    public static final String WAITS = "blocking waits";

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "OpenCL on %s; kernels compiled in %.1f s [%s]; GEMM: %s", rt.device.describe(), rt.buildSeconds,
                rt.buildOptions, gemmName());
    }

    /** Which GEMM this instance runs: CLBlast, or the tiled kernel (with why, where CLBlast was wanted but cannot load). */
    public String gemmName() {
        if (clblast != null) {
            return "CLBlast 1.5.2 (jocl-blast)";
        }
        String tiled = String.format(Locale.ROOT, "own tiled kernel (%dx%d tiles, %dx%d per work-item)", OpenClRuntime.TS, OpenClRuntime.TS,
                OpenClRuntime.RT, OpenClRuntime.RT);
        String why = ClBlastGemm.unavailableReason();
        return why == null ? tiled + ", -D" + ClBlastGemm.PROPERTY + "=tiled" : tiled + "; CLBlast unavailable: " + why;
    }

    private static ClTensor t(Tensor t) {
        return (ClTensor) t;
    }

    // ------------------------------------------------------------------ memory

    @Override
    public Tensor zeros(int rows, int cols) {
        long n = (long) rows * cols;
        if (rows < 0 || cols < 0 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor of " + rows + " x " + cols);
        }
        ClTensor out = new ClTensor(new Storage(rt, n), 0, rows, cols);
        fill(out, 0f);
        return out;
    }

    @Override
    public Tensor view(Tensor flat, long offset, int rows, int cols) {
        ClTensor f = t(flat);
        TensorOps.checkView(f.size(), offset, rows, cols);
        return new ClTensor(f.storage, f.offset + (int) offset, rows, cols);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        ClTensor d = t(dst);
        if (src.length != d.size()) {
            throw new IllegalArgumentException("upload of " + src.length + " values into a tensor of " + d.size());
        }
        if (src.length == 0) {
            return;
        }
        FloatPointer stage = stage(src.length);
        stage.put(src, 0, src.length);
        // a pointer at the staged values with position 0 (getPointer keeps the position, which a void* argument would add again)
        stage = stage.getPointer(stage.position()).position(0);
        OpenClRuntime.check(clEnqueueWriteBuffer(rt.queue, d.storage.mem, CL_FALSE, 4L * d.offset, 4L * src.length, stage, 0,
                (_cl_event) null, (_cl_event) null), "clEnqueueWriteBuffer");
        uploads++;
    }

    /**
     * {@code n} floats of staging memory the device may read until the next wait: the queue is in order, so once a
     * blocking call returns every earlier upload has been read and the memory can be reused.
     */
    private FloatPointer stage(int n) {
        if (stagingUsed + n > staging.capacity()) {
            if (stagingRetired + staging.capacity() + n > MAX_STAGING_FLOATS) {
                finish();
            } else {
                retired.add(staging);
                stagingRetired += staging.capacity();
                staging = new FloatPointer(Math.max(2 * staging.capacity(), n));
                stagingUsed = 0;
            }
        }
        if (stagingUsed + n > staging.capacity()) {
            staging.close();
            staging = new FloatPointer(Math.max(2 * staging.capacity(), n));
            stagingUsed = 0;
        }
        staging.position(stagingUsed);
        stagingUsed += n;
        return staging;
    }

    /** After a blocking call: every command enqueued so far has completed, so staging memory is free again. */
    private void waited() {
        waits++;
        stagingUsed = 0;
        for (FloatPointer p : retired) {
            p.close();
        }
        retired.clear();
        stagingRetired = 0;
    }

    /** Blocks until the device has finished everything enqueued so far. */
    public void finish() {
        OpenClRuntime.check(clFinish(rt.queue), "clFinish");
        waited();
    }

    @Override
    public void download(Tensor src, float[] dst) {
        ClTensor s = t(src);
        int n = Math.toIntExact(s.size());
        if (dst.length < n) {
            throw new IllegalArgumentException("download of " + n + " values into an array of " + dst.length);
        }
        if (n == 0) {
            return;
        }
        if (readBack.capacity() < n) {
            readBack.close();
            readBack = new FloatPointer(Math.max(n, 2 * readBack.capacity()));
        }
        readBack.position(0);
        OpenClRuntime.check(clEnqueueReadBuffer(rt.queue, s.storage.mem, CL_TRUE, 4L * s.offset, 4L * n, readBack, 0,
                (_cl_event) null, (_cl_event) null), "clEnqueueReadBuffer");
        downloads++;
        waited();
        readBack.get(dst, 0, n);
    }

    // ------------------------------------------------------------------ kernel launches

    private _cl_kernel kernel(String name) {
        return kernels.computeIfAbsent(name, rt::kernel);
    }

    private _cl_kernel k;
    private int argIndex;

    private OpenClTensorOps start(String name) {
        k = kernel(name);
        argIndex = 0;
        return this;
    }

    /** The tensor's buffer and element offset (two arguments). */
    private OpenClTensorOps buf(Tensor tensor) {
        ClTensor c = t(tensor);
        memArg.put(0, c.storage.mem);
        OpenClRuntime.check(clSetKernelArg(k, argIndex++, 8, memArg), "clSetKernelArg");
        return i(c.offset);
    }

    /** The tensor's buffer alone (one argument; the kernel indexes it from 0 or takes the offset separately). */
    private OpenClTensorOps mem(Tensor tensor) {
        memArg.put(0, t(tensor).storage.mem);
        OpenClRuntime.check(clSetKernelArg(k, argIndex++, 8, memArg), "clSetKernelArg");
        return this;
    }

    /** A tensor that may be absent: its buffer and offset, or {@code fallback}'s buffer and offset −1. */
    private OpenClTensorOps optional(Tensor tensor, Tensor fallback) {
        if (tensor != null) {
            return buf(tensor);
        }
        memArg.put(0, t(fallback).storage.mem);
        OpenClRuntime.check(clSetKernelArg(k, argIndex++, 8, memArg), "clSetKernelArg");
        return i(-1);
    }

    private OpenClTensorOps i(int value) {
        intArg.put(0, value);
        OpenClRuntime.check(clSetKernelArg(k, argIndex++, 4, intArg), "clSetKernelArg");
        return this;
    }

    private OpenClTensorOps f(float value) {
        floatArg.put(0, value);
        OpenClRuntime.check(clSetKernelArg(k, argIndex++, 4, floatArg), "clSetKernelArg");
        return this;
    }

    /** One work-item per element of {@code n} (the runtime picks the work-group size). */
    private void elements(long n) {
        if (n <= 0) {
            return;
        }
        global.put(0, n);
        enqueue(1, false);
    }

    /** {@code groups} work-groups of {@link OpenClRuntime#WG} work-items (one per row, or reduction groups). */
    private void groups(long groups) {
        if (groups <= 0) {
            return;
        }
        global.put(0, groups * OpenClRuntime.WG);
        local.put(0, OpenClRuntime.WG);
        enqueue(1, true);
    }

    private void enqueue(int dims, boolean withLocal) {
        OpenClRuntime.check(clEnqueueNDRangeKernel(rt.queue, k, dims, null, global, withLocal ? local : null, 0,
                (PointerPointer<?>) null, (PointerPointer<?>) null), "clEnqueueNDRangeKernel");
        launches++;
    }

    // ------------------------------------------------------------------ moving values

    @Override
    public void fill(Tensor dst, float value) {
        start("fill").buf(dst).i(Math.toIntExact(dst.size())).f(value).elements(dst.size());
    }

    @Override
    public void setColumn(Tensor dst, int col, float value) {
        if (col < 0 || col >= dst.cols()) {
            throw new IndexOutOfBoundsException("column " + col + " of a tensor with " + dst.cols());
        }
        start("set_column").buf(dst).i(dst.rows()).i(dst.cols()).i(col).f(value).elements(dst.rows());
    }

    @Override
    public void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor) {
        if (src.rows() != dst.rows() || firstCol < 0 || firstCol + src.cols() > dst.cols()) {
            throw new IllegalArgumentException("columns [" + firstCol + ", " + (firstCol + src.cols()) + ") of " + src.rows() + " rows into a "
                    + dst.rows() + "x" + dst.cols() + " tensor");
        }
        start("add_divided_to_columns").buf(dst).i(dst.cols()).i(firstCol).buf(src).i(src.rows()).i(src.cols()).f(divisor)
                .elements(src.size());
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (dst.size() < src.size()) {
            throw new IllegalArgumentException("copy of " + src.size() + " values into a tensor of " + dst.size());
        }
        start("copy").buf(src).buf(dst).i(Math.toIntExact(src.size())).elements(src.size());
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public void gemm(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c, float beta) {
        gemm(1, a, a.rows(), 0, transposeA, b, b.rows(), 0, transposeB, c, c.rows(), 0, beta);
    }

    @Override
    public void gemmStacked(int count, Tensor a, boolean sharedA, boolean transposeA, Tensor b, boolean transposeB, Tensor c) {
        if (count <= 0 || (!sharedA && a.rows() % count != 0) || b.rows() % count != 0 || c.rows() % count != 0) {
            throw new IllegalArgumentException("stacked gemm: rows " + a.rows() + ", " + b.rows() + ", " + c.rows()
                    + " do not split into " + count + " members");
        }
        int ar = sharedA ? a.rows() : a.rows() / count;
        int br = b.rows() / count;
        int cr = c.rows() / count;
        gemm(count, a, ar, sharedA ? 0 : ar * a.cols(), transposeA, b, br, br * b.cols(), transposeB, c, cr, cr * c.cols(), 0f);
    }

    /** {@code batch} products of members with {@code *Rows} rows each, {@code *Stride} elements apart. */
    private void gemm(int batch, Tensor a, int aRows, int aStride, boolean transposeA, Tensor b, int bRows, int bStride,
                      boolean transposeB, Tensor c, int cRows, int cStride, float beta) {
        int m = transposeA ? a.cols() : aRows;
        int k = transposeA ? aRows : a.cols();
        int kb = transposeB ? b.cols() : bRows;
        int n = transposeB ? bRows : b.cols();
        if (k != kb || cRows != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm shapes do not agree: op(a) " + m + "x" + k + ", op(b) " + kb + "x" + n
                    + ", c " + cRows + "x" + c.cols());
        }
        if (m == 0 || n == 0) {
            return;
        }
        if (clblast != null) {
            ClTensor ca = t(a);
            ClTensor cb = t(b);
            ClTensor cc = t(c);
            clblast.sgemm(batch, transposeA, transposeB, m, n, k, ca.storage.mem, ca.offset, a.cols(), aStride,
                    cb.storage.mem, cb.offset, b.cols(), bStride, beta, cc.storage.mem, cc.offset, c.cols(), cStride);
            launches++;   // one CLBlast call, counted as one launch: the kernels CLBlast enqueues inside it are not seen here
            return;
        }
        int tt = OpenClRuntime.TS / OpenClRuntime.RT;
        start("gemm").i(m).i(n).i(k)
                .buf(a).i(a.cols()).i(aStride).i(transposeA ? 1 : 0)
                .buf(b).i(b.cols()).i(bStride).i(transposeB ? 1 : 0)
                .buf(c).i(c.cols()).i(cStride).f(beta);
        global.put(0, (long) ((n + OpenClRuntime.TS - 1) / OpenClRuntime.TS) * tt);
        global.put(1, (long) ((m + OpenClRuntime.TS - 1) / OpenClRuntime.TS) * tt);
        global.put(2, batch);
        local.put(0, tt);
        local.put(1, tt);
        local.put(2, 1);
        enqueue(3, true);
    }

    // ------------------------------------------------------------------ layers

    /** Rows per member of a stack of {@code count}, refusing rows that do not split. */
    private static int memberRows(Tensor stacked, int count) {
        if (count <= 0 || stacked.rows() % count != 0) {
            throw new IllegalArgumentException(stacked.rows() + " rows do not split into " + count + " members");
        }
        return stacked.rows() / count;
    }

    private static void rowVector(Tensor v, int count, Tensor of, String what) {
        if (v.rows() != count || v.cols() != of.cols()) {
            throw new IllegalArgumentException(what + " is " + v.rows() + "x" + v.cols() + ", expected " + count + "x" + of.cols());
        }
    }

    @Override
    public void biasGelu(Tensor z, Tensor bias, Tensor out) {
        biasGelu(z, bias, out, 1);
    }

    @Override
    public void biasGeluStacked(int count, Tensor z, Tensor bias, Tensor out) {
        biasGelu(z, bias, out, count);
    }

    private void biasGelu(Tensor z, Tensor bias, Tensor out, int count) {
        int rowsPerMember = memberRows(z, count);
        rowVector(bias, count, z, "bias");
        start("bias_gelu").buf(z).buf(bias).optional(out, z).i(z.rows()).i(z.cols()).i(Math.max(1, rowsPerMember)).elements(z.size());
    }

    @Override
    public void addBias(Tensor z, Tensor bias) {
        biasGelu(z, bias, null, 1);
    }

    @Override
    public void addBiasStacked(int count, Tensor z, Tensor bias) {
        biasGelu(z, bias, null, count);
    }

    @Override
    public void geluBackward(Tensor grad, Tensor z) {
        start("gelu_backward").buf(grad).buf(z).i(Math.toIntExact(z.size())).elements(z.size());
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        rowVector(scale, 1, x, "LayerNorm scale");
        rowVector(bias, 1, x, "LayerNorm bias");
        start("layer_norm").buf(x).i(0).buf(scale).buf(scale).buf(bias).f(eps).buf(xhat).buf(invStd).buf(out)
                .i(x.cols()).i(Math.max(1, x.rows())).groups(x.rows());
    }

    @Override
    public void biasGeluLayerNorm(Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                  Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        biasGeluLayerNorm(1, z, bias, scale, lnBias, eps, xhat, invStd, out);
    }

    @Override
    public void biasGeluLayerNormStacked(int count, Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                         Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        biasGeluLayerNorm(count, z, bias, scale, lnBias, eps, xhat, invStd, out);
    }

    /** One kernel: bias, GELU and LayerNorm per row ({@code gelu} is not written: it is scratch the fused op skips). */
    private void biasGeluLayerNorm(int count, Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                   Tensor xhat, Tensor invStd, Tensor out) {
        int rowsPerMember = memberRows(z, count);
        rowVector(bias, count, z, "bias");
        rowVector(scale, count, z, "LayerNorm scale");
        rowVector(lnBias, count, z, "LayerNorm bias");
        start("layer_norm").buf(z).i(1).buf(bias).buf(scale).buf(lnBias).f(eps).buf(xhat).buf(invStd).buf(out)
                .i(z.cols()).i(Math.max(1, rowsPerMember)).groups(z.rows());
    }

    @Override
    public void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale,
                                  Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        layerNormBackward(1, gradOut, xhat, invStd, scale, null, gradIn, gradScale, gradBias);
    }

    @Override
    public void layerNormGeluBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                      Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        layerNormBackward(1, gradOut, xhat, invStd, scale, z, gradIn, gradScale, gradBias);
    }

    @Override
    public void layerNormGeluBackwardStacked(int count, Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                             Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        layerNormBackward(count, gradOut, xhat, invStd, scale, z, gradIn, gradScale, gradBias);
    }

    /**
     * The parameter gradients first (they read {@code gradOut}, which {@code gradIn} may be), then the input gradient
     * per row, times GELU' at {@code z} when given.
     */
    private void layerNormBackward(int count, Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                   Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        int rowsPerMember = memberRows(gradOut, count);
        rowVector(scale, count, gradOut, "LayerNorm scale");
        int cols = gradOut.cols();
        if (gradScale != null || gradBias != null) {
            if (gradScale != null) rowVector(gradScale, count, gradOut, "LayerNorm scale gradient");
            if (gradBias != null) rowVector(gradBias, count, gradOut, "LayerNorm bias gradient");
            start("ln_parameter_gradients").buf(gradOut).buf(xhat).optional(gradScale, scale).optional(gradBias, scale)
                    .i(count).i(rowsPerMember).i(cols).elements((long) count * cols);
        }
        start("layer_norm_backward").buf(gradOut).buf(xhat).buf(invStd).buf(scale).buf(gradIn).i(z != null ? 1 : 0)
                .buf(z != null ? z : gradOut).i(cols).i(Math.max(1, rowsPerMember)).groups(gradOut.rows());
    }

    @Override
    public void columnSums(Tensor x, Tensor out, boolean accumulate) {
        rowVector(out, 1, x, "column sums");
        start("column_sums").buf(x).buf(out).i(1).i(x.rows()).i(x.cols()).i(accumulate ? 1 : 0).elements(x.cols());
    }

    @Override
    public void columnSumsStacked(int count, Tensor x, Tensor out) {
        int rowsPerMember = memberRows(x, count);
        rowVector(out, count, x, "column sums");
        start("column_sums").buf(x).buf(out).i(count).i(rowsPerMember).i(x.cols()).i(0).elements((long) count * x.cols());
    }

    // ------------------------------------------------------------------ optimiser

    /** The float32 constants of {@code Kernels.adam}, computed the same way on the host. */
    @Override
    public void adam(Tensor params, Tensor grads, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, long step) {
        long n = params.size();
        if (grads.size() != n || m.size() != n || v.size() != n) {
            throw new IllegalArgumentException("adam over " + n + " parameters with " + grads.size() + " gradients and moments of "
                    + m.size() + ", " + v.size());
        }
        start("adam").buf(params).buf(grads).buf(m).buf(v).i(Math.toIntExact(n))
                .f((float) beta1).f((float) beta2).f((float) (1.0 - beta1)).f((float) (1.0 - beta2))
                .f((float) (1.0 - Math.pow(beta1, step))).f((float) (1.0 - Math.pow(beta2, step))).f((float) eps).f((float) lr)
                .elements(n);
    }

    @Override
    public void polyak(Tensor target, Tensor source, double tau) {
        if (source.size() != target.size()) {
            throw new IllegalArgumentException("polyak of " + source.size() + " values into " + target.size());
        }
        start("polyak").buf(target).buf(source).i(Math.toIntExact(target.size())).f((float) (1.0 - tau)).f((float) tau)
                .elements(target.size());
    }

    @Override
    public double sumOfSquares(Tensor x) {
        sumOfSquaresInto(x, scalar, 0, false);
        float[] out = new float[1];
        download(scalar, out);
        return out[0];
    }

    /** {@code out[slot] (+)= Σ x²} on the device: two launches, no wait. */
    private void sumOfSquaresInto(Tensor x, Tensor out, int slot, boolean add) {
        int n = Math.toIntExact(x.size());
        int groups = Math.max(1, Math.min(REDUCE_GROUPS, (n + OpenClRuntime.WG - 1) / OpenClRuntime.WG));
        start("sum_squares_partial").buf(x).i(n).mem(partials).groups(groups);
        start("sum_partials").mem(partials).i(groups).mem(out).i(t(out).offset + slot).i(add ? 1 : 0).groups(1);
    }

    // ------------------------------------------------------------------ the loss stage: kernels, no host round trip

    @Override
    public void copyColumns(Tensor src, int srcCol, Tensor dst, int dstCol, int width, boolean clip) {
        if (src.rows() != dst.rows() || srcCol < 0 || dstCol < 0 || width < 0 || srcCol + width > src.cols() || dstCol + width > dst.cols()) {
            throw new IllegalArgumentException("columns [" + srcCol + ", " + (srcCol + width) + ") of a " + src.rows() + "x" + src.cols()
                    + " tensor into columns [" + dstCol + ", " + (dstCol + width) + ") of a " + dst.rows() + "x" + dst.cols() + " one");
        }
        start("copy_columns").buf(src).i(src.cols()).i(srcCol).buf(dst).i(dst.cols()).i(dstCol).i(src.rows()).i(width).i(clip ? 1 : 0)
                .elements((long) src.rows() * width);
    }

    @Override
    public void tdTarget(int count, Tensor nextQs, boolean min, Tensor rewards, Tensor masks, double discount, Tensor nextQ, Tensor targetQ) {
        int b = targetQ.rows();
        if (count <= 0 || nextQs.rows() != (long) count * b || rewards.rows() != b || masks.rows() != b || nextQ.rows() != b) {
            throw new IllegalArgumentException(nextQs.rows() + " next values are not " + count + " members of " + b + " rows");
        }
        start("td_target").buf(nextQs).i(count).i(b).i(min ? 1 : 0).buf(rewards).buf(masks).f((float) discount).buf(nextQ).buf(targetQ)
                .elements(b);
    }

    @Override
    public void squaredErrorGradient(Tensor prediction, Tensor target, double weight, Tensor gradient, Tensor stats, int slot) {
        if (target.size() == 0 || prediction.size() % target.size() != 0 || prediction.cols() != target.cols()
                || gradient.size() != prediction.size()) {
            throw new IllegalArgumentException("prediction " + prediction.rows() + "x" + prediction.cols() + ", target " + target.rows() + "x"
                    + target.cols() + ", gradient " + gradient.rows() + "x" + gradient.cols() + " do not fit");
        }
        int n = Math.toIntExact(prediction.size());
        start("squared_error_gradient").buf(prediction).i(n).buf(target).i(Math.toIntExact(target.size())).f((float) (weight * 2.0 / n))
                .buf(gradient).mem(stats).i(slot(stats, slot, 1)).groups(1);
    }

    @Override
    public void sumMaxMin(Tensor x, Tensor stats, int slot) {
        start("sum_max_min").buf(x).i(Math.toIntExact(x.size())).mem(stats).i(slot(stats, slot, 3)).groups(1);
    }

    @Override
    public void qLossGradient(int count, Tensor q, boolean normalize, double weight, Tensor gradQ, Tensor stats, int slot) {
        if (count <= 0 || q.rows() % count != 0 || gradQ.size() != q.size()) {
            throw new IllegalArgumentException(q.rows() + " rows are not " + count + " members (gradient of " + gradQ.size() + ")");
        }
        start("q_loss_gradient").buf(q).i(count).i(q.rows() / count).i(normalize ? 1 : 0).f((float) weight).buf(gradQ)
                .mem(stats).i(slot(stats, slot, 2)).groups(1);
    }

    @Override
    public void actorActionGradient(int count, Tensor inputGradient, int firstCol, Tensor actions, Tensor teacher, double distillWeight,
                                    Tensor gradient, Tensor stats, int slot) {
        int b = actions.rows();
        int d = actions.cols();
        if (count <= 0 || inputGradient.rows() != (long) count * b || firstCol < 0 || firstCol + d > inputGradient.cols()
                || teacher.rows() != b || teacher.cols() != d || gradient.rows() != b || gradient.cols() != d) {
            throw new IllegalArgumentException("action gradient: actions " + b + "x" + d + ", input gradient " + inputGradient.rows() + "x"
                    + inputGradient.cols() + " from column " + firstCol + ", " + count + " members");
        }
        start("actor_action_gradient").buf(inputGradient).i(inputGradient.cols()).i(firstCol).i(count).i(b).i(d).buf(actions).buf(teacher)
                .f((float) (distillWeight * 2.0 / ((double) b * d))).buf(gradient).mem(stats).i(slot(stats, slot, 1)).groups(1);
    }

    @Override
    public void sumOfSquares(Tensor x, Tensor stats, int slot) {
        sumOfSquaresInto(x, stats, slot(stats, slot, 1) - t(stats).offset, false);
    }

    /** The absolute element index of {@code stats[slot]}, refusing slots past its end. */
    private static int slot(Tensor stats, int slot, int width) {
        if (stats.rows() != 1 || slot < 0 || slot + width > stats.cols()) {
            throw new IndexOutOfBoundsException("slots [" + slot + ", " + (slot + width) + ") of a " + stats.rows() + "x" + stats.cols()
                    + " stats tensor");
        }
        return t(stats).offset + slot;
    }
}
