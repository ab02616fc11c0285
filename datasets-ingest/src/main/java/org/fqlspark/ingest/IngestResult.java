package org.fqlspark.ingest;

import org.fqlspark.data.DatasetManifest;

/**
 * @param output the dataset directory, fully qualified
 * @param readSeconds reading and cleaning the source (0 for in-memory data)
 * @param writeSeconds statistics, Parquet shards, manifest and the final rename
 */
public record IngestResult(String output, DatasetManifest manifest, double readSeconds, double writeSeconds) {

    public long transitions() {
        return manifest.counts().transitions();
    }

    public double totalSeconds() {
        return readSeconds + writeSeconds;
    }

    /** End-to-end throughput, transitions per second. */
    public double transitionsPerSecond() {
        return transitions() / Math.max(totalSeconds(), 1e-9);
    }
}
