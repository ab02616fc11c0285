package org.fqlspark.data;

import java.util.Arrays;

/**
 * One numeric array read from a source file, before it becomes part of a {@link TransitionData}: the typed
 * accessors turn a wrong rank, dtype or length into a {@link DatasetException} that names file and key.
 *
 * @param data a flat, row-major primitive array ({@code float[]}, {@code double[]}, {@code boolean[]},
 *     {@code byte[]}, {@code short[]}, {@code int[]} or {@code long[]})
 */
record SourceArray(String file, String key, String dtype, int[] shape, Object data) {

    SourceArray {
        long expected = 1;
        for (int d : shape) expected *= d;
        long actual = java.lang.reflect.Array.getLength(data);
        if (expected != actual) {
            throw new DatasetException(file, key, "holds " + actual + " values but its shape "
                    + Arrays.toString(shape) + " needs " + expected + " (truncated or corrupt data)");
        }
    }

    int rank() {
        return shape.length;
    }

    int rows() {
        return shape.length == 0 ? 0 : shape[0];
    }

    /** Number of values per row (1 for a rank-1 array). */
    int width() {
        int w = 1;
        for (int i = 1; i < shape.length; i++) w *= shape[i];
        return w;
    }

    String shapeString() {
        return Arrays.toString(shape).replace('[', '(').replace(']', ')');
    }

    SourceArray requireRank(int expected, String meaning) {
        if (shape.length != expected) {
            throw new DatasetException(file, key, "has rank " + shape.length + " (shape " + shapeString()
                    + "); expected rank " + expected + " " + meaning);
        }
        return this;
    }

    SourceArray requireRows(int expected, String against) {
        if (rows() != expected) {
            throw new DatasetException(file, key, "has " + rows() + " rows but " + against + " has "
                    + expected + " (mismatched lengths)");
        }
        return this;
    }

    boolean isFloating() {
        return data instanceof float[] || data instanceof double[];
    }

    /** The values as float32; float64 is narrowed the way numpy's astype(float32) does (round to nearest). */
    float[] floats() {
        if (data instanceof float[] f) return f;
        if (data instanceof double[] d) {
            float[] out = new float[d.length];
            for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
            return out;
        }
        throw new DatasetException(file, key, "has dtype " + dtype + "; expected a floating-point dtype "
                + "(float32 or float64)");
    }

    /**
     * The values as 0/1 flags: any non-zero value counts as set, as {@code bool(x)} does in the Python
     * loaders. NaN has no truth value here, so it is an error even with --drop-invalid.
     */
    boolean[] flags() {
        if (data instanceof boolean[] b) return b;
        int n = java.lang.reflect.Array.getLength(data);
        boolean[] out = new boolean[n];
        if (data instanceof float[] f) {
            for (int i = 0; i < n; i++) out[i] = flagOf(f[i], i);
        } else if (data instanceof double[] d) {
            for (int i = 0; i < n; i++) out[i] = flagOf(d[i], i);
        } else if (data instanceof byte[] v) {
            for (int i = 0; i < n; i++) out[i] = v[i] != 0;
        } else if (data instanceof short[] v) {
            for (int i = 0; i < n; i++) out[i] = v[i] != 0;
        } else if (data instanceof int[] v) {
            for (int i = 0; i < n; i++) out[i] = v[i] != 0;
        } else if (data instanceof long[] v) {
            for (int i = 0; i < n; i++) out[i] = v[i] != 0;
        } else {
            throw new DatasetException(file, key, "has dtype " + dtype + "; expected bool, an integer or a "
                    + "floating-point dtype");
        }
        return out;
    }

    private boolean flagOf(double v, int index) {
        if (Double.isNaN(v)) {
            throw new DatasetException(file, key, "row " + index + " is NaN; expected a 0/1 flag");
        }
        return v != 0;
    }
}
