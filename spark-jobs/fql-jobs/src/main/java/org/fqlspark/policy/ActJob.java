package org.fqlspark.policy;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.io.OutputGuard;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;

import org.fqlspark.eval.Policy;

/**
 * Batch inference ({@code fql act}): reads Parquet rows with an {@code observations} column, adds an {@code action}
 * column with {@link FqlPolicyModel} on the executors, and writes Parquet.
 *
 * <p>Before anything is written, the input is checked in one pass: the column exists and is an array of numbers, and
 * no row is null, of the wrong width, or holds NaN/±Inf; otherwise {@link PolicyInputException} names the column,
 * the number of bad rows and one of them. The output is written to a hidden temporary sibling, marked as this
 * command's ({@value #MARKER}), and renamed into place. With a QC-FQL checkpoint (action chunks of h &gt; 1 steps) the
 * action column holds the chunk, {@code h·action_dim} values step-major, and {@link Options#firstActionColumn()} its
 * first action (the marker then records {@code horizon_length}). An existing output is refused unless it is empty (then
 * replaced) or this command's own output and {@code overwrite} is set; nothing the command did not write is ever
 * deleted.
 *
 * <pre>
 * spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar act \
 *     --checkpoint hdfs:///runs/medium --input hdfs:///states --output hdfs:///actions --seed-column seed
 * </pre>
 */
public final class ActJob {

    /** Marks a directory as written by {@code fql act}; Hadoop and Parquet readers skip names starting with '_'. */
    public static final String MARKER = "_FQL_ACT.json";
    /** An act output as {@link OutputGuard} recognises it: Spark's part files and our marker, written last. */
    static final OutputGuard.Kind OUTPUT_KIND = new OutputGuard.Kind("fql act", MARKER, name -> name.startsWith("part-"),
            bytes -> isOurMarker(bytes));

    private static boolean isOurMarker(byte[] bytes) {
        try {
            return "fql act".equals(JSON.readTree(bytes).path("written_by").asText());
        } catch (IOException e) {
            return false;
        }
    }
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * What {@code fql act} was asked to do. {@code firstActionColumn}: with a chunked checkpoint, the column that gets the
     * chunk's first action (empty: none; ignored without chunks). {@code backend}: {@code --backend}, the executors'
     * tensor backend (auto, cpu or opencl; null: auto).
     */
    public record Options(String checkpoint, String input, String output, Policy policy, String inputColumn,
                          String outputColumn, String seedColumn, long seed, boolean exact, boolean overwrite,
                          String firstActionColumn, String backend) {
        public Options {
            backend = org.fqlspark.tensor.Backends.check(backend == null ? org.fqlspark.tensor.Backends.AUTO : backend);
        }

        /** Without a first-action column's name of one's own: {@code first_action}. */
        public Options(String checkpoint, String input, String output, Policy policy, String inputColumn, String outputColumn,
                       String seedColumn, long seed, boolean exact, boolean overwrite) {
            this(checkpoint, input, output, policy, inputColumn, outputColumn, seedColumn, seed, exact, overwrite, "first_action",
                    org.fqlspark.tensor.Backends.AUTO);
        }
    }

    public record Result(String output, String checkpoint, long rows, double seconds) {
    }

    private ActJob() {
    }

