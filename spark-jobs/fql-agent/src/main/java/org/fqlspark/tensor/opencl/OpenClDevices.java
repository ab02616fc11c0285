package org.fqlspark.tensor.opencl;

import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_NAME;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_NOT_FOUND;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_TYPE;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_TYPE_ALL;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_TYPE_CPU;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_TYPE_GPU;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_VENDOR;
import static org.bytedeco.opencl.global.OpenCL.CL_DEVICE_VERSION;
import static org.bytedeco.opencl.global.OpenCL.CL_DRIVER_VERSION;
import static org.bytedeco.opencl.global.OpenCL.CL_PLATFORM_NAME;
import static org.bytedeco.opencl.global.OpenCL.CL_SUCCESS;
import static org.bytedeco.opencl.global.OpenCL.clGetDeviceIDs;
import static org.bytedeco.opencl.global.OpenCL.clGetDeviceInfo;
import static org.bytedeco.opencl.global.OpenCL.clGetPlatformIDs;
import static org.bytedeco.opencl.global.OpenCL.clGetPlatformInfo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.fqlspark.tensor.NoOpenClDeviceException;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.opencl._cl_device_id;
import org.bytedeco.opencl._cl_platform_id;

/**
 * The OpenCL devices of this machine, found once per JVM through the OpenCL ICD loader that
 * {@code org.bytedeco:opencl} bundles (so no {@code libOpenCL.so} need be installed; the vendors' drivers are found
 * through {@code /etc/OpenCL/vendors/*.icd} as usual).
 *
 * <p>Order rule: platforms in the order {@code clGetPlatformIDs} returns them, and within a platform its devices in
 * the order {@code clGetDeviceIDs} returns them. A device's <em>GPU index</em> is its position among the GPU devices
 * in that order; it is what a Spark GPU address means to the OpenCL backend (address {@code "1"} is the second OpenCL
 * GPU). With one platform (NVIDIA's, say) that is the driver's own device order, which should be CUDA's default
 * (fastest first; PCI order among identical GPUs, as {@code nvidia-smi} numbers them); not checked on a multi-GPU
 * machine, so give each executor one GPU where the order matters.
 *
 * <p>Only this class and the rest of this package touch OpenCL; the CPU backends never load them.
 */
public final class OpenClDevices {

    /** One OpenCL device, with what the logs, the bench table and {@code provenance.json} say about it. */
    public record Device(int platformIndex, int deviceIndex, String platform, String name, String vendor, String version,
                         String driver, boolean gpu, boolean cpu, boolean accelerator, int computeUnits, long globalMemory,
                         int gpuIndex) {

        /** {@code "NVIDIA H100 80GB HBM3 (NVIDIA CUDA, OpenCL 3.0 CUDA, driver 550.54)"}. */
        public String describe() {
            String kind = gpu ? "GPU" : cpu ? "CPU device" : accelerator ? "accelerator" : "device";
            return name + " (" + kind + ", " + platform + ", " + version + ", driver " + driver + ", " + computeUnits + " compute units, "
                    + (globalMemory >> 20) + " MiB)";
        }
    }

    private static volatile List<Device> devices;
    private static volatile String failure;

    private OpenClDevices() {
    }

    /**
     * Every OpenCL device, in the order rule above (cached for the JVM). Empty when no driver is registered or the
     * loader finds no platform; {@link #failure()} then says why.
     */
    public static List<Device> list() {
        List<Device> d = devices;
        if (d == null) {
            synchronized (OpenClDevices.class) {
                if (devices == null) {
                    devices = discover();
                }
                d = devices;
            }
        }
        return d;
    }

    /** Why {@link #list()} is empty ("" when it is not). */
    public static String failure() {
        list();
        return failure == null ? "" : failure;
    }

    /** The GPU devices, in GPU-index order. */
    public static List<Device> gpus() {
        return list().stream().filter(Device::gpu).toList();
    }

