package org.fqlspark.ingest;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.fqlspark.data.DatasetFormat;
import org.fqlspark.data.ReadOptions;

/**
 * What to ingest and where to.
 *
 * @param input the source: a local path, a {@code file://} URI, or any Hadoop URI (copied to a local temp
 *     file first: the format libraries need random access). Null only for {@link IngestJob#write}
 * @param output the dataset directory to create, on any Hadoop file system ({@code file://}, {@code hdfs://},
 *     {@code s3a://}); a path without scheme means the default file system
 * @param format null to detect it from the input
 * @param shards number of Parquet files; 0 picks one per {@value #AUTO_ROWS_PER_SHARD} transitions. Never
 *     more than the number of transitions
 * @param overwrite replace an existing output; otherwise an existing output is refused
 * @param dropInvalid drop transitions holding NaN/Inf (counted in the manifest) instead of failing
 * @param read how the source becomes transitions (reward shift, D4RL family, raw OGBench goal labelling)
 */
public record IngestOptions(
        String input,
        String output,
        DatasetFormat format,
        int shards,
        boolean overwrite,
        boolean dropInvalid,
        ReadOptions read) {

    public static final int AUTO_ROWS_PER_SHARD = 250_000;

    public IngestOptions {
        if (output == null || output.isBlank()) throw new IllegalArgumentException("an output path is required");
        if (input != null && input.isBlank()) throw new IllegalArgumentException("the input path is blank");
        if (shards < 0) throw new IllegalArgumentException("shards must be >= 0 (0 = automatic), was " + shards);
        read = read == null ? ReadOptions.DEFAULTS : read;
    }

    /** Ingest {@code input} into {@code output} with the defaults. */
    public static IngestOptions of(String input, String output) {
        return new IngestOptions(Objects.requireNonNull(input, "input"), output, null, 0, false, false, null);
    }

    /** Options for {@link IngestJob#write}, which takes data already in memory. */
    public static IngestOptions forOutput(String output) {
        return new IngestOptions(null, output, null, 0, false, false, null);
    }

    public IngestOptions withShards(int n) {
        return new IngestOptions(input, output, format, n, overwrite, dropInvalid, read);
    }

    public IngestOptions withOverwrite(boolean b) {
        return new IngestOptions(input, output, format, shards, b, dropInvalid, read);
    }

    public IngestOptions withDropInvalid(boolean b) {
        return new IngestOptions(input, output, format, shards, overwrite, b, read);
    }

    public IngestOptions withFormat(DatasetFormat f) {
        return new IngestOptions(input, output, f, shards, overwrite, dropInvalid, read);
    }

    public IngestOptions withRead(ReadOptions r) {
        return new IngestOptions(input, output, format, shards, overwrite, dropInvalid, r);
    }

    /** The shard count for {@code rows} transitions. */
    public int shardsFor(long rows) {
        long wanted = shards > 0 ? shards : (rows + AUTO_ROWS_PER_SHARD - 1) / AUTO_ROWS_PER_SHARD;
        return (int) Math.max(1, Math.min(wanted, rows));
    }

    /** The options as recorded in the manifest. */
    Map<String, Object> toManifestMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input", input);
        m.put("output", output);
        m.put("format", format == null ? "auto" : format.cliName());
        m.put("shards", shards == 0 ? "auto" : shards);
        m.put("overwrite", overwrite);
        m.put("drop_invalid", dropInvalid);
        m.put("reward_shift", read.rewardShift() == null ? "auto" : read.rewardShift());
        m.put("d4rl_family", read.d4rlFamily().toString());
        m.put("goal", read.goal() == null ? null
                : Map.of("x", read.goal().x(), "y", read.goal().y(), "radius", read.goal().radius()));
        return m;
    }
}
