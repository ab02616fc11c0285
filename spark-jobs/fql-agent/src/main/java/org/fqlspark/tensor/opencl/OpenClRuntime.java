package org.fqlspark.tensor.opencl;

import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_SINGLE_FP_CONFIG;
import static org.bytedeco.opencl.global.OpenCL.CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT;
import static org.bytedeco.opencl.global.OpenCL.CL_MEM_READ_WRITE;
import static org.bytedeco.opencl.global.OpenCL.CL_PROGRAM_BUILD_LOG;
import static org.bytedeco.opencl.global.OpenCL.CL_SUCCESS;
import static org.bytedeco.opencl.global.OpenCL.clBuildProgram;
import static org.bytedeco.opencl.global.OpenCL.clCreateBuffer;
import static org.bytedeco.opencl.global.OpenCL.clCreateCommandQueue;
import static org.bytedeco.opencl.global.OpenCL.clCreateContext;
import static org.bytedeco.opencl.global.OpenCL.clCreateKernel;
import static org.bytedeco.opencl.global.OpenCL.clCreateProgramWithSource;
import static org.bytedeco.opencl.global.OpenCL.clGetProgramBuildInfo;
import static org.bytedeco.opencl.global.OpenCL.clReleaseMemObject;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.opencl._cl_command_queue;
import org.bytedeco.opencl._cl_context;
import org.bytedeco.opencl._cl_device_id;
import org.bytedeco.opencl._cl_kernel;
import org.bytedeco.opencl._cl_mem;
import org.bytedeco.opencl._cl_program;

/**
 * One OpenCL context, one in-order command queue and the compiled kernels ({@code fql_kernels.cl}) per device and
 * JVM, shared by every {@link OpenClTensorOps} on that device: the program is compiled once, on first use (PoCL also
 * caches compiled kernels under {@code ~/.cache/pocl}). Enqueueing from several threads onto the one queue is safe;
 * kernel objects are not (their arguments are set before each launch), so each {@link OpenClTensorOps} creates its
 * own from the shared program.
 */
final class OpenClRuntime {

    /** Work-group size of the row and reduction kernels, and the GEMM tile; see the kernel file's header. */
    static final int WG = 64;
    static final int TS = 32;
    static final int TSK = 16;
    static final int RT = 2;

    private static final Map<String, OpenClRuntime> RUNTIMES = new HashMap<>();
    /** Releases device buffers and kernel objects whose Java owners became unreachable. */
    static final Cleaner CLEANER = Cleaner.create();

    final OpenClDevices.Device device;
    final _cl_device_id deviceId;
    final _cl_context context;
    final _cl_command_queue queue;
    final _cl_program program;
    final String buildOptions;
    final double buildSeconds;

