package org.fqlspark.sweep;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.fqlspark.data.TransitionData;

/**
 * Writes transitions as an OGBench dataset file in its exported form (an {@code .npz} of little-endian float32 NPY
 * arrays: observations, actions, rewards, masks, terminals, next_observations), the input {@code ./fql ingest} reads.
 */
public final class OgbenchNpz {

    private OgbenchNpz() {
    }

    public static void write(TransitionData d, Path file) {
        int n = d.size();
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            array(zip, "observations", d.observations(), n, d.obsDim());
            array(zip, "actions", d.actions(), n, d.actionDim());
            array(zip, "rewards", d.rewards(), n, 0);
            array(zip, "masks", d.masks(), n, 0);
            array(zip, "terminals", d.terminals(), n, 0);
            array(zip, "next_observations", d.nextObservations(), n, d.obsDim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One NPY v1.0 entry: magic, header length, a header dict padded to a multiple of 64 bytes, then the data. */
    private static void array(ZipOutputStream zip, String name, float[] values, int rows, int width) throws IOException {
        String shape = width == 0 ? "(" + rows + ",)" : "(" + rows + ", " + width + ")";
        StringBuilder header = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }");
        while ((10 + header.length() + 1) % 64 != 0) header.append(' ');
        header.append('\n');
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.toString().getBytes(StandardCharsets.US_ASCII));
        for (float v : values) b.putFloat(v);
        zip.putNextEntry(new ZipEntry(name + ".npy"));
        zip.write(b.array());
        zip.closeEntry();
    }
}
