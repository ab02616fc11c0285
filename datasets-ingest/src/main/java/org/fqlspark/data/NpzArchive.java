package org.fqlspark.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A {@code .npz} archive: a zip of {@code .npy} arrays, decoded here.
 *
 * <p>Nothing is allocated from a number that was not checked first. The npy header (a Python dict literal) is parsed
 * strictly, once: exactly the keys {@code descr}, {@code fortran_order} and {@code shape}, none twice, every dimension
 * a non-negative integer, the product computed overflow-safe and at most {@link #MAX_ARRAY_VALUES} (one Java array).
 * Object arrays ({@code dtype=object}, which only pickle can decode) are refused: nothing here ever unpickles.
 *
 * <p>Zip bombs: an entry's declared uncompressed size must cover what its header needs, must be one that its compressed
 * bytes can produce (deflate inflates at most {@value #MAX_DEFLATE_RATIO}:1), and may exceed the array by at most
 * {@value #MAX_TRAILING_BYTES} bytes; exactly the array's bytes are inflated, and an entry that inflates to more than it
 * declared is refused. So the work and memory spent on an entry are bounded by its validated header.
 */
final class NpzArchive implements Closeable {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Most values one array may hold: the largest Java array. */
    static final long MAX_ARRAY_VALUES = Integer.MAX_VALUE - 8;
    /** Deflate's largest possible expansion (258-byte matches coded in 2 bits), with margin for headers. */
    static final long MAX_DEFLATE_RATIO = 1032;
    /** Bytes an entry may declare beyond its header and array data (numpy writes none). */
    static final long MAX_TRAILING_BYTES = 1 << 16;
    /** Longest npy header accepted (numpy's own limit for format 1.0 is 64 KiB; real headers are under 200 bytes). */
    private static final int MAX_HEADER_BYTES = 1 << 16;
    /** Dtypes decoded (u1 arrives as signed bytes; fine for flags). */
    private static final Map<String, String> SUPPORTED = Map.of(
            "f4", "float32", "f8", "float64", "b1", "bool", "i1", "int8", "u1", "uint8",
            "i2", "int16", "i4", "int32", "i8", "int64");

    private final String file;
    private final ZipFile zip;
    private final Map<String, ZipEntry> entries;

    private NpzArchive(String file, ZipFile zip, Map<String, ZipEntry> entries) {
        this.file = file;
        this.zip = zip;
        this.entries = entries;
    }

    static NpzArchive open(Path path) {
        String file = path.toString();
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (IOException e) {
            throw new DatasetException(file, null,
                    "is not a readable .npz (zip) archive; it is truncated or corrupt (" + e.getMessage() + ")", e);
        }
        Map<String, ZipEntry> entries = new LinkedHashMap<>();
        try {
            Enumeration<? extends ZipEntry> all = zip.entries();
            while (all.hasMoreElements()) {
                ZipEntry e = all.nextElement();
                if (!e.isDirectory() && e.getName().endsWith(".npy")) {
                    String key = e.getName().substring(0, e.getName().length() - 4);
                    if (entries.put(key, e) != null) {
                        throw new DatasetException(file, key, "appears twice in the archive; expected each array once");
                    }
                }
            }
            return new NpzArchive(file, zip, entries);
        } catch (DatasetException e) {
            closeQuietly(zip);
            throw e;
        } catch (RuntimeException e) {
            closeQuietly(zip);
            throw new DatasetException(file, null, "is not a readable .npz archive (" + e + ")", e);
        }
    }

    Set<String> keys() {
        return Collections.unmodifiableSet(entries.keySet());
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    /** Reads a required array. */
    SourceArray get(String key) {
        ZipEntry entry = entries.get(key);
        if (entry == null) {
            throw new DatasetException(file, key, "is missing; the archive holds " + entries.keySet());
        }
        checkInflation(key, entry);
        try (InputStream in = zip.getInputStream(entry)) {
            Header header = header(key, in);
            checkDeclaredSize(key, entry, header);
            Object data = payload(key, in, header);
            checkEnd(key, entry, in, header);
            return new SourceArray(file, key, header.dtype, header.intShape(), data);
        } catch (IOException | RuntimeException e) {
            if (e instanceof DatasetException d) throw d;
            throw new DatasetException(file, key, "could not be read; the archive is truncated or corrupt ("
                    + e.getMessage() + ")", e);
        }
    }

    /** A parsed and checked npy header; {@code bytes} is everything before the data. */
    private record Header(String descr, String dtype, int itemSize, ByteOrder order, long[] shape, long count, long bytes) {
        int[] intShape() {
            int[] out = new int[shape.length];
            for (int i = 0; i < shape.length; i++) out[i] = (int) shape[i];   // each ≤ count ≤ MAX_ARRAY_VALUES
            return out;
        }

        long dataBytes() {
            return count * itemSize;   // ≤ 8 · MAX_ARRAY_VALUES: no overflow
        }

        String shapeText() {
            StringBuilder b = new StringBuilder("(");
            for (int i = 0; i < shape.length; i++) b.append(i > 0 ? ", " : "").append(shape[i]);
            return b.append(shape.length == 1 ? ",)" : ")").toString();
        }
    }

    /** The zip directory's sizes: what the entry declares must be producible from its compressed bytes. */
    private void checkInflation(String key, ZipEntry entry) {
        long size = entry.getSize();
        long compressed = entry.getCompressedSize();
        if (size < 0 || compressed < 0) {
            throw new DatasetException(file, key, "has no sizes in the zip directory; expected an archive written by "
                    + "numpy (np.savez)");
        }
        long producible = entry.getMethod() == ZipEntry.STORED ? compressed
                : compressed > Long.MAX_VALUE / MAX_DEFLATE_RATIO ? Long.MAX_VALUE : compressed * MAX_DEFLATE_RATIO + 1024;
        if (size > producible) {
            throw new DatasetException(file, key, "declares " + size + " uncompressed bytes from " + compressed
                    + " compressed ones, more than deflate can produce (at most " + MAX_DEFLATE_RATIO + ":1); the zip "
                    + "directory is forged (a zip bomb?) or corrupt");
        }
    }

    private Header header(String key, InputStream in) throws IOException {
        byte[] start = in.readNBytes(10);
        if (start.length < 10 || !startsWithMagic(start)) {
            throw new DatasetException(file, key, "is not an npy array (bad magic); the archive is corrupt");
        }
        int major = start[6] & 0xff;
        long length;
        int preamble;
        if (major == 1) {
            length = (start[8] & 0xff) | (start[9] & 0xff) << 8;
            preamble = 10;
        } else if (major == 2 || major == 3) {
            byte[] more = in.readNBytes(2);
            if (more.length < 2) throw new DatasetException(file, key, "has a truncated npy header");
            length = (start[8] & 0xffL) | (start[9] & 0xffL) << 8 | (more[0] & 0xffL) << 16 | (more[1] & 0xffL) << 24;
            preamble = 12;
        } else {
            throw new DatasetException(file, key, "is npy format version " + major + "; expected 1, 2 or 3");
        }
        if (length > MAX_HEADER_BYTES) {
            throw new DatasetException(file, key, "has an npy header of " + length + " bytes; expected at most "
                    + MAX_HEADER_BYTES + " (numpy writes about 128)");
        }
        byte[] raw = in.readNBytes((int) length);
        if (raw.length < length) throw new DatasetException(file, key, "has a truncated npy header");
        String text = new String(raw, major >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Map<String, String> dict = parseDict(key, text);
        String descr = dict.get("descr");
        String fortran = dict.get("fortran_order");
        String shapeText = dict.get("shape");
        if (descr == null || fortran == null || shapeText == null || !descr.startsWith("'")) {
            throw new DatasetException(file, key, "has a structured or unreadable npy header (" + abbreviate(text)
                    + "); expected {'descr': '<f4', 'fortran_order': False, 'shape': (...)}");
        }
        descr = descr.substring(1, descr.length() - 1);
        String kind = descr.replaceFirst("^[<>|=]", "");
        if (kind.startsWith("O")) {
            throw new DatasetException(file, key, "is an object array (dtype " + descr + "), which only pickle "
                    + "can decode; refused, never unpickled; expected a numeric array (re-save it with a numeric "
                    + "dtype, e.g. np.asarray(x, dtype=np.float32))");
        }
        String dtype = SUPPORTED.get(kind);
        if (dtype == null) {
            throw new DatasetException(file, key, "has dtype " + descr + "; expected one of float32, float64, "
                    + "bool, int8/16/32/64 or uint8");
        }
        if (fortran.equals("True")) {
            throw new DatasetException(file, key, "is stored in Fortran order; expected C order (re-save it "
                    + "with np.ascontiguousarray)");
        }
        if (!fortran.equals("False")) {
            throw new DatasetException(file, key, "has fortran_order " + fortran + " in its npy header; expected True or False");
        }
        long[] shape = parseShape(key, shapeText);
        long count = 1;
        for (long d : shape) {
            count = d == 0 ? 0 : count > MAX_ARRAY_VALUES / d ? MAX_ARRAY_VALUES + 1 : count * d;
        }
        if (count > MAX_ARRAY_VALUES) {
            throw new DatasetException(file, key, "has shape " + shapeText + " in its npy header: more than "
                    + MAX_ARRAY_VALUES + " values, the most one array can hold; expected a smaller array (split the "
                    + "dataset)");
        }
        ByteOrder order = descr.startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        return new Header(descr, dtype, Integer.parseInt(kind.substring(1)), order, shape, count, preamble + length);
    }

    /**
     * The header dict: {@code {'key': value, ...}} with string, tuple or bare-word values, each key once. Anything
     * else is refused rather than guessed at.
     */
    private Map<String, String> parseDict(String key, String text) {
        String t = text.strip();
        if (!t.startsWith("{") || !t.endsWith("}")) {
            throw new DatasetException(file, key, "has an unreadable npy header (" + abbreviate(text) + "); expected a dict");
        }
        Map<String, String> out = new LinkedHashMap<>();
        int i = 1;
        int end = t.length() - 1;
        while (true) {
            i = skipSpaces(t, i, end);
            if (i >= end) break;
            if (t.charAt(i) != '\'') throw unreadable(key, text);
            int close = t.indexOf('\'', i + 1);
            if (close < 0 || close >= end) throw unreadable(key, text);
            String name = t.substring(i + 1, close);
            i = skipSpaces(t, close + 1, end);
            if (i >= end || t.charAt(i) != ':') throw unreadable(key, text);
            i = skipSpaces(t, i + 1, end);
            if (i >= end) throw unreadable(key, text);
            int valueEnd;
            char c = t.charAt(i);
            if (c == '\'') {
                valueEnd = t.indexOf('\'', i + 1) + 1;
            } else if (c == '(') {
                valueEnd = t.indexOf(')', i + 1) + 1;
            } else {
                valueEnd = i;
                while (valueEnd < end && Character.isLetterOrDigit(t.charAt(valueEnd))) valueEnd++;
            }
            if (valueEnd <= i || valueEnd > end) throw unreadable(key, text);
            if (!name.equals("descr") && !name.equals("fortran_order") && !name.equals("shape")) {
                throw new DatasetException(file, key, "has key '" + name + "' in its npy header; expected only descr, "
                        + "fortran_order and shape (a structured or unknown npy variant)");
            }
            if (out.put(name, t.substring(i, valueEnd)) != null) {
                throw new DatasetException(file, key, "has key '" + name + "' twice in its npy header; refused (which "
                        + "one a reader uses is unspecified)");
            }
            i = skipSpaces(t, valueEnd, end);
            if (i < end) {
                if (t.charAt(i) != ',') throw unreadable(key, text);
                i++;
            }
        }
        return out;
    }

    private static int skipSpaces(String t, int i, int end) {
        while (i < end && Character.isWhitespace(t.charAt(i))) i++;
        return i;
    }

    private DatasetException unreadable(String key, String text) {
        return new DatasetException(file, key, "has an unreadable npy header (" + abbreviate(text)
                + "); expected {'descr': '<f4', 'fortran_order': False, 'shape': (...)}");
    }

    private long[] parseShape(String key, String text) {
        String inner = text.substring(1, text.length() - 1).strip();
        if (inner.isEmpty()) return new long[0];
        String[] parts = inner.split(",", -1);
        int n = parts.length;
        if (parts[n - 1].isBlank()) n--;   // a trailing comma: (3,)
        long[] shape = new long[n];
        for (int i = 0; i < n; i++) {
            String d = parts[i].strip();
            if (d.endsWith("L")) d = d.substring(0, d.length() - 1);   // Python 2's long literals
            if (!d.matches("-?[0-9]{1,19}")) {
                throw new DatasetException(file, key, "has shape " + text + " in its npy header; dimension '" + parts[i].strip()
                        + "' is not an integer of at most 19 digits");
            }
            long v;
            try {
                v = Long.parseLong(d);
            } catch (NumberFormatException e) {
                throw new DatasetException(file, key, "has shape " + text + " in its npy header; dimension " + d
                        + " does not fit in 64 bits");
            }
            if (v < 0) {
                throw new DatasetException(file, key, "has shape " + text + " in its npy header; dimension " + v
                        + " is negative; expected non-negative dimensions");
            }
            shape[i] = v;
        }
        return shape;
    }

    /**
     * The entry must hold what the header needs (np.savez writes exactly that), and may not declare more than
     * {@link #MAX_TRAILING_BYTES} beyond it.
     */
    private void checkDeclaredSize(String key, ZipEntry entry, Header h) {
        long size = entry.getSize();
        long needed = h.bytes + h.dataBytes();
        if (size < needed) {
            throw new DatasetException(file, key, "holds " + Math.max(0, size - h.bytes) + " data bytes but its shape "
                    + h.shapeText() + " needs " + h.dataBytes() + "; the array is truncated or corrupt");
        }
        if (size - needed > MAX_TRAILING_BYTES) {
            throw new DatasetException(file, key, "declares " + size + " bytes but its header and shape " + h.shapeText()
                    + " account for " + needed + "; expected at most " + MAX_TRAILING_BYTES + " more (a forged zip entry?)");
        }
    }

    /** Decodes exactly the header's count of values, reading in bounded chunks. */
    private Object payload(String key, InputStream in, Header h) throws IOException {
        int n = (int) h.count;
        Object out = switch (h.dtype) {
            case "float32" -> new float[n];
            case "float64" -> new double[n];
            case "bool" -> new boolean[n];
            case "int8", "uint8" -> new byte[n];
            case "int16" -> new short[n];
            case "int32" -> new int[n];
            case "int64" -> new long[n];
            default -> throw new IllegalStateException(h.dtype);
        };
        int size = h.itemSize;
        int perChunk = Math.max(1, (1 << 20) / size);
        byte[] chunk = new byte[(int) Math.min((long) perChunk * size, Math.max(size, h.dataBytes()))];
        for (int done = 0; done < n; ) {
            int values = Math.min(perChunk, n - done);
            int bytes = values * size;
            int got = in.readNBytes(chunk, 0, bytes);
            if (got < bytes) {
                throw new DatasetException(file, key, "ends after " + ((long) done * size + got) + " of its " + h.dataBytes()
                        + " data bytes (shape " + h.shapeText() + "); the array is truncated or corrupt");
            }
            ByteBuffer b = ByteBuffer.wrap(chunk, 0, bytes).order(h.order);
            if (out instanceof float[] f) {
                b.asFloatBuffer().get(f, done, values);
            } else if (out instanceof double[] d) {
                b.asDoubleBuffer().get(d, done, values);
            } else if (out instanceof boolean[] z) {
                for (int i = 0; i < values; i++) z[done + i] = chunk[i] != 0;
            } else if (out instanceof byte[] y) {
                System.arraycopy(chunk, 0, y, done, values);
            } else if (out instanceof short[] v) {
                b.asShortBuffer().get(v, done, values);
            } else if (out instanceof int[] v) {
                b.asIntBuffer().get(v, done, values);
            } else if (out instanceof long[] v) {
                b.asLongBuffer().get(v, done, values);
            }
            done += values;
        }
        return out;
    }

    /** After the array, the entry may hold only its declared trailing bytes: one that inflates to more is refused. */
    private void checkEnd(String key, ZipEntry entry, InputStream in, Header h) throws IOException {
        long trailing = entry.getSize() - h.bytes - h.dataBytes();   // 0..MAX_TRAILING_BYTES, checked
        long skipped = in.readNBytes((int) trailing).length;
        if (skipped == trailing && in.read() >= 0) {
            throw new DatasetException(file, key, "inflates to more than the " + entry.getSize() + " bytes its zip "
                    + "entry declares; the archive is forged (a zip bomb?) or corrupt");
        }
    }

    private static String abbreviate(String text) {
        String t = text.strip();
        return t.length() <= 200 ? t : t.substring(0, 200) + "…";
    }

    private static boolean startsWithMagic(byte[] b) {
        for (int i = 0; i < MAGIC.length; i++) if (b[i] != MAGIC[i]) return false;
        return true;
    }

    /** Names of the archive's arrays that a reader ignored, for the manifest. */
    List<String> unused(Set<String> used) {
        List<String> out = new ArrayList<>();
        for (String k : entries.keySet()) if (!used.contains(k)) out.add(k);
        return out;
    }

    @Override
    public void close() {
        closeQuietly(zip);
    }

    private static void closeQuietly(ZipFile zip) {
        try {
            zip.close();
        } catch (IOException ignored) {
            // nothing more to do for a read-only file
        }
    }
}
