package org.fqlspark.sweep;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.fqlspark.eval.EvalSummary;
import org.fqlspark.sweep.SweepSpec.Trial;
import org.fqlspark.train.TrainResult;

/**
 * The sweep's results table: one row per trial, written as {@code results.parquet} and {@code results.csv}, and the
 * choice of the best trial.
 *
 * <p>Columns, in order: {@code trial_id}, {@code trial_index}, {@code status} ({@code completed} or {@code failed}),
 * {@code parameters} (the varied values, e.g. {@code "alpha=3.0 seed=1"}), one column per variant axis (its label),
 * the resolved experiment ({@code data}, {@code preset}, {@code agent_*}, {@code train_*}, {@code evaluate_*}: every
 * hyper-parameter, hidden widths as {@code "512,512,512,512"}); the evaluation ({@code success_rate},
 * {@code success_rate_ci95_low/high}, {@code mean_return}, {@code return_std}, {@code return_ci95_low/high},
 * {@code mean_length}, {@code normalized_score}, {@code episodes_completed}, {@code episodes_failed},
 * {@code checkpoint_step}); the training ({@code final_step}, {@code samples_per_second}, and the last round's metrics
 * as {@code last_<name>} with '/' written '_', e.g. {@code last_critic_q_mean}, {@code last_actor_distill_loss});
 * wall times ({@code train_seconds}, {@code eval_seconds} of the invocation that finished the trial), then
 * {@code run_dir}, {@code eval_dir}, {@code finished_at} and {@code error}.
 */
final class ResultsTable {

    private static final List<String> LAST_COLUMNS = List.of("run_dir", "eval_dir", "finished_at", "error");
    /** Training metrics that say where a round was, not how it went; the table has final_step for that. */
    private static final Set<String> NOT_METRICS = Set.of("step", "round", "workers");

    private ResultsTable() {
    }

    static Map<String, Object> trainingSummary(TrainResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("final_step", r.finalStep());
        m.put("samples_per_second", r.samplesPerSecond() > 0 ? r.samplesPerSecond() : null);
        m.put("last_metrics", r.lastMetrics());
        return m;
    }

    /** From a run's result.json (TrainJob's keys). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> trainingSummary(Map<String, Object> resultJson) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("final_step", ((Number) resultJson.get("final_step")).longValue());
        Object sps = resultJson.get("samples_per_second");
        m.put("samples_per_second", sps instanceof Number n && n.doubleValue() > 0 ? n.doubleValue() : null);
        Object last = resultJson.get("last_metrics");
        m.put("last_metrics", last instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of());
        return m;
    }

    /** The column holding the SHA-256 of the dataset manifest a trial trained and was evaluated on. */
    static final String DATASET_SHA = "dataset_manifest_sha256";

    static Map<String, Object> row(Trial trial, Map<String, Object> training, EvalSummary s, String runDir, String evalDir,
                                   double trainSeconds, double evalSeconds, String finishedAt, String datasetSha) {
        Map<String, Object> row = head(trial, s.episodesFailed() > 0 ? "incomplete" : "completed");
        row.put("success_rate", s.successRate());
        row.put("success_rate_ci95_low", low(s.successRateCi95()));
        row.put("success_rate_ci95_high", high(s.successRateCi95()));
        row.put("mean_return", s.meanReturn());
        row.put("return_std", s.returnStd());
        row.put("return_ci95_low", low(s.returnCi95()));
        row.put("return_ci95_high", high(s.returnCi95()));
        row.put("mean_length", s.meanLength());
        row.put("normalized_score", s.normalizedScore());
        row.put("episodes_completed", s.episodesCompleted());
        row.put("episodes_failed", s.episodesFailed());
        row.put("checkpoint_step", s.checkpointStep());
        row.put("final_step", training.get("final_step"));
        row.put("samples_per_second", training.get("samples_per_second"));
        Object last = training.get("last_metrics");
        if (last instanceof Map<?, ?> metrics) {
            metrics.forEach((k, v) -> {
                if (!NOT_METRICS.contains(k.toString()) && v instanceof Number n) {
                    row.put("last_" + columnName(k.toString()), n.doubleValue());
                }
            });
        }
        row.put("train_seconds", trainSeconds);
        row.put("eval_seconds", evalSeconds);
        row.put("run_dir", runDir);
        row.put("eval_dir", evalDir);
        row.put("finished_at", finishedAt);
        row.put(DATASET_SHA, datasetSha);
        row.put("error", s.episodesFailed() > 0 ? s.episodesFailed() + " evaluation episodes failed" : null);
        return row;
    }

