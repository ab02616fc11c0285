package org.fqlspark.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A tiny .npz writer for test fixtures: npy format 1.0 (magic, header dict padded to 64 bytes, raw
 * little-endian data) in a zip. Written by hand, not with the library under test, so that the fixtures can
 * also be wrong on purpose (object dtype, Fortran order, short payloads).
 */
public final class NpzWriter {

    private final Map<String, byte[]> entries = new LinkedHashMap<>();

    public NpzWriter f32(String key, float[] data, int... shape) {
        ByteBuffer b = le(data.length * 4);
        for (float v : data) b.putFloat(v);
        return raw(key, "<f4", false, shapeOr(shape, data.length), b.array());
    }

    public NpzWriter f64(String key, double[] data, int... shape) {
        ByteBuffer b = le(data.length * 8);
        for (double v : data) b.putDouble(v);
        return raw(key, "<f8", false, shapeOr(shape, data.length), b.array());
    }

    public NpzWriter i32(String key, int[] data, int... shape) {
        ByteBuffer b = le(data.length * 4);
        for (int v : data) b.putInt(v);
        return raw(key, "<i4", false, shapeOr(shape, data.length), b.array());
    }

    public NpzWriter bool(String key, boolean[] data) {
        byte[] b = new byte[data.length];
        for (int i = 0; i < data.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
        return raw(key, "|b1", false, new int[] {data.length}, b);
    }

    /** An entry with any header and payload. */
    public NpzWriter raw(String key, String descr, boolean fortran, int[] shape, byte[] payload) {
        StringBuilder shapeText = new StringBuilder("(");
        for (int d : shape) shapeText.append(d).append(", ");
        if (shape.length > 1) shapeText.setLength(shapeText.length() - 2);
        else if (shape.length == 1) shapeText.setLength(shapeText.length() - 1);
        shapeText.append(")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False")
                + ", 'shape': " + shapeText + ", }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] h = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(10 + h.length + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        out.putShort((short) h.length).put(h).put(payload);
        entries.put(key, out.array());
        return this;
    }

    /** An entry whose npy header dict is given verbatim (padded as numpy pads it), for forged headers. */
    public NpzWriter rawHeader(String key, String dict, byte[] payload) {
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer out = ByteBuffer.allocate(10 + h.length + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        out.putShort((short) h.length).put(h).put(payload);
        entries.put(key, out.array());
        return this;
    }

    /**
     * Rewrites the uncompressed size that the zip's central directory (what readers trust) records for
     * {@code key}.npy, leaving the compressed data as it is: a forged entry.
     */
    public static void forgeDeclaredSize(Path zipFile, String key, long size) throws IOException {
        byte[] zip = Files.readAllBytes(zipFile);
        byte[] name = (key + ".npy").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 46 <= zip.length; i++) {
            if (b.getInt(i) != 0x02014b50) continue;
            int nameLength = b.getShort(i + 28) & 0xffff;
            if (nameLength == name.length && java.util.Arrays.equals(zip, i + 46, i + 46 + nameLength, name, 0, name.length)) {
                b.putInt(i + 24, (int) size);
                Files.write(zipFile, zip);
                return;
            }
        }
        throw new IllegalArgumentException("no central directory entry for " + key);
    }

    public Path write(Path file) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static int[] shapeOr(int[] shape, int length) {
        return shape.length == 0 ? new int[] {length} : shape;
    }
}
