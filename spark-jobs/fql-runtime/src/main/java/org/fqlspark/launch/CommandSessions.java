package org.fqlspark.launch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The one way a command gets its SparkSession, and the one parser of {@code --conf KEY=VALUE}.
 *
 * <p>A session that is already running (a notebook's, a test's, one an enclosing command made) is used as it is: only
 * the {@code --conf} values reach it, as Spark's {@code getOrCreate} applies them (runtime SQL settings take effect).
 * A new session gets, where a setting comes from more than one place: {@code --conf} first, then {@code --master}, then
 * spark-submit's configuration (the {@code spark.*} system properties it sets, {@code spark-defaults.conf} included),
 * then the command's defaults:
 * <ul>
 *   <li>the app name;</li>
 *   <li>the master: {@link Builder#defaultMaster} ({@code local[*]} unless the command says otherwise) when neither
 *       {@code --master}, spark-submit nor {@code --conf} names one;</li>
 *   <li>in local mode, the driver bound to loopback ({@code spark.driver.host} and {@code spark.driver.bindAddress}
 *       127.0.0.1) unless a driver host is configured: a laptop's host name often does not resolve;</li>
 *   <li>{@code spark.ui.showConsoleProgress=false} (every command prints its own progress) and the command's own
 *       {@link Builder#setDefault defaults}, each unless spark-submit or {@code --conf} sets it;</li>
 *   <li>the {@link Builder#logLevel log level}, where the command asks for one.</li>
 * </ul>
 */
public final class CommandSessions {

    /** Where a local driver binds. */
    public static final String LOOPBACK = "127.0.0.1";
    /** The master when none is given anywhere. */
    public static final String LOCAL = "local[*]";

    private CommandSessions() {
    }

    /** A session for the command {@code appName} ("fql train /runs/r1"). */
    public static Builder builder(String appName) {
        return new Builder(appName);
    }

    /**
     * The {@code --conf} values, in order (a later one for the same key wins).
     *
     * @throws IllegalArgumentException naming {@code --conf} and the value, for one that is not {@code KEY=VALUE}
     */
    public static Map<String, String> parseConf(List<String> values) {
        Map<String, String> parsed = new LinkedHashMap<>();
        for (String kv : values == null ? List.<String>of() : values) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf expects KEY=VALUE, was '" + kv + "'");
            }
            parsed.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return parsed;
    }

    /**
     * The Hadoop settings Spark will use ({@code spark.hadoop.*} from spark-submit and {@code --conf}), for files a
     * command reads before its session exists: an s3a:// spec needs the same credentials settings as the data.
     */
    public static Configuration hadoopConfiguration(List<String> conf) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (scala.Tuple2<String, String> kv : new SparkConf().getAll()) {
            settings.put(kv._1(), kv._2());
        }
        settings.putAll(parseConf(conf));
        Configuration hadoop = new Configuration();
        settings.forEach((k, v) -> {
            if (k.startsWith("spark.hadoop.")) hadoop.set(k.substring("spark.hadoop.".length()), v);
        });
        return hadoop;
    }

    /** True when no session is active or default: one made now belongs to the command, which stops it when done. */
    public static boolean noneRunning() {
        return SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
    }

    /** What a command asks for; {@link #getOrCreate} makes the session (or hands over the running one). */
    public static final class Builder {
        private final String appName;
        private String master;
        private String defaultMaster = LOCAL;
        private Map<String, String> conf = Map.of();
        private final Map<String, String> defaults = new LinkedHashMap<>();
        private String logLevel;

        private Builder(String appName) {
            this.appName = appName;
            defaults.put("spark.ui.showConsoleProgress", "false");
        }

        /** The command's {@code --master}; null when not given. */
        public Builder master(String master) {
            this.master = master;
            return this;
        }

        /** The master when neither {@code --master}, spark-submit nor {@code --conf} names one (default {@value #LOCAL}). */
        public Builder defaultMaster(String master) {
            this.defaultMaster = master;
            return this;
        }

        /** The command's {@code --conf} values; see {@link CommandSessions#parseConf}. */
        public Builder conf(List<String> values) {
            this.conf = parseConf(values);
            return this;
        }

        /** A setting of this command, for a new session, unless spark-submit or {@code --conf} sets {@code key}. */
        public Builder setDefault(String key, String value) {
            defaults.put(key, value);
            return this;
        }

        /**
         * Each task runs {@code threads} ND4J/OpenMP threads: {@code spark.task.cpus} and the executors'
         * {@code OMP_NUM_THREADS} (with {@code OMP_WAIT_POLICY=PASSIVE}, no busy-waiting), as defaults.
         */
        public Builder threadsPerTask(int threads) {
            String t = Integer.toString(threads);
            return setDefault("spark.task.cpus", t).setDefault("spark.executorEnv.OMP_NUM_THREADS", t)
                    .setDefault("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        }

        /** The log level ("WARN") of a new session's context. */
        public Builder logLevel(String level) {
            this.logLevel = level;
            return this;
        }

        /**
         * Whether the session {@link #getOrCreate} hands over runs its executors on this machine (a {@code local}
         * master), decided before any session is made: a command checks this machine's devices then, before it writes.
         */
        public boolean local() {
            return local(new SparkConf());
        }

        /** {@link #local()} with {@code submitted} as spark-submit's configuration. */
        boolean local(SparkConf submitted) {
            scala.Option<SparkSession> running = SparkSession.getActiveSession();
            if (running.isEmpty()) {
                running = SparkSession.getDefaultSession();
            }
            if (running.isDefined()) {
                return running.get().sparkContext().master().startsWith("local");
            }
            String master = settings(submitted).get("spark.master");
            return (master != null ? master : submitted.get("spark.master", "")).startsWith("local");
        }

        /** The running session, given the {@code --conf} values, or a new one with every setting above. */
        public SparkSession getOrCreate() {
            if (!noneRunning()) {
                SparkSession.Builder b = SparkSession.builder();
                conf.forEach(b::config);
                return b.getOrCreate();
            }
            SparkSession.Builder b = SparkSession.builder();
            settings(new SparkConf()).forEach(b::config);
            SparkSession spark = b.getOrCreate();
            if (logLevel != null) spark.sparkContext().setLogLevel(logLevel);
            return spark;
        }

        /** The settings a new session gets on top of {@code submitted}, spark-submit's configuration; in order. */
        Map<String, String> settings(SparkConf submitted) {
            Predicate<String> given = k -> submitted.contains(k) || conf.containsKey(k);
            Map<String, String> s = new LinkedHashMap<>();
            s.put("spark.app.name", appName);
            String chosen = master != null ? master : given.test("spark.master") ? null : defaultMaster;
            if (chosen != null) s.put("spark.master", chosen);
            String effective = conf.getOrDefault("spark.master", chosen != null ? chosen : submitted.get("spark.master", ""));
            if (effective.startsWith("local") && !given.test("spark.driver.host")) {
                s.put("spark.driver.host", LOOPBACK);
                if (!given.test("spark.driver.bindAddress")) s.put("spark.driver.bindAddress", LOOPBACK);
            }
            defaults.forEach((k, v) -> {
                if (!given.test(k)) s.put(k, v);
            });
            s.putAll(conf);
            return s;
        }
    }
}