    static Map<String, Object> failedRow(Trial trial, String error) {
        Map<String, Object> row = head(trial, "failed");
        row.put("error", error);
        return row;
    }

    private static Map<String, Object> head(Trial trial, String status) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("trial_id", trial.id());
        row.put("trial_index", trial.index());
        row.put("status", status);
        row.put("parameters", SweepSpec.compact(trial.parameters()));
        Map<String, Object> flat = trial.config().flatten();
        for (String axis : trial.variantAxes()) {   // grid axes are among the resolved columns below
            String column = columnName(axis);
            row.put(flat.containsKey(column) || row.containsKey(column) ? "variant_" + column : column,
                    String.valueOf(trial.parameters().get(axis)));
        }
        row.putAll(flat);
        return row;
    }

    /** Lower-case letters, digits and '_' only, so SQL needs no back-quotes. */
    static String columnName(String name) {
        String c = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]+", "_").replaceAll("^_+|_+$", "");
        return c.isEmpty() || Character.isDigit(c.charAt(0)) ? "c_" + c : c;
    }

    private static Double low(double[] interval) {
        return interval == null ? null : interval[0];
    }

    private static Double high(double[] interval) {
        return interval == null ? null : interval[1];
    }

    static Map<String, Object> readRow(Path marker, Configuration hadoop) {
        return readJson(marker, hadoop);
    }

    static Map<String, Object> readJson(Path path, Configuration hadoop) {
        try {
            return SweepFiles.JSON.readValue(SweepFiles.readText(path, hadoop), SweepFiles.MAP);
        } catch (IOException e) {
            throw new IllegalArgumentException(path + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The best completed trial: highest success rate, then highest mean return, then the earlier trial. Undefined
     * values (no completed episode) rank last.
     */
    static Map<String, Object> best(List<SweepJob.Outcome> outcomes) {
        Comparator<SweepJob.Outcome> order = Comparator
                .comparingDouble((SweepJob.Outcome o) -> -orMinus(o.row().get("success_rate")))
                .thenComparingDouble(o -> -orMinus(o.row().get("mean_return")))
                .thenComparingInt(o -> o.trial().index());
        List<SweepJob.Outcome> ranked = outcomes.stream()
                .filter(o -> o.row() != null && o.status() != SweepJob.Status.INCOMPLETE).sorted(order).toList();
        Map<String, Object> best = new LinkedHashMap<>();
        best.put("selected_by", "highest success_rate, then highest mean_return, then the earlier trial");
        best.put("trials", outcomes.size());
        best.put("completed", ranked.size());
        best.put("incomplete", outcomes.stream().filter(o -> o.status() == SweepJob.Status.INCOMPLETE).count());
        best.put("failed", outcomes.stream().filter(o -> o.status() == SweepJob.Status.FAILED).count());
        if (ranked.isEmpty()) {
            best.put("trial_id", null);
            return best;
        }
        SweepJob.Outcome top = ranked.get(0);
        Map<String, Object> row = top.row();
        best.put("trial_id", top.trial().id());
        best.put("parameters", top.trial().parameters());
        for (String key : List.of("success_rate", "success_rate_ci95_low", "success_rate_ci95_high", "mean_return", "return_std",
                "normalized_score", "episodes_completed", "episodes_failed", "checkpoint_step", "run_dir", "eval_dir")) {
            best.put(key, row.get(key));
        }
        best.put("config", top.trial().config());
        List<Map<String, Object>> ranking = new ArrayList<>();
        for (SweepJob.Outcome o : ranked) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("trial_id", o.trial().id());
            r.put("parameters", o.trial().parameters());
            r.put("success_rate", o.row().get("success_rate"));
            r.put("mean_return", o.row().get("mean_return"));
            ranking.add(r);
        }
        best.put("ranking", ranking);
        return best;
    }

    private static double orMinus(Object v) {
        return v instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : Double.NEGATIVE_INFINITY;
    }

    // ------------------------------------------------------------------ writing

    static void write(SparkSession spark, List<Map<String, Object>> rows, Path parquet, Path csv) {
        List<String> columns = columns(rows);
        List<DataType> types = new ArrayList<>();
        for (String c : columns) {
            types.add(typeOf(rows, c));
        }
        writeParquet(spark, rows, columns, types, parquet);
        SweepFiles.writeAtomically(csv, csv(rows, columns, types), spark.sparkContext().hadoopConfiguration());
    }

    static List<String> columns(List<Map<String, Object>> rows) {
        Set<String> all = new LinkedHashSet<>();
        rows.forEach(r -> all.addAll(r.keySet()));
        List<String> columns = new ArrayList<>();
        all.stream().filter(c -> !LAST_COLUMNS.contains(c)).forEach(columns::add);
        columns.addAll(LAST_COLUMNS);
        return columns;
    }

    /** Integers → bigint, any fraction → double, booleans → boolean, anything else (or a mix) → string. */
    static DataType typeOf(List<Map<String, Object>> rows, String column) {
        boolean integral = true;
        boolean numeric = true;
        boolean bool = true;
        boolean any = false;
        for (Map<String, Object> r : rows) {
            Object v = r.get(column);
            if (v == null) continue;
            any = true;
            boolean isIntegral = v instanceof Integer || v instanceof Long || v instanceof Short;
            integral &= isIntegral;
            numeric &= v instanceof Number;
            bool &= v instanceof Boolean;
        }
        if (!any) return DataTypes.StringType;
        if (bool) return DataTypes.BooleanType;
        if (integral) return DataTypes.LongType;
        if (numeric) return DataTypes.DoubleType;
        return DataTypes.StringType;
    }

    private static Object convert(Object v, DataType type) {
        if (v == null) return null;
        if (type == DataTypes.LongType) return ((Number) v).longValue();
        if (type == DataTypes.DoubleType) return ((Number) v).doubleValue();
        if (type == DataTypes.BooleanType) return v;
        return v instanceof String s ? s : v instanceof Map<?, ?> || v instanceof List<?> ? SweepFiles.json(v).trim() : v.toString();
    }

    private static void writeParquet(SparkSession spark, List<Map<String, Object>> rows, List<String> columns, List<DataType> types,
                                     Path target) {
        List<StructField> fields = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            fields.add(DataTypes.createStructField(columns.get(i), types.get(i), true));
        }
        List<Row> data = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Object[] values = new Object[columns.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = convert(r.get(columns.get(i)), types.get(i));
            }
            data.add(RowFactory.create(values));
        }
        Configuration hadoop = spark.sparkContext().hadoopConfiguration();
        Path tmp = org.fqlspark.io.HadoopFiles.hiddenSibling(target, "tmp");
        try {
            FileSystem fs = target.getFileSystem(hadoop);
            try {
                spark.createDataFrame(data, new StructType(fields.toArray(StructField[]::new))).coalesce(1)
                        .write().mode(SaveMode.ErrorIfExists).parquet(tmp.toString());
                org.fqlspark.io.HadoopFiles.publishSparkOutput(fs, tmp, target);
            } finally {
                if (fs.exists(tmp)) {
                    fs.delete(tmp, true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    static String csv(List<Map<String, Object>> rows, List<String> columns, List<DataType> types) {
        StringBuilder b = new StringBuilder(String.join(",", columns)).append('\n');
        for (Map<String, Object> r : rows) {
            for (int i = 0; i < columns.size(); i++) {
                if (i > 0) b.append(',');
                Object v = convert(r.get(columns.get(i)), types.get(i));
                if (v != null) {
                    b.append(quote(v.toString()));
                }
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String quote(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
