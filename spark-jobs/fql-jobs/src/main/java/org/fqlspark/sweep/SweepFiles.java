package org.fqlspark.sweep;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Small files of a sweep on any Hadoop file system (local, hdfs://, s3a://), and the JSON/YAML mappers. */
final class SweepFiles {

    /** The largest spec or experiment file read (16 MiB: a grid of every value a sweep may have is far smaller). */
    static final int MAX_YAML_BYTES = 16 << 20;

    static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    /** Pretty JSON for files people read. */
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    /** Keys sorted and no white space: the canonical form a trial id hashes. */
    static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    static final ObjectMapper YAML = YAMLMapper.builder(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            // A key written twice would silently keep only the last value (a whole section, for a repeated "train:").
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private SweepFiles() {
    }

    static Path qualify(String location, Configuration hadoop) {
        try {
            Path p = new Path(location);
            return p.getFileSystem(hadoop).makeQualified(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the file system of " + location + ": " + e.getMessage(), e);
        }
    }

    static boolean exists(Path path, Configuration hadoop) {
        try {
            return path.getFileSystem(hadoop).exists(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** A spec or experiment file, refused by its size (before it is read) above {@link #MAX_YAML_BYTES}. */
    static String readText(Path path, Configuration hadoop) {
        try {
            return new String(org.fqlspark.io.HadoopFiles.readBounded(path.getFileSystem(hadoop), path, MAX_YAML_BYTES,
                    "a sweep spec or experiment config"), StandardCharsets.UTF_8);
        } catch (org.fqlspark.data.DatasetException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException(path + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Replaces the file in one atomic step: readers see the old file or the whole new one. */
    static void writeAtomically(Path target, String text, Configuration hadoop) {
        try {
            org.fqlspark.io.HadoopFiles.replaceAtomically(target.getFileSystem(hadoop), target, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** The SHA-256 of a dataset's manifest.json: what a trial's marker records to notice a re-ingested dataset. */
    static String manifestSha256(String data, Configuration hadoop) {
        Path manifest = new Path(qualify(data, hadoop), org.fqlspark.data.DatasetSchema.MANIFEST_FILE);
        try {
            byte[] bytes = org.fqlspark.io.HadoopFiles.readBounded(manifest.getFileSystem(hadoop), manifest,
                    org.fqlspark.data.DatasetSchema.MAX_MANIFEST_BYTES, "a dataset manifest");
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("data " + data + ": no " + manifest.getName() + " (not an ingested dataset)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + manifest + ": " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Takes the one-driver lease on a sweep or run directory. */
    static org.fqlspark.io.Lease lease(Path dir, String what, Configuration hadoop, java.io.PrintStream log) {
        try {
            return org.fqlspark.io.Lease.acquire(dir.getFileSystem(hadoop), dir, what, note -> log.println("fql sweep: " + note));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot take the lease on " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Renames when {@code from} exists. */
    static void rename(Path from, Path to, Configuration hadoop) {
        try {
            FileSystem fs = from.getFileSystem(hadoop);
            if (fs.exists(from) && !fs.rename(from, to)) throw new IOException("could not rename " + from + " to " + to);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    static void delete(Path path, Configuration hadoop) {
        try {
            FileSystem fs = path.getFileSystem(hadoop);
            if (fs.exists(path)) {
                fs.delete(path, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path + ": " + e.getMessage(), e);
        }
    }

    static void mkdirs(Path path, Configuration hadoop) {
        try {
            path.getFileSystem(hadoop).mkdirs(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + path + ": " + e.getMessage(), e);
        }
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String yaml(Object value) {
        try {
            return YAML.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
