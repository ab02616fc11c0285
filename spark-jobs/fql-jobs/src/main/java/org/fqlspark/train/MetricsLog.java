package org.fqlspark.train;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.hadoop.fs.Path;
import org.fqlspark.io.HadoopFiles;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.LossReport;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.train.online.OnlinePhase;

/**
 * The per-round metrics of a run: {@code metrics.csv} gets one line per round as soon as the round ends where the file
 * system appends (local disks, HDFS); where it does not (object stores), the file is replaced atomically only at each
 * checkpoint and at the end, so the bytes written grow with rounds × checkpoints rather than with the square of the
 * rounds. {@code metrics.parquet} is rewritten with all
 * rows at every checkpoint and at the end, so it always agrees with the newest checkpoint. On resume, rows past the
 * resumed checkpoint's step (written by the interrupted run after its last checkpoint) are dropped.
 *
 * <p>Columns: {@code step} (global steps done), {@code round}, {@code workers}, the official code's metric names
 * ({@link LossReport#metrics}: critic/critic_loss, critic/q_mean, critic/q_max, critic/q_min, actor/actor_loss,
 * actor/bc_flow_loss, actor/distill_loss, actor/q_loss, actor/q, grad_norm), each the mean over the round's steps and
 * workers; {@code steps_per_second} (global steps), {@code samples_per_second} (W · steps · batch), {@code round_seconds},
 * {@code compute_seconds} (slowest worker's gradient steps), {@code averaging_seconds} (the rest of the round),
 * {@code elapsed_seconds} since this process started training (evaluations included), and, in rounds that end with a
 * periodic evaluation, {@code eval/success_rate}, {@code eval/mean_return} and {@code eval_seconds} (NaN otherwise).
 */
final class MetricsLog {

    static final List<String> TIMING = List.of("steps_per_second", "samples_per_second", "round_seconds", "compute_seconds",
            "averaging_seconds", "elapsed_seconds");
    /** Periodic evaluation ({@code --eval-every}); NaN in rounds without one. */
    static final List<String> EVALUATION = List.of("eval/success_rate", "eval/mean_return", "eval_seconds");

    private final RunDirectory dir;
    private final List<String> columns;
    private final List<Map<String, Double>> rows = new ArrayList<>();
    private boolean appendSupported;
    /** Rows not yet in metrics.csv (only without append). */
    private int unwritten;

    private MetricsLog(RunDirectory dir, List<String> columns) {
        this.dir = dir;
        this.columns = columns;
        this.appendSupported = !HadoopFiles.isObjectStore(dir.fs());
    }

    static List<String> columns(FqlConfig config) {
        List<String> c = new ArrayList<>(List.of("step", "round", "workers"));
        c.addAll(new LossReport(0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of()).metrics(config.alpha()).keySet());
        c.addAll(TIMING);
        c.addAll(EVALUATION);
        c.addAll(OnlinePhase.METRICS);
        return Collections.unmodifiableList(c);
    }

    /** Opens the log, keeping the rows of an earlier run up to {@code keepUpToStep}. */
    static MetricsLog open(RunDirectory dir, FqlConfig config, long keepUpToStep) throws IOException {
        MetricsLog log = new MetricsLog(dir, columns(config));
        Path csv = dir.file(RunDirectory.METRICS_CSV);
        if (dir.fs().exists(csv)) {
            String[] lines = RunDirectory.utf8(dir.readBytes(csv)).split("\n");
            List<String> header = lines.length > 0 ? List.of(lines[0].split(",", -1)) : List.of();
            // an older build's file (fewer columns, e.g. before the online ones) keeps its rows; a new column reads NaN
            if (!header.isEmpty() && log.columns.containsAll(header)) {
                for (int i = 1; i < lines.length; i++) {
                    String[] f = lines[i].split(",", -1);
                    if (f.length != header.size()) {
                        continue;   // a line cut short by a crash
                    }
                    Map<String, Double> row = new LinkedHashMap<>();
                    for (String c : log.columns) {
                        int at = header.indexOf(c);
                        row.put(c, at < 0 ? (c.equals("online/env_steps") || c.equals("online/episodes") ? 0.0 : Double.NaN)
                                : Double.parseDouble(f[at]));
                    }
                    if (row.get("step") <= keepUpToStep) {
                        log.rows.add(row);
                    }
                }
            }
        }
        log.rewriteCsv();
        return log;
    }

    List<String> columns() {
        return columns;
    }

    List<Map<String, Double>> rows() {
        return Collections.unmodifiableList(rows);
    }

    void append(Map<String, Double> row) throws IOException {
        if (!row.keySet().equals(new java.util.LinkedHashSet<>(columns))) {
            throw new IllegalArgumentException("metrics row has columns " + row.keySet() + ", expected " + columns);
        }
        rows.add(row);
        if (appendSupported) {
            try (OutputStream out = dir.fs().append(dir.file(RunDirectory.METRICS_CSV))) {
                out.write(line(row).getBytes(StandardCharsets.UTF_8));
                return;
            } catch (UnsupportedOperationException | IOException e) {
                appendSupported = false;   // a file system without append: whole-file replacements at checkpoints
            }
        }
        unwritten++;
    }

    /** Brings metrics.csv up to date where rows were held back (file systems without append); called at checkpoints. */
    void flushCsv() throws IOException {
        if (unwritten > 0) {
            rewriteCsv();
            unwritten = 0;
        }
    }

    private void rewriteCsv() throws IOException {
        StringBuilder b = new StringBuilder(String.join(",", columns)).append('\n');
        for (Map<String, Double> r : rows) {
            b.append(line(r));
        }
        dir.writeAtomically(dir.file(RunDirectory.METRICS_CSV), b.toString().getBytes(StandardCharsets.UTF_8));
    }

    private String line(Map<String, Double> row) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            double v = row.get(columns.get(i));
            b.append(i < 3 ? Long.toString((long) v) : format(v));
        }
        return b.append('\n').toString();
    }

    private static String format(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.9g", v) : Double.toString(v);
    }

    /**
     * Rewrites metrics.parquet with every row so far (one file), staged and published with Spark's _SUCCESS last
     * ({@link HadoopFiles#publishDirectory}), and brings metrics.csv up to date.
     */
    void writeParquet(SparkSession spark) throws IOException {
        flushCsv();
        List<StructField> fields = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            fields.add(DataTypes.createStructField(columns.get(i), i < 3 ? DataTypes.LongType : DataTypes.DoubleType, false));
        }
        List<Row> data = new ArrayList<>();
        for (Map<String, Double> r : rows) {
            Object[] v = new Object[columns.size()];
            for (int i = 0; i < v.length; i++) {
                double x = r.get(columns.get(i));
                v[i] = i < 3 ? (Object) (long) x : (Object) x;
            }
            data.add(RowFactory.create(v));
        }
        Path target = dir.file(RunDirectory.METRICS_PARQUET);
        Path tmp = HadoopFiles.hiddenSibling(target, "tmp");
        try {
            spark.createDataFrame(data, new StructType(fields.toArray(StructField[]::new))).coalesce(1)
                    .write().mode(SaveMode.ErrorIfExists).parquet(tmp.toString());
            HadoopFiles.publishSparkOutput(dir.fs(), tmp, target);
        } finally {
            if (dir.fs().exists(tmp)) {
                dir.fs().delete(tmp, true);
            }
        }
    }
}