    private OpenClRuntime(OpenClDevices.Device device) {
        this.device = device;
        this.deviceId = OpenClDevices.handle(device);
        long maxGroup = OpenClDevices.deviceSizeT(deviceId, CL_DEVICE_MAX_WORK_GROUP_SIZE);
        if (maxGroup < Math.max(WG, (TS / RT) * (TS / RT))) {
            throw new IllegalStateException(device.name() + " allows work-groups of " + maxGroup + " work-items; the kernels need "
                    + Math.max(WG, (TS / RT) * (TS / RT)));
        }
        IntPointer err = new IntPointer(1);
        PointerPointer<_cl_device_id> devices = new PointerPointer<>(1);
        devices.put(0, deviceId);
        this.context = clCreateContext(null, 1, devices, null, null, err);
        check(err.get(), "clCreateContext");
        this.queue = clCreateCommandQueue(context, deviceId, 0, err);
        check(err.get(), "clCreateCommandQueue");
        boolean correctlyRounded = (OpenClDevices.deviceLong(deviceId, CL_DEVICE_SINGLE_FP_CONFIG) & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
        this.buildOptions = "-cl-std=CL1.2 -DWG=" + WG + " -DTS=" + TS + " -DTSK=" + TSK + " -DRT=" + RT
                + (correctlyRounded ? " -cl-fp32-correctly-rounded-divide-sqrt" : "");
        long t0 = System.nanoTime();
        String source = source();
        BytePointer text = new BytePointer(source, StandardCharsets.UTF_8);
        PointerPointer<BytePointer> strings = new PointerPointer<>(1);
        strings.put(0, text);
        this.program = clCreateProgramWithSource(context, 1, strings, (SizeTPointer) null, err);   // null-terminated
        check(err.get(), "clCreateProgramWithSource");
        int rc = clBuildProgram(program, 1, devices, new BytePointer(buildOptions), null, null);
        if (rc != CL_SUCCESS) {
            throw new IllegalStateException("the OpenCL kernels did not compile on " + device.name() + " (" + errorName(rc) + "):\n"
                    + buildLog());
        }
        this.buildSeconds = (System.nanoTime() - t0) / 1e9;
    }

    /** The runtime of {@code device}, created (context, queue, compiled program) on first use. */
    static OpenClRuntime of(OpenClDevices.Device device) {
        String key = device.platformIndex() + ":" + device.deviceIndex();
        synchronized (RUNTIMES) {
            return RUNTIMES.computeIfAbsent(key, k -> new OpenClRuntime(device));
        }
    }

    private static String source() {
        try (InputStream in = OpenClRuntime.class.getResourceAsStream("fql_kernels.cl")) {
            if (in == null) {
                throw new IllegalStateException("fql_kernels.cl is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read fql_kernels.cl", e);
        }
    }

    private String buildLog() {
        SizeTPointer size = new SizeTPointer(1);
        clGetProgramBuildInfo(program, deviceId, CL_PROGRAM_BUILD_LOG, 0, null, size);
        BytePointer log = new BytePointer(size.get() + 1);
        clGetProgramBuildInfo(program, deviceId, CL_PROGRAM_BUILD_LOG, size.get(), log, null);
        return log.getString(StandardCharsets.UTF_8);
    }

    /** A new kernel object of the shared program (one per {@link OpenClTensorOps} and kernel name). */
    _cl_kernel kernel(String name) {
        IntPointer err = new IntPointer(1);
        _cl_kernel k = clCreateKernel(program, name, err);
        check(err.get(), "clCreateKernel(" + name + ")");
        return k;
    }

    /** A device buffer of {@code floats} values, released when {@code owner} becomes unreachable. */
    _cl_mem allocate(Object owner, long floats) {
        IntPointer err = new IntPointer(1);
        _cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(1, floats) * 4L, null, err);
        check(err.get(), "clCreateBuffer(" + floats * 4L + " bytes)");
        CLEANER.register(owner, () -> clReleaseMemObject(mem));
        return mem;
    }

    static void check(int rc, String what) {
        if (rc != CL_SUCCESS) {
            throw new IllegalStateException(what + " failed: " + errorName(rc));
        }
    }

    static String errorName(int rc) {
        return switch (rc) {
            case 0 -> "CL_SUCCESS";
            case -1 -> "CL_DEVICE_NOT_FOUND";
            case -2 -> "CL_DEVICE_NOT_AVAILABLE";
            case -4 -> "CL_MEM_OBJECT_ALLOCATION_FAILURE";
            case -5 -> "CL_OUT_OF_RESOURCES";
            case -6 -> "CL_OUT_OF_HOST_MEMORY";
            case -11 -> "CL_BUILD_PROGRAM_FAILURE";
            case -30 -> "CL_INVALID_VALUE";
            case -33 -> "CL_INVALID_DEVICE";
            case -36 -> "CL_INVALID_COMMAND_QUEUE";
            case -38 -> "CL_INVALID_MEM_OBJECT";
            case -43 -> "CL_INVALID_BUILD_OPTIONS";
            case -46 -> "CL_INVALID_KERNEL_NAME";
            case -48 -> "CL_INVALID_KERNEL";
            case -49 -> "CL_INVALID_ARG_INDEX";
            case -50 -> "CL_INVALID_ARG_VALUE";
            case -51 -> "CL_INVALID_ARG_SIZE";
            case -52 -> "CL_INVALID_KERNEL_ARGS";
            case -54 -> "CL_INVALID_WORK_GROUP_SIZE";
            case -55 -> "CL_INVALID_WORK_ITEM_SIZE";
            case -61 -> "CL_INVALID_BUFFER_SIZE";
            case -63 -> "CL_INVALID_GLOBAL_WORK_SIZE";
            case -1001 -> "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL driver registered)";
            default -> "OpenCL error " + rc;
        };
    }
}
