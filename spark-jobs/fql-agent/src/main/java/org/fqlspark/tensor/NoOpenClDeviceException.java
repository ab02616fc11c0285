package org.fqlspark.tensor;

/**
 * {@code --backend opencl} (or a GPU address) where there is no such OpenCL device: bad input (the command line exits
 * with 2), and the message is one line.
 */
public final class NoOpenClDeviceException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public NoOpenClDeviceException(String message) {
        super(message);
    }
}
