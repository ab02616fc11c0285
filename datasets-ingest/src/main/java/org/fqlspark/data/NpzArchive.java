package org.fqlspark.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.jetbrains.bio.npy.NpyArray;
import org.jetbrains.bio.npy.NpzFile;

/**
 * A {@code .npz} archive read through org.jetbrains.bio:npy.
 *
 * <p>Before the library touches an entry, its npy header is inspected here, because the library fails on
 * object arrays with a bare NumberFormatException and on other dtypes with messages that name neither file
 * nor key. Object arrays ({@code dtype=object}, which only pickle can decode) are refused: nothing here
 * ever unpickles.
 */
final class NpzArchive implements Closeable {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** Dtypes the library decodes into a primitive array (u1 arrives as signed bytes; fine for flags). */
    private static final Map<String, String> SUPPORTED = Map.of(
            "f4", "float32", "f8", "float64", "b1", "bool", "i1", "int8", "u1", "uint8",
            "i2", "int16", "i4", "int32", "i8", "int64");

    private final String file;
    private final ZipFile zip;
    private final NpzFile.Reader reader;
    private final Map<String, ZipEntry> entries;

    private NpzArchive(String file, ZipFile zip, NpzFile.Reader reader, Map<String, ZipEntry> entries) {
        this.file = file;
        this.zip = zip;
        this.reader = reader;
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
                    entries.put(e.getName().substring(0, e.getName().length() - 4), e);
                }
            }
            return new NpzArchive(file, zip, NpzFile.read(path), entries);
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
        Header header = header(key, entry);
        NpyArray array;
        try {
            array = reader.get(key, 1 << 20);
        } catch (RuntimeException e) {
            throw new DatasetException(file, key, "could not be decoded; the archive is truncated or corrupt ("
                    + e + ")", e);
        }
        Object data = array.getData();
        if (data instanceof String[]) {
            throw new DatasetException(file, key, "holds strings (dtype " + header.descr + "); expected numbers");
        }
        return new SourceArray(file, key, header.dtype, array.getShape(), data);
    }

    private record Header(String descr, String dtype) {}

    private Header header(String key, ZipEntry entry) {
        String text;
        long headerBytes;
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] start = in.readNBytes(12);
            if (start.length < 10 || !startsWithMagic(start)) {
                throw new DatasetException(file, key, "is not an npy array (bad magic); the archive is corrupt");
            }
            int major = start[6] & 0xff;
            long length;
            int already;
            if (major == 1) {
                length = (start[8] & 0xff) | (start[9] & 0xff) << 8;
                already = 2;
            } else {
                if (start.length < 12) throw new DatasetException(file, key, "has a truncated npy header");
                length = (start[8] & 0xffL) | (start[9] & 0xffL) << 8 | (start[10] & 0xffL) << 16
                        | (start[11] & 0xffL) << 24;
                already = 0;
            }
            if (length > 1 << 20) throw new DatasetException(file, key, "has an implausible npy header length");
            byte[] rest = in.readNBytes((int) length - already);
            byte[] all = new byte[(start.length - 10) + rest.length];
            System.arraycopy(start, 10, all, 0, start.length - 10);
            System.arraycopy(rest, 0, all, start.length - 10, rest.length);
            text = new String(all, major >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            if (all.length < length) throw new DatasetException(file, key, "has a truncated npy header");
            headerBytes = preambleBytes(major) + length;
        } catch (IOException e) {
            throw new DatasetException(file, key, "could not be read; the archive is truncated or corrupt ("
                    + e.getMessage() + ")", e);
        }
        Matcher d = DESCR.matcher(text);
        if (!d.find()) {
            throw new DatasetException(file, key, "has a structured or unreadable dtype (header " + text.trim()
                    + "); expected a plain numeric dtype");
        }
        String descr = d.group(1);
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
        Matcher f = FORTRAN.matcher(text);
        if (f.find() && f.group(1).equals("True")) {
            throw new DatasetException(file, key, "is stored in Fortran order; expected C order (re-save it "
                    + "with np.ascontiguousarray)");
        }
        checkPayloadSize(key, entry, text, kind, headerBytes);
        return new Header(descr, dtype);
    }

    private static int preambleBytes(int major) {
        return major == 1 ? 10 : 12;
    }

    /**
     * The library fills a short payload up without complaint, so a truncated array is caught here: the
     * entry's size (from the zip directory) must cover what the header's shape needs.
     */
    private void checkPayloadSize(String key, ZipEntry entry, String header, String kind, long headerBytes) {
        Matcher m = SHAPE.matcher(header);
        if (!m.find()) {
            throw new DatasetException(file, key, "has no readable shape in its npy header (" + header.trim() + ")");
        }
        long count = 1;
        for (String part : m.group(1).split(",")) {
            String t = part.trim();
            if (t.isEmpty()) continue;
            try {
                count = Math.multiplyExact(count, Long.parseLong(t));
            } catch (NumberFormatException | ArithmeticException e) {
                throw new DatasetException(file, key, "has an unreadable shape (" + m.group(1) + ") in its npy header");
            }
        }
        long itemSize = Long.parseLong(kind.substring(1));
        long needed = headerBytes + count * itemSize;
        long size = entry.getSize();
        if (size >= 0 && size < needed) {
            throw new DatasetException(file, key, "holds " + (size - headerBytes) + " data bytes but its shape ("
                    + m.group(1).trim() + ") needs " + count * itemSize + "; the array is truncated or corrupt");
        }
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
        try {
            reader.close();
        } catch (RuntimeException ignored) {
            // closing is best effort; the data was read already
        }
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
