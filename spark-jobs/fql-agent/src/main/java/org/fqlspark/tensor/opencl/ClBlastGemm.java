package org.fqlspark.tensor.opencl;

import java.lang.reflect.Field;

import org.bytedeco.opencl._cl_command_queue;
import org.bytedeco.opencl._cl_mem;
import org.jocl.NativePointerObject;
import org.jocl.blast.CLBlast;
import org.jocl.blast.CLBlastLayout;
import org.jocl.blast.CLBlastStatusCode;
import org.jocl.blast.CLBlastTranspose;

/**
 * The OpenCL backend's GEMM through CLBlast ({@code org.jocl:jocl-blast}, which bundles {@code libclblast} for
 * linux-x86_64). CLBlast's Java binding takes JOCL's handle classes, while the backend's context, queue and buffers come
 * from the bytedeco preset; both are the same OpenCL objects, so each handle is handed over by its address (JOCL keeps
 * it in a private field that its own native code writes). Calls enqueue on the backend's in-order queue and do not wait.
 * CLBlast compiles its kernels for a device on first use (seconds; PoCL then caches them on disk).
 */
final class ClBlastGemm {

    /** The GEMM implementations the backend can run: {@code fql.opencl.gemm} picks one (default {@link #AUTO}). */
    static final String AUTO = "auto";
    static final String CLBLAST = "clblast";
    static final String TILED = "tiled";
    static final String PROPERTY = "fql.opencl.gemm";

    private static final Field NATIVE_POINTER;
    private static final String UNAVAILABLE;

    static {
        Field f = null;
        String why = null;
        try {
            f = NativePointerObject.class.getDeclaredField("nativePointer");
            f.setAccessible(true);
            // loads JOCL's and CLBlast's native libraries (libclblast needs libOpenCL.so.1: the preset's loader, already
            // loaded by the runtime, answers to that name)
            CLBlast.setExceptionsEnabled(false);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            why = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        NATIVE_POINTER = f;
        UNAVAILABLE = why;
    }

    private final org.jocl.cl_command_queue queue = new org.jocl.cl_command_queue();

    private ClBlastGemm(_cl_command_queue queue) {
        wrap(this.queue, queue.address());
    }

    /** Why CLBlast cannot run in this JVM, or null when it can. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * The GEMM {@code fql.opencl.gemm} asks for ({@code auto}, {@code clblast} or {@code tiled}): CLBlast on
     * {@code queue}, or null for the backend's own tiled kernel. {@code auto} takes CLBlast where it loads; an
     * explicit {@code clblast} that cannot load is an error naming the property and the reason.
     */
    static ClBlastGemm select(_cl_command_queue queue) {
        String wanted = System.getProperty(PROPERTY, AUTO).trim().toLowerCase(java.util.Locale.ROOT);
        switch (wanted) {
            case TILED:
                return null;
            case AUTO:
                return UNAVAILABLE == null ? new ClBlastGemm(queue) : null;
            case CLBLAST:
                if (UNAVAILABLE != null) {
                    throw new IllegalStateException("-D" + PROPERTY + "=clblast: CLBlast cannot run here (" + UNAVAILABLE + ")");
                }
                return new ClBlastGemm(queue);
            default:
                throw new IllegalArgumentException("-D" + PROPERTY + " must be auto, clblast or tiled, was '" + wanted + "'");
        }
    }

    /**
     * {@code C_i = op(A_i) · op(B_i) + beta · C_i} for {@code batch} members, row-major; member {@code i} of each
     * operand starts {@code i · stride} elements after its {@code offset} (a stride of 0 shares the operand).
     */
    void sgemm(int batch, boolean transposeA, boolean transposeB, int m, int n, int k,
               _cl_mem a, long aOffset, int lda, long aStride, _cl_mem b, long bOffset, int ldb, long bStride,
               float beta, _cl_mem c, long cOffset, int ldc, long cStride) {
        int ta = transposeA ? CLBlastTranspose.CLBlastTransposeYes : CLBlastTranspose.CLBlastTransposeNo;
        int tb = transposeB ? CLBlastTranspose.CLBlastTransposeYes : CLBlastTranspose.CLBlastTransposeNo;
        int status = batch == 1
                ? CLBlast.CLBlastSgemm(CLBlastLayout.CLBlastLayoutRowMajor, ta, tb, m, n, k, 1f, mem(a), aOffset, lda,
                        mem(b), bOffset, ldb, beta, mem(c), cOffset, ldc, queue, null)
                : CLBlast.CLBlastSgemmStridedBatched(CLBlastLayout.CLBlastLayoutRowMajor, ta, tb, m, n, k, 1f, mem(a), aOffset,
                        lda, aStride, mem(b), bOffset, ldb, bStride, beta, mem(c), cOffset, ldc, cStride, batch, queue, null);
        if (status != CLBlastStatusCode.CLBlastSuccess) {
            throw new IllegalStateException("CLBlast sgemm (" + batch + " × " + m + "x" + k + " · " + k + "x" + n + ", transposes "
                    + transposeA + "/" + transposeB + ") failed: " + CLBlastStatusCode.stringFor(status) + " (" + status + ")");
        }
    }

    /** JOCL's handle for one of the backend's buffers: the same OpenCL object, by address (a small Java object per call). */
    private static org.jocl.cl_mem mem(_cl_mem mem) {
        return wrap(new org.jocl.cl_mem(), mem.address());
    }

    private static <T extends NativePointerObject> T wrap(T handle, long address) {
        try {
            NATIVE_POINTER.setLong(handle, address);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot hand an OpenCL handle to CLBlast", e);
        }
        return handle;
    }
}
