package org.fqlspark.tensor;

/**
 * A 2-D float32 matrix owned by one {@link TensorOps} implementation, row-major from the caller's point of
 * view. Opaque on purpose: the FQL math only passes tensors back to the ops that made them, so a GPU
 * implementation can keep them in device memory.
 */
public interface Tensor {
    int rows();

    int cols();

    default long size() {
        return (long) rows() * cols();
    }
}