    public static Result run(SparkSession spark, Options options, PrintStream progress) {
        long started = System.nanoTime();
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Path target = qualified(options.output(), hadoop, "--output");
        Path input = qualified(options.input(), hadoop, "--input");
        if (isWithin(target, input)) {
            throw new PolicyInputException("--output " + target + " must not be inside --input " + input);
        }
        List<OutputGuard.Keep> keep = List.of(new OutputGuard.Keep("the --input", input.toString()),
                new OutputGuard.Keep("the --checkpoint", options.checkpoint()));
        OutputGuard.check(fileSystem(target, hadoop), target, "--output", OUTPUT_KIND, options.overwrite(), keep);

        FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(options.checkpoint(), hadoop)
                .setPolicy(options.policy().flag())
                .setInputCol(options.inputColumn())
                .setOutputCol(options.outputColumn())
                .setSeedCol(options.seedColumn())
                .setSeed(options.seed())
                .setExact(options.exact())
                .setBackend(options.backend())
                .setFirstActionCol(options.firstActionColumn());
        boolean directory;
        try {
            FileSystem inputFs = fileSystem(input, hadoop);
            if (!inputFs.exists(input)) throw new PolicyInputException("--input " + input + ": no such file or directory");
            directory = inputFs.getFileStatus(input).isDirectory();
        } catch (IOException e) {
            throw new UncheckedIOException("--input " + input + ": " + e.getMessage(), e);
        }
        Dataset<Row> rows;
        try {
            // A dataset directory holds manifest.json beside its shards: read only the *.parquet files of a directory.
            rows = (directory ? spark.read().option("pathGlobFilter", "*.parquet") : spark.read()).parquet(input.toString());
        } catch (Exception e) {   // AnalysisException, which Java does not see declared
            throw new PolicyInputException("--input " + options.input() + ": not readable as Parquet: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        model.transformSchema(rows.schema());
        long count = validate(rows, options.inputColumn(), model.checkpoint().obsDim(), options.seedColumn(), options.input());
        if (progress != null) {
            progress.printf("act: %d rows of %s with the %s policy of %s (step %d)%n", count, input, options.policy().flag(),
                    model.checkpointSource(), model.checkpoint().state().step());
        }

        FileSystem fs = fileSystem(target, hadoop);
        Path temporary = HadoopFiles.hiddenSibling(target, "tmp");
        try {
            try {
                fs.mkdirs(target.getParent());
                model.transform(rows).write().mode(SaveMode.ErrorIfExists).parquet(temporary.toString());
                writeMarker(fs, temporary, options, model, count);
                OutputGuard.check(fs, target, "--output", OUTPUT_KIND, options.overwrite(), keep);   // appeared meanwhile?
                HadoopFiles.publishDirectory(fs, temporary, target, MARKER, OUTPUT_KIND.ownEntry());
            } finally {
                if (fs.exists(temporary)) fs.delete(temporary, true);   // our own temporary, never anything else
            }
        } catch (IOException e) {
            throw new UncheckedIOException("--output " + target + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw inputCause(e);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        if (progress != null) progress.printf("act: wrote %d rows to %s in %.1f s%n", count, target, seconds);
        return new Result(target.toString(), model.checkpointSource(), count, seconds);
    }

    /**
     * One pass over the input: counts rows, and rows whose observation is null, of the wrong width, or not finite
     * (and null seeds); refuses the input, naming one bad row, if any.
     */
    static long validate(Dataset<Row> rows, String column, int width, String seedColumn, String inputName) {
        Column observation = functions.col(column);
        Column nonFinite = functions.exists(observation, x -> x.isNull().or(functions.isnan(x))
                .or(x.equalTo(Double.POSITIVE_INFINITY)).or(x.equalTo(Double.NEGATIVE_INFINITY)));
        Column wrongWidth = functions.size(observation).notEqual(width);
        Column nullRow = observation.isNull();
        Column nullSeed = seedColumn == null || seedColumn.isEmpty() ? functions.lit(false) : functions.col(seedColumn).isNull();
        Row counts = rows.agg(
                functions.count(functions.lit(1)),
                functions.sum(functions.when(nullRow, 1).otherwise(0)),
                functions.sum(functions.when(functions.not(nullRow).and(wrongWidth), 1).otherwise(0)),
                functions.sum(functions.when(functions.not(nullRow).and(functions.not(wrongWidth)).and(nonFinite), 1).otherwise(0)),
                functions.sum(functions.when(nullSeed, 1).otherwise(0))).first();
        long total = counts.getLong(0);
        if (total == 0) return 0;
        String where = "--input " + inputName + ", column '" + column + "': ";
        if (counts.getLong(1) > 0) {
            throw new PolicyInputException(where + counts.getLong(1) + " of " + total + " rows are null; expected " + width + " finite numbers");
        }
        if (counts.getLong(2) > 0) {
            Row example = rows.filter(wrongWidth).select(functions.size(observation)).first();
            throw new PolicyInputException(where + counts.getLong(2) + " of " + total + " rows have the wrong width (one has "
                    + example.getInt(0) + " values); the checkpoint's policy expects " + width);
        }
        if (counts.getLong(3) > 0) {
            Row example = rows.filter(nonFinite).select(observation).first();
            throw new PolicyInputException(where + counts.getLong(3) + " of " + total + " rows hold NaN, infinite or null values (one is "
                    + example.get(0) + "); expected finite numbers");
        }
        if (counts.getLong(4) > 0) {
            throw new PolicyInputException("--input " + inputName + ", seed column '" + seedColumn + "': " + counts.getLong(4) + " of "
                    + total + " rows have a null seed");
        }
        return total;
    }

    private static void writeMarker(FileSystem fs, Path dir, Options options, FqlPolicyModel model, long rows) throws IOException {
        Map<String, Object> marker = new LinkedHashMap<>();
        marker.put("written_by", "fql act");
        marker.put("checkpoint", model.checkpointSource());
        marker.put("checkpoint_step", model.checkpoint().state().step());
        marker.put("policy", options.policy().flag());
        marker.put("input", options.input());
        marker.put("rows", rows);
        marker.put("seed_column", options.seedColumn());
        marker.put("seed", options.seed());
        if (model.horizon() > 1) {
            marker.put("horizon_length", model.horizon());
            marker.put("first_action_column", model.addsFirstAction() ? model.getFirstActionCol() : null);
        }
        try (OutputStream out = fs.create(new Path(dir, MARKER), false)) {
            out.write(JSON.writeValueAsString(marker).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static Path qualified(String location, Configuration hadoop, String flag) {
        if (location == null || location.isBlank()) throw new PolicyInputException(flag + " is missing");
        Path path = new Path(location);
        return fileSystem(path, hadoop).makeQualified(path);
    }

    private static FileSystem fileSystem(Path path, Configuration hadoop) {
        try {
            return path.getFileSystem(hadoop);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": " + e.getMessage(), e);
        }
    }

    private static boolean isWithin(Path inner, Path outer) {
        for (Path p = inner; p != null; p = p.getParent()) {
            if (p.equals(outer)) return true;
        }
        return false;
    }

    /** A bad-input error thrown inside a task arrives wrapped in a SparkException; surface it as itself. */
    private static RuntimeException inputCause(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PolicyInputException input) return new PolicyInputException(input.getMessage(), e);
        }
        return e;
    }
}
