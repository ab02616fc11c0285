package org.fqlspark.tensor;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.dnnl.global.dnnl;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Row-major single-precision GEMM through oneDNN's {@code dnnl_sgemm} on native addresses (no copies). oneDNN
 * JIT-compiles its kernels for the instruction set it finds at run time (AVX-512, AVX2, ...), whatever the
 * machine's {@code OPENBLAS_CORETYPE}, so this is the CPU backend's GEMM wherever the library loads. On FQL's shapes
 * on a 2-core AVX-512 machine it reached 257 GFLOP/s against 118 (47 without the OpenBLAS overrides) for ND4J's
 * bundled OpenBLAS 0.3.19; in the agent's profile on a loaded machine, 110 ms of GEMM per step against 500 ms
 * (BENCHMARKS.md).
 *
 * <p>{@link #available()} is false where the native library cannot be loaded (another platform, a stripped jar):
 * callers then fall back to ND4J's GEMM. Instances are not thread-safe (they reuse three pointer objects);
 * the native routine is.
 */
final class DnnlGemm {

    private static final String UNAVAILABLE;
    private static final String ISA;

    static {
        String problem = null;
        String isa = "";
        if (Boolean.getBoolean("fql.noDnnl")) {
            problem = "disabled by -Dfql.noDnnl";
        } else if (BackendGuard.cudaBackendPresent()) {
            problem = "the CUDA backend holds tensors in device memory";
        } else {
            try {
                // ND4J's natives first: libdnnl then binds to the libgomp already loaded with them (the shaded jar
                // keeps one copy, see fql-jobs/pom.xml), and both share one OpenMP runtime.
                Nd4j.getBackend();
                Loader.load(dnnl.class);
                isa = isaName(dnnl.dnnl_get_effective_cpu_isa());
            } catch (Throwable t) {
                problem = t.toString();
            }
        }
        UNAVAILABLE = problem;
        ISA = isa;
    }

    /** A FloatPointer whose address is set per call, so a GEMM allocates nothing. */
    private static final class Address extends FloatPointer {
        Address() {
            super((Pointer) null);
        }

        Address at(long a) {
            address = a;
            return this;
        }
    }

    /**
     * Products below this many multiply-adds run on one OpenMP thread: waking a second thread costs more than it
     * saves (a batch-1 action, five matrix-vector products, measured 50 µs on one thread against 130–150 µs on two
     * on a loaded 2-core machine), and the FQL step's thin products (256x512x8, 256x512x1) gain nothing from it.
     */
    static final long SINGLE_THREAD_MAX_MACS = 1L << 22;

    /** The OpenMP threads larger products use: {@code OMP_NUM_THREADS} when set, else the processors the JVM sees. */
    private static final int MAX_THREADS = ompThreads();

    /** The OpenMP thread count last set on each calling thread (an OpenMP setting is per thread). */
    private static final ThreadLocal<int[]> THREADS_SET = ThreadLocal.withInitial(() -> new int[] {-1});

    private final Address a = new Address();
    private final Address b = new Address();
    private final Address c = new Address();

    static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why oneDNN is not used, or null when it is. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** The instruction set oneDNN's JIT targets on this processor, e.g. {@code avx512_core_bf16}. */
    static String isa() {
        return ISA;
    }

    /**
     * {@code C = op(A) · op(B) + beta · C} on row-major matrices at native addresses: {@code op(A)} is
     * {@code m × k}, {@code op(B)} is {@code k × n}, and each leading dimension is the stored row length.
     */
    void sgemm(boolean transA, boolean transB, int m, int n, int k,
               long addressA, int lda, long addressB, int ldb, float beta, long addressC, int ldc) {
        int threads = (long) m * n * k <= SINGLE_THREAD_MAX_MACS ? 1 : MAX_THREADS;
        int[] set = THREADS_SET.get();
        if (set[0] != threads) {
            // oneDNN shares ND4J's libgomp (see the static block), so ND4J's call sets oneDNN's OpenMP threads
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
            set[0] = threads;
        }
        int status = dnnl.dnnl_sgemm((byte) (transA ? 'T' : 'N'), (byte) (transB ? 'T' : 'N'), m, n, k, 1f,
                a.at(addressA), lda, b.at(addressB), ldb, beta, c.at(addressC), ldc);
        if (status != dnnl.dnnl_success) {
            throw new IllegalStateException("dnnl_sgemm failed with status " + status + " (m " + m + ", n " + n + ", k " + k + ")");
        }
    }

    private static int ompThreads() {
        int cores = Runtime.getRuntime().availableProcessors();
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp != null) {
            try {
                return Math.max(1, Integer.parseInt(omp.trim()));
            } catch (NumberFormatException e) {
                return cores;
            }
        }
        return cores;
    }

    private static String isaName(int isa) {
        if (isa == dnnl.dnnl_cpu_isa_avx512_core_amx) return "avx512_core_amx";
        if (isa == dnnl.dnnl_cpu_isa_avx512_core_bf16) return "avx512_core_bf16";
        if (isa == dnnl.dnnl_cpu_isa_avx512_core_vnni) return "avx512_core_vnni";
        if (isa == dnnl.dnnl_cpu_isa_avx512_core) return "avx512_core";
        if (isa == dnnl.dnnl_cpu_isa_avx2_vnni) return "avx2_vnni";
        if (isa == dnnl.dnnl_cpu_isa_avx2) return "avx2";
        if (isa == dnnl.dnnl_cpu_isa_avx) return "avx";
        if (isa == dnnl.dnnl_cpu_isa_sse41) return "sse41";
        return "isa " + isa;
    }
}
