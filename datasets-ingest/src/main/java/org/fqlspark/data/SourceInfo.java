package org.fqlspark.data;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where a dataset came from, as recorded in its manifest.
 *
 * @param path the source as given (a file path or URI, or a generator's name)
 * @param format {@code npz}, {@code d4rl}, {@code minari}, or a producer's own word such as {@code generated}
 * @param sha256 hex SHA-256 of the source file's bytes; null when there is no file
 * @param sizeBytes the source file's size; 0 when there is no file
 * @param details format-specific facts (form, reward labelling, rows dropped by timeouts, ...)
 */
public record SourceInfo(
        @JsonProperty("path") String path,
        @JsonProperty("format") String format,
        @JsonProperty("sha256") String sha256,
        @JsonProperty("size_bytes") long sizeBytes,
        @JsonProperty("details") Map<String, String> details) {

    public SourceInfo {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        if (sha256 != null && !sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits, was " + sha256);
        }
        if (sizeBytes < 0) throw new IllegalArgumentException("sizeBytes must be >= 0, was " + sizeBytes);
        // sorted, so the manifest's JSON is stable
        details = java.util.Collections.unmodifiableMap(new TreeMap<>(details == null ? Map.of() : details));
    }

    /** Source info for data made in memory (the generator), which has no file to checksum. */
    public static SourceInfo generated(String name, Map<String, String> details) {
        return new SourceInfo(name, "generated", null, 0, details);
    }

    SourceInfo withDetails(Map<String, String> more) {
        Map<String, String> all = new TreeMap<>(details);
        all.putAll(more);
        return new SourceInfo(path, format, sha256, sizeBytes, all);
    }
}
