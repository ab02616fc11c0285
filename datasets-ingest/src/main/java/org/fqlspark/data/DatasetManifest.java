package org.fqlspark.data;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The {@code manifest.json} of a dataset directory, written last: its presence marks a complete dataset.
 * Statistics are per dimension over all transitions (population std, i.e. divided by n); observation
 * statistics cover {@code observations} only.
 */
public record DatasetManifest(
        @JsonProperty("schema_version") int schemaVersion,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("writer") String writer,
        @JsonProperty("source") SourceInfo source,
        @JsonProperty("format") String format,
        @JsonProperty("counts") Counts counts,
        @JsonProperty("obs_dim") int obsDim,
        @JsonProperty("action_dim") int actionDim,
        @JsonProperty("statistics") Statistics statistics,
        @JsonProperty("action_bounds") ActionBounds actionBounds,
        @JsonProperty("shards") List<Shard> shards,
        @JsonProperty("ingest_options") Map<String, Object> ingestOptions) {

    /**
     * @param droppedInvalid transitions dropped for NaN/Inf with --drop-invalid
     * @param clippedActionValues action values clipped to ±(1 − 1e-5)
     */
    public record Counts(
            @JsonProperty("transitions") long transitions,
            @JsonProperty("episodes") long episodes,
            @JsonProperty("dropped_invalid") long droppedInvalid,
            @JsonProperty("clipped_action_values") long clippedActionValues) {
        public Counts {
            if (transitions <= 0 || episodes <= 0 || episodes > transitions || droppedInvalid < 0
                    || clippedActionValues < 0) {
                throw new IllegalArgumentException("inconsistent counts: transitions " + transitions + ", episodes "
                        + episodes + ", dropped " + droppedInvalid + ", clipped " + clippedActionValues);
            }
        }
    }

    /** Per-dimension statistics of one column. */
    public record ColumnStats(
            @JsonProperty("min") double[] min,
            @JsonProperty("max") double[] max,
            @JsonProperty("mean") double[] mean,
            @JsonProperty("std") double[] std) {
        public ColumnStats {
            Objects.requireNonNull(min, "min");
            Objects.requireNonNull(max, "max");
            Objects.requireNonNull(mean, "mean");
            Objects.requireNonNull(std, "std");
            if (max.length != min.length || mean.length != min.length || std.length != min.length) {
                throw new IllegalArgumentException("statistics arrays differ in length");
            }
        }

        public int dim() {
            return min.length;
        }
    }

    public record Statistics(
            @JsonProperty("observations") ColumnStats observations,
            @JsonProperty("actions") ColumnStats actions,
            @JsonProperty("rewards") ColumnStats rewards) {
        public Statistics {
            Objects.requireNonNull(observations, "observations");
            Objects.requireNonNull(actions, "actions");
            Objects.requireNonNull(rewards, "rewards");
        }
    }

    /** The bounds every action lies in after clipping (the policy's output range). */
    public record ActionBounds(@JsonProperty("low") double[] low, @JsonProperty("high") double[] high) {
        public ActionBounds {
            Objects.requireNonNull(low, "low");
            Objects.requireNonNull(high, "high");
            if (low.length != high.length) throw new IllegalArgumentException("bounds differ in length");
        }

        public static ActionBounds clip(int dim) {
            double[] lo = new double[dim];
            double[] hi = new double[dim];
            java.util.Arrays.fill(lo, -DatasetSchema.ACTION_CLIP);
            java.util.Arrays.fill(hi, DatasetSchema.ACTION_CLIP);
            return new ActionBounds(lo, hi);
        }
    }

    /** A Parquet file of the dataset, relative to the dataset directory. */
    public record Shard(@JsonProperty("file") String file, @JsonProperty("rows") long rows) {
        public Shard {
            Objects.requireNonNull(file, "file");
            if (file.contains("/") || file.startsWith(".") || file.startsWith("_")) {
                throw new IllegalArgumentException("shard file must be a plain visible name, was " + file);
            }
            if (rows <= 0) throw new IllegalArgumentException("shard rows must be positive, was " + rows);
        }
    }

    public DatasetManifest {
        if (schemaVersion < 1) throw new IllegalArgumentException("schema_version must be >= 1, was " + schemaVersion);
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(counts, "counts");
        Objects.requireNonNull(statistics, "statistics");
        Objects.requireNonNull(actionBounds, "action_bounds");
        if (obsDim <= 0 || actionDim <= 0) {
            throw new IllegalArgumentException("obs_dim and action_dim must be positive, were " + obsDim + ", "
                    + actionDim);
        }
        if (statistics.observations().dim() != obsDim || statistics.actions().dim() != actionDim
                || statistics.rewards().dim() != 1 || actionBounds.low().length != actionDim) {
            throw new IllegalArgumentException("statistics/bounds dims do not match obs_dim " + obsDim
                    + " and action_dim " + actionDim);
        }
        shards = List.copyOf(Objects.requireNonNull(shards, "shards"));
        long rows = 0;
        for (Shard s : shards) rows += s.rows();
        if (rows != counts.transitions()) {
            throw new IllegalArgumentException("shards hold " + rows + " rows but counts.transitions is "
                    + counts.transitions());
        }
        ingestOptions = ingestOptions == null ? Map.of() : java.util.Collections.unmodifiableMap(
                new TreeMap<>(ingestOptions));
    }

    /** The key under {@code source.details} where every reader records the shift it added to the rewards. */
    public static final String REWARD_SHIFT = "reward_shift";

    /**
     * The shift the ingest added to every reward ({@code source.details.reward_shift}: −1 for D4RL antmaze, or what
     * {@code --reward-shift} asked for); 0 where the manifest records none (generated data, older manifests).
     *
     * @throws DatasetException when the recorded value is not a finite number
     */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public float rewardShift() {
        String v = source.details().get(REWARD_SHIFT);
        if (v == null) return 0f;
        try {
            float f = Float.parseFloat(v.trim());
            if (Float.isFinite(f)) return f;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new DatasetException(DatasetSchema.MANIFEST_FILE, "source.details." + REWARD_SHIFT, "is '" + v
                + "'; expected a finite number");
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("manifest could not be serialised", e);
        }
    }

    /**
     * @param where named in errors
     * @throws DatasetException when the text is not a manifest this code can read
     */
    public static DatasetManifest fromJson(String json, String where) {
        DatasetManifest m;
        try {
            m = JSON.readValue(json, DatasetManifest.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new DatasetException(where, null, "is not a valid dataset manifest (" + e.getMessage() + ")", e);
        }
        if (m.schemaVersion() > DatasetSchema.SCHEMA_VERSION) {
            throw new DatasetException(where, "schema_version", "is " + m.schemaVersion() + "; this code reads "
                    + "data contract versions up to " + DatasetSchema.SCHEMA_VERSION);
        }
        return m;
    }

    /** Writes {@code dir/manifest.json}, refusing to replace an existing one. */
    public void write(FileSystem fs, Path dir) throws IOException {
        try (OutputStream out = fs.create(new Path(dir, DatasetSchema.MANIFEST_FILE), false)) {
            out.write(toJson().getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * Reads {@code dir/manifest.json}.
     *
     * @throws DatasetException when it is absent (not a dataset, or an incomplete one) or invalid
     */
    public static DatasetManifest read(FileSystem fs, Path dir) {
        Path file = new Path(dir, DatasetSchema.MANIFEST_FILE);
        try {
            if (!fs.exists(file)) {
                throw new DatasetException(dir.toString(), DatasetSchema.MANIFEST_FILE, "is missing; expected a "
                        + "dataset directory written by the ingest (the manifest is written last, so its absence "
                        + "also means an incomplete dataset)");
            }
            byte[] bytes = org.fqlspark.io.HadoopFiles.readBounded(fs, file, DatasetSchema.MAX_MANIFEST_BYTES,
                    "a dataset manifest");
            return fromJson(new String(bytes, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new DatasetException(file.toString(), null, "could not be read (" + e.getMessage() + ")", e);
        }
    }
}
