package org.fqlspark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestTest {

    /**
     * A manifest larger than any this project writes is refused by its size, before it is read (issue 21, item 7): the
     * file here is sparse, 65 MiB of nothing, which reading whole would allocate and then fail to parse.
     */
    @Test
    void anOversizedManifestIsRefusedByItsSizeBeforeItIsRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path file = dir.resolve(DatasetSchema.MANIFEST_FILE);
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(65L << 20);
        }
        org.apache.hadoop.fs.FileSystem fs = org.apache.hadoop.fs.FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
        long readBefore = bytesRead(fs);
        DatasetException e = assertThrows(DatasetException.class,
                () -> DatasetManifest.read(fs, new org.apache.hadoop.fs.Path(dir.toUri())));
        assertTrue(e.getMessage().contains(DatasetSchema.MANIFEST_FILE) && e.getMessage().contains(String.valueOf(65L << 20))
                && e.getMessage().contains("at most " + DatasetSchema.MAX_MANIFEST_BYTES), e.getMessage());
        assertTrue(bytesRead(fs) - readBefore < 1 << 20, "read " + (bytesRead(fs) - readBefore) + " bytes of it");
    }

    private static long bytesRead(org.apache.hadoop.fs.FileSystem fs) {
        return org.apache.hadoop.fs.FileSystem.getAllStatistics().stream().filter(s -> fs.getUri().getScheme().equals(s.getScheme()))
                .mapToLong(org.apache.hadoop.fs.FileSystem.Statistics::getBytesRead).sum();
    }

    @Test
    void statisticsMatchAHandComputation() {
        // two dims over three rows: (1, -2), (2, 0), (6, 2)
        DatasetManifest.ColumnStats s = DatasetStatistics.of(new float[] {1, -2, 2, 0, 6, 2}, 2);
        assertArrayEquals(new double[] {1, -2}, s.min());
        assertArrayEquals(new double[] {6, 2}, s.max());
        assertArrayEquals(new double[] {3, 0}, s.mean());
        // population std: sqrt(((1-3)^2 + (2-3)^2 + (6-3)^2) / 3) = sqrt(14/3); sqrt((4 + 0 + 4) / 3)
        assertEquals(Math.sqrt(14.0 / 3), s.std()[0], 1e-15);
        assertEquals(Math.sqrt(8.0 / 3), s.std()[1], 1e-15);
    }

    @Test
    void statisticsOfFloat32ValuesUseTheirExactValues() {
        float v = 0.1f; // not 0.1: the manifest describes the stored float32 values
        DatasetManifest.ColumnStats s = DatasetStatistics.of(new float[] {v, v}, 1);
        assertEquals((double) v, s.mean()[0]);
        assertEquals(0.0, s.std()[0]);
    }

    static DatasetManifest sample() {
        DatasetManifest.ColumnStats obs = DatasetStatistics.of(new float[] {1, 2, 3, 4}, 2);
        DatasetManifest.ColumnStats act = DatasetStatistics.of(new float[] {0.5f, -0.5f}, 1);
        DatasetManifest.ColumnStats rew = DatasetStatistics.of(new float[] {0, -1}, 1);
        return new DatasetManifest(DatasetSchema.SCHEMA_VERSION, "2026-11-25T00:00:00Z", "test",
                new SourceInfo("/data/x.npz", "npz", "ab".repeat(32), 123, Map.of("form", "raw")), "npz",
                new DatasetManifest.Counts(2, 1, 0, 3), 2, 1,
                new DatasetManifest.Statistics(obs, act, rew), DatasetManifest.ActionBounds.clip(1),
                List.of(new DatasetManifest.Shard("part-00000.parquet", 2)), Map.of("shards", 1));
    }

    @Test
    void manifestRoundTripsThroughJsonWithSnakeCaseKeys() {
        DatasetManifest m = sample();
        String json = m.toJson();
        for (String key : List.of("\"schema_version\"", "\"sha256\"", "\"obs_dim\"", "\"action_dim\"",
                "\"action_bounds\"", "\"dropped_invalid\"", "\"ingest_options\"", "\"shards\"", "\"std\"")) {
            assertTrue(json.contains(key), key + " in " + json);
        }
        DatasetManifest back = DatasetManifest.fromJson(json, "mem");
        assertEquals(m.source(), back.source());
        assertEquals(m.counts(), back.counts());
        assertEquals(m.shards(), back.shards());
        assertArrayEquals(m.statistics().observations().std(), back.statistics().observations().std());
        assertArrayEquals(m.actionBounds().high(), back.actionBounds().high());
        assertEquals(DatasetSchema.ACTION_CLIP, (float) back.actionBounds().high()[0]);
        assertEquals(json, back.toJson());
    }

    @Test
    void manifestFromANewerContractIsRefused() {
        String json = sample().toJson().replace("\"schema_version\" : 1", "\"schema_version\" : 99");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetManifest.fromJson(json, "m.json"));
        assertEquals("schema_version", e.key());
    }

    @Test
    void inconsistentManifestIsRefused() {
        String json = sample().toJson().replace("\"rows\" : 2", "\"rows\" : 5");
        assertThrows(DatasetException.class, () -> DatasetManifest.fromJson(json, "m.json"));
    }
}