    /**
     * The device an explicit {@code --backend opencl} runs on: {@code -Dfql.opencl.device=N} (an index into
     * {@link #list()}) when given, else the first GPU, else the first accelerator, else the first device of any kind
     * (a CPU device such as PoCL, which the tests use). Throws {@link NoOpenClDeviceException} when there is none.
     */
    public static Device preferred() {
        List<Device> all = list();
        String forced = System.getProperty("fql.opencl.device");
        if (forced != null) {
            int i;
            try {
                i = Integer.parseInt(forced.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-Dfql.opencl.device must be a device index, was '" + forced + "'");
            }
            if (i < 0 || i >= all.size()) {
                throw new NoOpenClDeviceException("-Dfql.opencl.device=" + i + " but this machine has " + all.size() + " OpenCL device(s)"
                        + (all.isEmpty() ? " (" + failure() + ")" : ""));
            }
            return all.get(i);
        }
        return all.stream().filter(Device::gpu).findFirst()
                .or(() -> all.stream().filter(Device::accelerator).findFirst())
                .or(() -> all.stream().findFirst())
                .orElseThrow(() -> new NoOpenClDeviceException("no OpenCL device on this machine (" + failure() + ")"));
    }

    /** GPU number {@code gpuIndex} (a Spark GPU address), or {@link NoOpenClDeviceException}. */
    public static Device gpu(int gpuIndex) {
        List<Device> gpus = gpus();
        if (gpuIndex < 0 || gpuIndex >= gpus.size()) {
            throw new NoOpenClDeviceException("GPU address " + gpuIndex + " names no OpenCL GPU: this machine has " + gpus.size()
                    + " (" + (gpus.isEmpty() ? failure().isEmpty() ? "only non-GPU OpenCL devices" : failure() : gpus.get(0).name() + ", ...") + ")");
        }
        return gpus.get(gpuIndex);
    }

    private static List<Device> discover() {
        if (!org.fqlspark.tensor.Backends.driverRegistered()) {
            failure = "no OpenCL driver registered: no .icd file in " + org.fqlspark.tensor.Backends.driverRegistry();
            return List.of();
        }
        try {
            IntPointer count = new IntPointer(1);
            int rc = clGetPlatformIDs(0, (PointerPointer<?>) null, count);
            if (rc != CL_SUCCESS || count.get() == 0) {
                failure = "the OpenCL loader found no platform (clGetPlatformIDs: " + OpenClRuntime.errorName(rc) + ")";
                return List.of();
            }
            int platforms = count.get();
            PointerPointer<_cl_platform_id> ids = new PointerPointer<>(platforms);
            OpenClRuntime.check(clGetPlatformIDs(platforms, ids, (IntPointer) null), "clGetPlatformIDs");
            List<Device> out = new ArrayList<>();
            int gpuIndex = 0;
            for (int p = 0; p < platforms; p++) {
                _cl_platform_id platform = ids.get(_cl_platform_id.class, p);
                String platformName = platformString(platform, CL_PLATFORM_NAME);
                IntPointer n = new IntPointer(1);
                rc = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, (PointerPointer<?>) null, n);
                if (rc == CL_DEVICE_NOT_FOUND || n.get() == 0) {
                    continue;
                }
                OpenClRuntime.check(rc, "clGetDeviceIDs");
                PointerPointer<_cl_device_id> devs = new PointerPointer<>(n.get());
                OpenClRuntime.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, n.get(), devs, (IntPointer) null), "clGetDeviceIDs");
                for (int d = 0; d < n.get(); d++) {
                    _cl_device_id dev = devs.get(_cl_device_id.class, d);
                    long type = deviceLong(dev, CL_DEVICE_TYPE);
                    boolean gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
                    out.add(new Device(p, d, platformName, deviceString(dev, CL_DEVICE_NAME), deviceString(dev, CL_DEVICE_VENDOR),
                            deviceString(dev, CL_DEVICE_VERSION), deviceString(dev, CL_DRIVER_VERSION), gpu,
                            (type & CL_DEVICE_TYPE_CPU) != 0, (type & CL_DEVICE_TYPE_ACCELERATOR) != 0,
                            (int) deviceInt(dev, CL_DEVICE_MAX_COMPUTE_UNITS), deviceLong(dev, CL_DEVICE_GLOBAL_MEM_SIZE),
                            gpu ? gpuIndex++ : -1));
                }
            }
            if (out.isEmpty()) {
                failure = "the OpenCL platforms have no devices";
            }
            return List.copyOf(out);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | IllegalStateException e) {
            failure = "OpenCL did not load: " + e.getMessage();
            return List.of();
        }
    }

    /** The platform and device handles of a device found by {@link #list()} (the runtime's entry point). */
    static _cl_device_id handle(Device device) {
        IntPointer count = new IntPointer(1);
        OpenClRuntime.check(clGetPlatformIDs(0, (PointerPointer<?>) null, count), "clGetPlatformIDs");
        PointerPointer<_cl_platform_id> ids = new PointerPointer<>(count.get());
        OpenClRuntime.check(clGetPlatformIDs(count.get(), ids, (IntPointer) null), "clGetPlatformIDs");
        _cl_platform_id platform = ids.get(_cl_platform_id.class, device.platformIndex());
        IntPointer n = new IntPointer(1);
        OpenClRuntime.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, (PointerPointer<?>) null, n), "clGetDeviceIDs");
        PointerPointer<_cl_device_id> devs = new PointerPointer<>(n.get());
        OpenClRuntime.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, n.get(), devs, (IntPointer) null), "clGetDeviceIDs");
        return devs.get(_cl_device_id.class, device.deviceIndex());
    }

    private static String platformString(_cl_platform_id p, int param) {
        SizeTPointer size = new SizeTPointer(1);
        OpenClRuntime.check(clGetPlatformInfo(p, param, 0, null, size), "clGetPlatformInfo");
        BytePointer value = new BytePointer(size.get() + 1);
        OpenClRuntime.check(clGetPlatformInfo(p, param, size.get(), value, null), "clGetPlatformInfo");
        return cString(value, size.get());
    }

    static String deviceString(_cl_device_id d, int param) {
        SizeTPointer size = new SizeTPointer(1);
        OpenClRuntime.check(clGetDeviceInfo(d, param, 0, null, size), "clGetDeviceInfo");
        BytePointer value = new BytePointer(size.get() + 1);
        OpenClRuntime.check(clGetDeviceInfo(d, param, size.get(), value, null), "clGetDeviceInfo");
        return cString(value, size.get());
    }

    static long deviceLong(_cl_device_id d, int param) {
        LongPointer value = new LongPointer(1);
        value.put(0L);
        OpenClRuntime.check(clGetDeviceInfo(d, param, 8, value, null), "clGetDeviceInfo");
        return value.get();
    }

    static long deviceInt(_cl_device_id d, int param) {
        IntPointer value = new IntPointer(1);
        value.put(0);
        OpenClRuntime.check(clGetDeviceInfo(d, param, 4, value, null), "clGetDeviceInfo");
        return value.get() & 0xFFFFFFFFL;
    }

    static long deviceSizeT(_cl_device_id d, int param) {
        SizeTPointer value = new SizeTPointer(1);
        value.put(0L);
        OpenClRuntime.check(clGetDeviceInfo(d, param, 8, value, null), "clGetDeviceInfo");
        return value.get();
    }

    private static String cString(BytePointer p, long size) {
        byte[] bytes = new byte[(int) size];
        p.get(bytes);
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) end++;
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }
}
