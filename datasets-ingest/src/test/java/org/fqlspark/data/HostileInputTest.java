package org.fqlspark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import io.jhdf.checksum.ChecksumUtils;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files made to exhaust memory or time: every allocation size comes from a header that was checked first, zip
 * entries inflate only as far as their validated header says, nested spaces have a depth limit. Each case fails with
 * a {@link DatasetException} naming file and key, before anything large is allocated.
 */
class HostileInputTest {

    @TempDir
    Path dir;

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
    }

    private DatasetException npzRefused(NpzWriter w, String key) throws IOException {
        Path f = w.write(dir.resolve("hostile.npz"));
        return npzRefused(f, key);
    }

    private static DatasetException npzRefused(Path f, String key) {
        DatasetException e = assertThrows(DatasetException.class, () -> {
            try (NpzArchive npz = NpzArchive.open(f)) {
                npz.get(key);
            }
        });
        assertMentions(e, f.toString(), "'" + key + "'");
        return e;
    }

    private static String header(String shape) {
        return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    }

    @Test
    void negativeDimensionsAreRefused() throws IOException {
        assertMentions(npzRefused(new NpzWriter().rawHeader("observations", header("(-1, 2)"), new byte[8]), "observations"),
                "dimension -1 is negative");
    }

    @Test
    void dimensionsWhoseProductOverflowsAreRefused() throws IOException {
        // 2^61 float64 values: 2^64 bytes, which wraps to 0 in a long
        assertMentions(npzRefused(new NpzWriter().rawHeader("observations",
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", new byte[8]), "observations"),
                "more than " + NpzArchive.MAX_ARRAY_VALUES + " values");
        assertMentions(npzRefused(new NpzWriter().rawHeader("observations", header("(4294967296, 4294967296)"), new byte[8]),
                "observations"), "more than " + NpzArchive.MAX_ARRAY_VALUES + " values");
        assertMentions(npzRefused(new NpzWriter().rawHeader("observations", header("(99999999999999999999,)"), new byte[8]),
                "observations"), "99999999999999999999");
    }

    @Test
    void aKeyTwiceInTheHeaderIsRefused() throws IOException {
        // which 'shape' a reader believes is unspecified: the checked one must be the one used, so neither is
        assertMentions(npzRefused(new NpzWriter().rawHeader("observations",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (100000000000,), }", new byte[8]),
                "observations"), "'shape' twice");
    }

    @Test
    void anEntryDeclaringMoreThanDeflateCanProduceIsAZipBomb() throws IOException {
        // 80 MB of float32 announced by the header and by the zip directory, from a few compressed bytes
        Path f = new NpzWriter().rawHeader("observations", header("(10000000, 2)"), new byte[8]).write(dir.resolve("bomb.npz"));
        NpzWriter.forgeDeclaredSize(f, "observations", 128 + 80_000_000L);
        assertMentions(npzRefused(f, "observations"), "80000128 uncompressed bytes", "more than deflate can produce");
    }

    @Test
    void anEntryInflatingBeyondItsDeclaredSizeIsRefused() throws IOException {
        // header and data for 4 values, then 1 MB more that the zip directory does not declare
        byte[] payload = new byte[16 + (1 << 20)];
        Path f = new NpzWriter().rawHeader("observations", header("(4,)"), payload).write(dir.resolve("long.npz"));
        NpzWriter.forgeDeclaredSize(f, "observations", 128 + 16);
        assertMentions(npzRefused(f, "observations"), "inflates to more than the 144 bytes");
    }

    @Test
    void anEntryDeclaringFarMoreThanItsArrayIsRefused() throws IOException {
        Path f = new NpzWriter().rawHeader("observations", header("(4,)"), new byte[16 + (1 << 20)]).write(dir.resolve("pad.npz"));
        assertMentions(npzRefused(f, "observations"), "account for 144", "at most " + NpzArchive.MAX_TRAILING_BYTES + " more");
    }

    @Test
    void aWellFormedArrayStillReads() throws IOException {
        Path f = new NpzWriter().f32("observations", new float[] {1, 2, 3, 4, 5, 6}, 3, 2)
                .rawHeader("flags", "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", new byte[] {0, 0, 0, 7, 0, 0, 1, 0})
                .write(dir.resolve("ok.npz"));
        try (NpzArchive npz = NpzArchive.open(f)) {
            SourceArray obs = npz.get("observations");
            assertEquals(3, obs.rows());
            assertEquals(2, obs.width());
            assertEquals(6f, obs.floats()[5]);
            int[] flags = (int[]) npz.get("flags").data();
            assertEquals(7, flags[0], "big-endian int32");
            assertEquals(256, flags[1]);
        }
    }

    // ------------------------------------------------------------------ HDF5

    /** A D4RL file whose 'observations' has 37 rows of 11, then that dataspace's row count rewritten. */
    private Path d4rlWithForgedRows(long rows) throws IOException {
        int n = 37;
        int od = 11;
        Path f = Hdf5Writer.d4rl(dir.resolve("forged.hdf5"), new float[n * od], od, new float[n * 2], 2, new float[n],
                new boolean[n], new boolean[n]);
        byte[] bytes = Files.readAllBytes(f);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int found = 0;
        for (int i = 0; i + 16 <= bytes.length; i++) {
            if (b.getLong(i) == n && b.getLong(i + 8) == od) {
                b.putLong(i, rows);
                found++;
            }
        }
        assertEquals(1, found, "dataspace (37, 11) found once in the file");
        refreshObjectHeaderChecksums(bytes);
        Files.write(f, bytes);
        return f;
    }

    /**
     * jhdf writes version-2 object headers ("OHDR"), whose last 4 bytes are a Jenkins lookup3 checksum of the rest:
     * recompute them all, so the forged dimension is what the reader sees rather than a checksum error.
     */
    private static void refreshObjectHeaderChecksums(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int start = 0; start + 8 < bytes.length; start++) {
            if (bytes[start] != 'O' || bytes[start + 1] != 'H' || bytes[start + 2] != 'D' || bytes[start + 3] != 'R') continue;
            int flags = bytes[start + 5] & 0xff;
            int at = start + 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
            int width = 1 << (flags & 0x03);
            long chunk = switch (width) {
                case 1 -> bytes[at] & 0xffL;
                case 2 -> b.getShort(at) & 0xffffL;
                case 4 -> b.getInt(at) & 0xffffffffL;
                default -> b.getLong(at);
            };
            int end = (int) (at + width + chunk);
            b.putInt(end, ChecksumUtils.checksum(java.util.Arrays.copyOfRange(bytes, start, end)));
        }
    }

    private static DatasetException hdfRefused(Path f) {
        DatasetException e = assertThrows(DatasetException.class,
                () -> SourceReaders.read(f, DatasetFormat.D4RL, ReadOptions.DEFAULTS));
        assertMentions(e, f.toString(), "'observations'");
        return e;
    }

    @Test
    void anHdf5DatasetLargerThanItsFileIsRefusedBeforeAllocation() throws IOException {
        // 1,000,000 x 11 float32 = 44 MB declared in a file of a few KB
        assertMentions(hdfRefused(d4rlWithForgedRows(1_000_000)), "declares shape [1000000, 11]", "44000000 bytes",
                "the file has");
    }

    @Test
    void anHdf5DatasetBeyondOneArrayIsRefused() throws IOException {
        assertMentions(hdfRefused(d4rlWithForgedRows(1L << 30)), "more than " + NpzArchive.MAX_ARRAY_VALUES + " values");
    }

    @Test
    void minariSpacesNestedTooDeepAreRefused() {
        Path f = dir.resolve("deep.hdf5");
        int steps = 3;
        try (WritableHdfFile h = HdfFile.write(f)) {
            WritableGroup g = h.putGroup("episode_0");
            WritableGroup obs = g.putGroup("observations");
            for (int level = 0; level < MinariDatasetReader.MAX_SPACE_DEPTH + 4; level++) obs = obs.putGroup("inner");
            obs.putDataset("x", Hdf5Writer.rows(new float[(steps + 1) * 2], 2));
            g.putDataset("actions", Hdf5Writer.rows(new float[steps * 2], 2));
            g.putDataset("rewards", new float[steps]);
            g.putDataset("terminations", new boolean[steps]);
            g.putDataset("truncations", new boolean[steps]);
        }
        DatasetException e = assertThrows(DatasetException.class,
                () -> SourceReaders.read(f, DatasetFormat.MINARI, ReadOptions.DEFAULTS));
        assertMentions(e, f.toString(), "episode_0/observations/inner", "more than " + MinariDatasetReader.MAX_SPACE_DEPTH
                + " levels deep");
    }
}
