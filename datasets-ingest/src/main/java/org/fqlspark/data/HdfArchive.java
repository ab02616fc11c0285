package org.fqlspark.data;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.object.datatype.BitField;
import io.jhdf.object.datatype.DataType;
import io.jhdf.object.datatype.EnumDataType;
import io.jhdf.object.datatype.FixedPoint;
import io.jhdf.object.datatype.FloatingPoint;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An HDF5 file read through jhdf. Converts jhdf's failures (it throws unchecked exceptions for truncated or
 * corrupt files) into {@link DatasetException}s naming file and key.
 *
 * <p>A dataset's declared shape is checked before jhdf allocates anything for it: non-negative dimensions, a product
 * (computed overflow-safe) of at most {@link NpzArchive#MAX_ARRAY_VALUES} values, and a size in bytes that the file
 * can hold: at most the file's size for unfiltered data, at most {@link NpzArchive#MAX_DEFLATE_RATIO} times it for
 * compressed (filtered) data.
 */
final class HdfArchive implements Closeable {

    private final String file;
    private final HdfFile hdf;
    private final long fileBytes;

    private HdfArchive(String file, HdfFile hdf, long fileBytes) {
        this.file = file;
        this.hdf = hdf;
        this.fileBytes = fileBytes;
    }

    static HdfArchive open(Path path) {
        long size;
        try {
            size = Files.size(path);
        } catch (IOException e) {
            throw new DatasetException(path.toString(), null, "could not be read (" + e.getMessage() + ")", e);
        }
        try {
            return new HdfArchive(path.toString(), new HdfFile(path), size);
        } catch (RuntimeException e) {
            throw new DatasetException(path.toString(), null,
                    "is not a readable HDF5 file; it is truncated or corrupt (" + e.getMessage() + ")", e);
        }
    }

    String file() {
        return file;
    }

    Group root() {
        return hdf;
    }

    /** The node at {@code key}, or null when absent (also when an intermediate group is absent). */
    Node node(Group parent, String key) {
        try {
            return parent.getChildren().get(key);
        } catch (RuntimeException e) {
            throw new DatasetException(file, parent.getPath() + key,
                    "group could not be read; the file is truncated or corrupt (" + e.getMessage() + ")", e);
        }
    }

    boolean has(Group parent, String key) {
        return node(parent, key) != null;
    }

    /** Reads a required dataset directly under {@code parent}. */
    SourceArray get(Group parent, String key) {
        String full = pathOf(parent, key);
        Node node = node(parent, key);
        if (node == null) {
            throw new DatasetException(file, full, "is missing; " + describeChildren(parent));
        }
        if (!(node instanceof Dataset ds)) {
            throw new DatasetException(file, full, "is a " + node.getType().toString().toLowerCase()
                    + "; expected a numeric dataset");
        }
        return read(ds, full);
    }

    SourceArray read(Dataset ds, String full) {
        try {
            if (ds.isScalar()) {
                throw new DatasetException(file, full, "is a scalar; expected an array");
            }
            DataType type = ds.getDataType();
            String dtype = dtypeName(type, full);
            int[] shape = checkShape(ds, type, full);
            Object flat = ds.getDataFlat();
            if (type instanceof EnumDataType) {
                flat = enumBooleans((Object[]) flat, full);
            }
            return new SourceArray(file, full, dtype, shape, flat);
        } catch (DatasetException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DatasetException(file, full, "could not be read; the file is truncated or corrupt ("
                    + e.getMessage() + ")", e);
        }
    }

    /** The declared shape, checked before anything is allocated for it. */
    private int[] checkShape(Dataset ds, DataType type, String full) {
        int[] shape = ds.getDimensions();
        long count = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new DatasetException(file, full, "declares shape " + java.util.Arrays.toString(shape)
                        + " with a negative dimension; the file is corrupt");
            }
            count = d == 0 ? 0 : count > NpzArchive.MAX_ARRAY_VALUES / d ? NpzArchive.MAX_ARRAY_VALUES + 1 : count * d;
        }
        if (count > NpzArchive.MAX_ARRAY_VALUES) {
            throw new DatasetException(file, full, "declares shape " + java.util.Arrays.toString(shape) + ": more than "
                    + NpzArchive.MAX_ARRAY_VALUES + " values, the most one array can hold; expected a smaller dataset");
        }
        long bytes = count * Math.max(1, type.getSize());
        boolean filtered;
        try {
            filtered = !ds.getFilters().isEmpty();
        } catch (RuntimeException e) {
            filtered = true;   // unknown filters fail later, when jhdf reads the data
        }
        long limit = filtered ? (fileBytes > Long.MAX_VALUE / NpzArchive.MAX_DEFLATE_RATIO ? Long.MAX_VALUE
                : fileBytes * NpzArchive.MAX_DEFLATE_RATIO + (1 << 20)) : fileBytes;
        if (bytes > limit) {
            throw new DatasetException(file, full, "declares shape " + java.util.Arrays.toString(shape) + " of "
                    + type.getSize() + "-byte values (" + bytes + " bytes) but the file has " + fileBytes + " bytes"
                    + (filtered ? " and compression expands at most " + NpzArchive.MAX_DEFLATE_RATIO + ":1" : "")
                    + "; the file is forged or corrupt");
        }
        return shape;
    }

    private String dtypeName(DataType type, String full) {
        if (type instanceof FloatingPoint) {
            if (type.getSize() == 4 || type.getSize() == 8) return "float" + type.getSize() * 8;
        } else if (type instanceof FixedPoint fp) {
            return (fp.isSigned() ? "int" : "uint") + type.getSize() * 8;
        } else if (type instanceof BitField) {
            return "bool";
        } else if (type instanceof EnumDataType) {
            // h5py stores numpy bool as an enum {FALSE, TRUE}; jhdf hands back the names.
            return "bool";
        }
        throw new DatasetException(file, full, "has HDF5 type " + type.getClass().getSimpleName()
                + " (" + type.getSize() + " bytes); expected float32/float64, an integer or bool");
    }

    private boolean[] enumBooleans(Object[] names, String full) {
        boolean[] out = new boolean[names.length];
        for (int i = 0; i < names.length; i++) {
            String n = String.valueOf(names[i]);
            if (n.equalsIgnoreCase("TRUE")) out[i] = true;
            else if (!n.equalsIgnoreCase("FALSE")) {
                throw new DatasetException(file, full, "is an enum with value '" + n + "' at row " + i
                        + "; expected h5py's boolean enum (FALSE/TRUE)");
            }
        }
        return out;
    }

    static String pathOf(Group parent, String key) {
        String p = parent.getPath();
        if (p == null || p.isEmpty() || p.equals("/")) return key;
        p = p.startsWith("/") ? p.substring(1) : p;
        return p.endsWith("/") ? p + key : p + "/" + key;
    }

    private String describeChildren(Group parent) {
        try {
            var keys = parent.getChildren().keySet();
            String where = pathOf(parent, "");
            return (where.isEmpty() ? "the file" : "group '" + where + "'") + " holds " + keys;
        } catch (RuntimeException e) {
            return "the group could not be listed";
        }
    }

    @Override
    public void close() {
        try {
            hdf.close();
        } catch (RuntimeException ignored) {
            // best effort: the data was read already
        }
    }
}
