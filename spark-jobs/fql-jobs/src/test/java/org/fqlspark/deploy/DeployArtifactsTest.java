package org.fqlspark.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.cli.FqlCli;
import org.fqlspark.sweep.ExperimentConfig;
import org.fqlspark.sweep.SweepSpec;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/ stays runnable: every main class it names loads, every fql command it names exists, every shell script
 * parses, the submit scripts build the settings they promise, the discovery script speaks Spark's JSON, the experiment
 * configs state every hyper-parameter and match the paper's presets, and the Java 17 opens are the parent pom's list
 * everywhere (the launcher's, the shaded jar's manifest, the scripts', the manifests', the DAG's). (That the named classes are inside the shaded jar is checked after packaging by {@link DeployJarIT}.)
 */
class DeployArtifactsTest {

    private static final List<String> AGENT_KEYS = List.of("lr", "batch_size", "actor_hidden_dims", "value_hidden_dims", "layer_norm",
            "actor_layer_norm", "discount", "tau", "q_agg", "alpha", "flow_steps", "normalize_q_loss", "adam_b1", "adam_b2", "adam_eps",
            "ln_eps");
    private static final List<String> TRAIN_KEYS = List.of("steps", "workers", "averaging_frequency", "checkpoint_every",
            "keep_checkpoints", "threads_per_worker", "aggregation_depth", "seed");

    @Test
    void everyMainClassNamedInDeployLoads() {
        Map<String, TreeSet<String>> classes = DeployFiles.mainClasses();
        assertTrue(classes.containsKey("org.fqlspark.cli.FqlCli"), "deploy/ names no main class: " + classes);
        Set<String> naming = new TreeSet<>();
        classes.values().forEach(naming::addAll);
        for (String expected : List.of("deploy/submit-local.sh", "deploy/submit-standalone.sh", "deploy/submit-yarn.sh",
                "deploy/submit-k8s.sh", "deploy/k8s/fql-train-gpu.yaml", "deploy/k8s/fql-sweep-scheduled.yaml",
                "deploy/airflow/fql_sweep_dag.py", "deploy/README.md")) {
            assertTrue(naming.contains(expected), expected + " names no main class (found in " + naming + ")");
        }
        classes.forEach((name, files) -> {
            assertTrue(name.matches("([a-z_][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*"), "not a class name: '" + name + "' in " + files);
            try {
                Class<?> c = Class.forName(name, false, getClass().getClassLoader());
                c.getMethod("main", String[].class);
            } catch (ClassNotFoundException e) {
                fail("main class " + name + " named in " + files + " does not exist");
            } catch (NoSuchMethodException e) {
                fail(name + " named in " + files + " has no main(String[])");
            }
        });
    }

    @Test
    void everyFqlCommandNamedInDeployExists() {
        Set<String> known = FqlCli.commandLine().getSubcommands().keySet();
        Map<String, TreeSet<String>> commands = DeployFiles.commands();
        for (String expected : List.of("train", "evaluate", "sweep", "act")) {
            assertTrue(commands.containsKey(expected), "deploy/ never runs '" + expected + "': " + commands);
        }
        commands.forEach((command, files) ->
                assertTrue(known.contains(command), "'" + command + "' named in " + files + " is not an fql command " + known));
    }

    @Test
    void everyShellScriptPassesBashN() throws Exception {
        List<Path> scripts = new ArrayList<>(DeployFiles.files(".sh"));
        assertTrue(scripts.size() >= 6, "expected the submit scripts, the library and the discovery script: " + scripts);
        for (Path script : scripts) {
            Result r = run(List.of("bash", "-n", script.toString()), Map.of());
            assertEquals(0, r.code, DeployFiles.relative(script) + " does not parse: " + r.err);
            if (!script.getParent().getFileName().toString().equals("lib")) {
                assertTrue(Files.isExecutable(script), DeployFiles.relative(script) + " is not executable");
            }
        }
    }

    @Test
    void submitScriptsBuildTheSettingsTheyPromise(@TempDir Path dir) throws Exception {
        Path jar = Files.createFile(dir.resolve("fql-spark.jar"));
        Map<String, String> common = new LinkedHashMap<>();
        common.put("FQL_JAR", jar.toString());
        common.put("SPARK_SUBMIT", "/bin/echo");
        common.put("FQL_DRY_RUN", "1");
        common.put("FQL_MASTER", "spark://master:7077");
        common.put("HADOOP_CONF_DIR", dir.toString());
        common.put("FQL_K8S_API", "https://k8s.example.com:6443");
        common.put("FQL_IMAGE", "fql-spark:test");
        String opens = parentPomOpens();
        for (String script : List.of("submit-local.sh", "submit-standalone.sh", "submit-yarn.sh", "submit-k8s.sh")) {
            Path path = DeployFiles.deploy().resolve(script);
            Result cpu = run(List.of(path.toString(), "train", "--data", "d", "--run-dir", "r"), common);
            assertEquals(0, cpu.code, script + ": " + cpu.err);
            String line = cpu.err;
            assertTrue(line.contains("--class org.fqlspark.cli.FqlCli"), script + ": " + line);
            assertTrue(line.contains("fql-spark.jar train --data d --run-dir r"), script + " passes the command on: " + line);
            // Heap 4g + JavaCPP 4g + slack 2g, printf %q escapes the spaces of the options.
            String escapedOpens = opens.replace(" ", "\\ ");
            assertTrue(line.contains("spark.driver.extraJavaOptions=" + escapedOpens), script + ": " + line);
            assertTrue(line.contains("-Dorg.bytedeco.javacpp.maxbytes=4096m\\ -Dorg.bytedeco.javacpp.maxphysicalbytes=10240m"), script + ": " + line);
            assertTrue(line.contains("spark.executorEnv.OMP_NUM_THREADS=1"), script + ": " + line);
            assertFalse(line.contains("resource.gpu"), script + " asks for GPUs on a CPU run: " + line);
            if (!script.equals("submit-local.sh")) {
                assertTrue(line.contains("spark.executor.extraJavaOptions=" + escapedOpens), script + ": " + line);
                assertTrue(line.contains("spark.executor.memoryOverhead=6144m"), script + ": " + line);
            }

            Map<String, String> gpu = new LinkedHashMap<>(common);
            gpu.put("FQL_GPUS_PER_EXECUTOR", "1");
            gpu.put("FQL_EXECUTOR_CORES", "4");
            Result g = run(List.of(path.toString(), "evaluate"), gpu);
            assertEquals(0, g.code, script + ": " + g.err);
            if (script.equals("submit-local.sh")) {
                // Spark's local scheduler never offers custom resources to tasks: a task GPU amount would hang the job.
                assertTrue(g.err.contains("spark.driver.resource.gpu.amount=1"), g.err);
                assertFalse(g.err.contains("spark.task.resource.gpu.amount"), g.err);
            } else {
                assertTrue(g.err.contains("spark.executor.resource.gpu.amount=1"), script + ": " + g.err);
                assertTrue(g.err.contains("spark.task.resource.gpu.amount=1"), script + ": " + g.err);
                assertTrue(g.err.contains("spark.executor.resource.gpu.discoveryScript="), script + ": " + g.err);
                assertTrue(g.err.contains("spark.task.cpus=4") && g.err.contains("spark.executorEnv.OMP_NUM_THREADS=4"), script + ": " + g.err);
            }
            Result none = run(List.of(path.toString()), common);
            assertEquals(2, none.code, script + " without a command: " + none.err);
            assertTrue(none.err.contains("usage:"), none.err);
        }
        Result k8s = run(List.of(DeployFiles.deploy().resolve("submit-k8s.sh").toString(), "sweep"), Map.of("FQL_DRY_RUN", "1",
                "SPARK_SUBMIT", "/bin/echo", "FQL_K8S_API", "https://k", "FQL_IMAGE", "i", "FQL_GPUS_PER_EXECUTOR", "1"));
        assertTrue(k8s.err.contains("local:///opt/fql/fql-spark.jar sweep"), k8s.err);
        assertTrue(k8s.err.contains("spark.executor.resource.gpu.vendor=nvidia.com"), k8s.err);
        assertTrue(k8s.err.contains("discoveryScript=/opt/fql/getGpusResources.sh"), k8s.err);
    }

    @Test
    void theDiscoveryScriptPrintsSparksResourceJson(@TempDir Path dir) throws Exception {
        Path smi = dir.resolve("nvidia-smi");
        Files.writeString(smi, """
                #!/bin/sh
                case "$1" in
                  --query-gpu=index) printf '0\\n1\\n2\\n3\\n' ;;
                  --query-gpu=index,uuid) printf '0, GPU-aaa\\n1, GPU-bbb\\n2, GPU-ccc\\n3, GPU-ddd\\n' ;;
                  *) exit 9 ;;
                esac
                """);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        String script = DeployFiles.deploy().resolve("getGpusResources.sh").toString();
        String path = dir + ":/usr/bin:/bin";
        assertEquals(List.of("0", "1", "2", "3"), addresses(run(List.of(script), Map.of("PATH", path))));
        // CUDA renumbers the visible devices: what a task binds to is the ordinal, not nvidia-smi's index.
        assertEquals(List.of("0", "1"), addresses(run(List.of(script), Map.of("PATH", path, "CUDA_VISIBLE_DEVICES", "2,3"))));
        assertEquals(List.of("0"), addresses(run(List.of(script), Map.of("PATH", path, "CUDA_VISIBLE_DEVICES", "GPU-ccc"))));
        Result none = run(List.of(script), Map.of("PATH", path, "CUDA_VISIBLE_DEVICES", ""));
        assertEquals(1, none.code, none.out);
        assertTrue(none.err.contains("no usable GPU"), none.err);
        Assumptions.assumeFalse(Files.exists(Path.of("/usr/bin/nvidia-smi")) || Files.exists(Path.of("/bin/nvidia-smi")));
        Result missing = run(List.of(script), Map.of("PATH", "/usr/bin:/bin"));
        assertEquals(1, missing.code);
        assertTrue(missing.err.contains("nvidia-smi not found"), missing.err);
    }

    private static List<String> addresses(Result r) throws IOException {
        assertEquals(0, r.code, r.err);
        JsonNode json = DeployFiles.YAML.readTree(r.out);
        assertEquals("gpu", json.get("name").asText(), r.out);
        List<String> a = new ArrayList<>();
        json.get("addresses").forEach(n -> {
            assertTrue(n.isTextual(), "addresses are strings: " + r.out);
            a.add(n.asText());
        });
        return a;
    }

    @Test
    void experimentConfigsStateEveryHyperParameterAndMatchThePaperPresets() {
        List<Path> configs = DeployFiles.files(".yaml").stream().filter(p -> p.getParent().getFileName().toString().equals("configs")).toList();
        for (String expected : List.of("pointmaze-medium-stitch", "antmaze-large-navigate", "cube-double-play")) {
            assertTrue(configs.stream().anyMatch(p -> p.getFileName().toString().equals(expected + ".yaml")), "deploy/configs/" + expected + ".yaml");
        }
        Configuration hadoop = new Configuration();
        for (Path p : configs) {
            String name = p.getFileName().toString().replaceFirst("\\.yaml$", "");
            JsonNode tree = DeployFiles.yamlDocuments(p).get(0);
            assertEquals(name, tree.get("name").asText(), p + ": name");
            for (String key : AGENT_KEYS) assertTrue(tree.path("agent").has(key), p + ": agent." + key + " is not written out");
            for (String key : TRAIN_KEYS) assertTrue(tree.path("train").has(key), p + ": train." + key + " is not written out");
            for (String key : List.of("env", "episodes", "seed")) assertTrue(tree.path("evaluate").has(key), p + ": evaluate." + key);

            List<SweepSpec.Trial> trials = SweepSpec.read(p.toString(), hadoop).trials();
            assertEquals(1, trials.size(), p.toString());
            ExperimentConfig c = trials.get(0).config();
            FqlPresets.Preset preset = FqlPresets.get(c.preset());
            assertTrue(c.preset().equals(name) || c.preset().equals("default"), p + ": preset " + c.preset());
            assertEquals(preset.config(), c.fqlConfig(), p + ": hyper-parameters differ from preset " + c.preset());
            assertEquals(preset.offlineSteps(), c.train().steps(), p + ": steps");
        }
    }

    @Test
    void sweepSpecsAndTheScheduledSweepExpand(@TempDir Path dir) throws IOException {
        Configuration hadoop = new Configuration();
        List<Path> sweeps = DeployFiles.files(".yaml").stream().filter(p -> p.getParent().getFileName().toString().equals("sweeps")).toList();
        assertFalse(sweeps.isEmpty());
        for (Path p : sweeps) {
            List<SweepSpec.Trial> trials = SweepSpec.read(p.toString(), hadoop).trials();
            assertTrue(trials.size() > 1, p + " has " + trials.size() + " trials");
        }
        assertEquals(12, SweepSpec.read(DeployFiles.deploy().resolve("sweeps/pointmaze-alpha-seed-dataset.yaml").toString(), hadoop)
                .trials().size(), "3 alphas x 2 seeds x 2 datasets");
        // The ConfigMap of the scheduled sweep holds a spec and its base, mounted side by side in the driver.
        JsonNode configMap = DeployFiles.yamlDocuments(DeployFiles.deploy().resolve("k8s/fql-sweep-scheduled.yaml")).stream()
                .filter(d -> d.get("kind").asText().equals("ConfigMap")).findFirst().orElseThrow();
        configMap.get("data").fields().forEachRemaining(e -> {
            try {
                Files.writeString(dir.resolve(e.getKey()), e.getValue().asText());
            } catch (IOException x) {
                throw new java.io.UncheckedIOException(x);
            }
        });
        assertEquals(9, SweepSpec.read(dir.resolve("sweep.yaml").toString(), hadoop).trials().size());
    }

    @Test
    void kubernetesManifestsUseThePathsTheImageHas() {
        String dockerfile = DeployFiles.read(DeployFiles.deploy().resolve("docker/Dockerfile"));
        assertTrue(dockerfile.contains("/opt/fql/fql-spark.jar") && dockerfile.contains("/opt/fql/getGpusResources.sh"), "Dockerfile paths");
        assertTrue(dockerfile.contains("AS cpu") && dockerfile.contains("AS cuda"), "cpu and cuda targets");
        assertTrue(dockerfile.contains("nvidia/cuda:11.6"), "the CUDA 11.6 runtime for nd4j-cuda-11.6");
        // s3a:// out of the box: the image adds the jars of the pom's image profile, hadoop-aws at Spark's Hadoop version
        assertTrue(dockerfile.contains("COPY spark-jobs/fql-jobs/target/image-jars/ /opt/spark/jars/"), "hadoop-aws in the image");
        String rootPom = DeployFiles.read(DeployFiles.deploy().getParent().resolve("pom.xml"));
        assertTrue(rootPom.contains("<hadoop.version>" + org.apache.hadoop.util.VersionInfo.getVersion() + "</hadoop.version>"),
                "hadoop-aws must match the Hadoop client Spark runs with (" + org.apache.hadoop.util.VersionInfo.getVersion() + ")");
        String jobsPom = DeployFiles.read(DeployFiles.deploy().getParent().resolve("spark-jobs/fql-jobs/pom.xml"));
        assertTrue(jobsPom.contains("<id>image</id>") && jobsPom.contains("<artifactId>hadoop-aws</artifactId>")
                && jobsPom.contains("<artifactId>aws-java-sdk-bundle</artifactId>"), "the image profile copies both jars");
        for (Path p : DeployFiles.files(".yaml")) {
            if (!p.getParent().getFileName().toString().equals("k8s")) continue;
            for (JsonNode doc : DeployFiles.yamlDocuments(p)) {
                JsonNode app = doc.get("kind").asText().equals("ScheduledSparkApplication") ? doc.path("spec").path("template") : doc.path("spec");
                if (!app.has("mainClass")) continue;
                assertEquals("local:///opt/fql/fql-spark.jar", app.get("mainApplicationFile").asText(), p.toString());
                JsonNode conf = app.get("sparkConf");
                assertEquals("/opt/fql/getGpusResources.sh", conf.get("spark.executor.resource.gpu.discoveryScript").asText(), p.toString());
                assertEquals("1", conf.get("spark.task.resource.gpu.amount").asText(), p.toString());
                assertEquals("nvidia.com", conf.get("spark.executor.resource.gpu.vendor").asText(), p.toString());
                assertTrue(conf.get("spark.executor.extraJavaOptions").asText().startsWith(parentPomOpens()), p + ": opens");
                assertTrue(conf.get("spark.executor.extraJavaOptions").asText().contains("-Dorg.bytedeco.javacpp.maxbytes="), p + ": JavaCPP");
                assertEquals(conf.get("spark.task.cpus").asText(), conf.get("spark.executorEnv.OMP_NUM_THREADS").asText(), p + ": OMP threads");
            }
        }
    }

    @Test
    void theJava17OpensAreTheParentPomsListEverywhere() throws IOException {
        String opens = parentPomOpens();
        assertTrue(opens.contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"), opens);
        // fql-runtime's build writes the list out; the ./fql launcher reads that file instead of spelling the list out
        try (var in = DeployArtifactsTest.class.getResourceAsStream("/org/fqlspark/launch/java17-opens.txt")) {
            assertEquals(opens, new String(in.readAllBytes(), StandardCharsets.UTF_8).trim(), "fql-runtime's java17-opens.txt");
        }
        String launcher = DeployFiles.read(DeployFiles.repositoryRoot().resolve("fql"));
        // $TARGET: target (Spark 3.5, the default) or target-spark4 (FQL_SPARK=4)
        assertTrue(launcher.contains("spark-jobs/fql-runtime/$TARGET/classes/org/fqlspark/launch/java17-opens.txt"), "./fql reads the file");
        assertFalse(launcher.contains("--add-opens=java.base/"), "./fql spells out no list of its own");
        // the shaded jar's manifest names the same packages (for java -jar)
        Matcher manifest = Pattern.compile("<Add-Opens>([^<]+)</Add-Opens>")
                .matcher(DeployFiles.read(DeployFiles.repositoryRoot().resolve("spark-jobs/fql-jobs/pom.xml")));
        assertTrue(manifest.find(), "fql-jobs pom has Add-Opens");
        assertEquals(opens.replace("--add-opens=", "").replace("=ALL-UNNAMED", ""), manifest.group(1).trim(), "fql-jobs pom: Add-Opens");
        Matcher common = Pattern.compile("FQL_JAVA17_OPENS=\"([^\"]+)\"").matcher(DeployFiles.read(DeployFiles.deploy().resolve("lib/submit-common.sh")));
        assertTrue(common.find());
        assertEquals(opens, common.group(1), "deploy/lib/submit-common.sh");
        for (String line : DeployFiles.read(DeployFiles.deploy().resolve("spark-defaults.conf.template")).split("\n")) {
            if (line.startsWith("spark.driver.extraJavaOptions") || line.startsWith("spark.executor.extraJavaOptions")) {
                assertTrue(line.replaceFirst("^\\S+\\s+", "").startsWith(opens), "spark-defaults.conf.template: " + line);
            }
        }
        // The DAG builds the list from package names.
        String dag = DeployFiles.read(DeployFiles.deploy().resolve("airflow/fql_sweep_dag.py"));
        for (String opened : opens.split(" ")) {
            String pkg = opened.replace("--add-opens=java.base/", "").replace("=ALL-UNNAMED", "");
            assertTrue(dag.contains("\"" + pkg + "\""), "fql_sweep_dag.py misses " + pkg);
        }
    }

    @Test
    void theAirflowDagCompiles(@TempDir Path dir) throws Exception {
        Result which = run(List.of("bash", "-c", "command -v python3"), Map.of());
        Assumptions.assumeTrue(which.code == 0, "python3 not installed");
        Path dag = DeployFiles.deploy().resolve("airflow/fql_sweep_dag.py");
        Result r = run(List.of("python3", "-c", "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
                dag.toString(), dir.resolve("dag.pyc").toString()), Map.of());
        assertEquals(0, r.code, r.err);
        String text = DeployFiles.read(dag);
        assertTrue(text.contains("SparkSubmitOperator("), "uses SparkSubmitOperator");
    }

    /** The parent pom's {@code <java17.opens>}. */
    static String parentPomOpens() {
        Matcher m = Pattern.compile("<java17\\.opens>([^<]+)</java17\\.opens>").matcher(DeployFiles.read(DeployFiles.repositoryRoot().resolve("pom.xml")));
        assertTrue(m.find(), "parent pom has <java17.opens>");
        return m.group(1).trim();
    }

    record Result(int code, String out, String err) {
    }

    /** Runs a command with a clean environment plus {@code env} (PATH kept unless given). */
    static Result run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> e = pb.environment();
        String path = e.getOrDefault("PATH", "/usr/bin:/bin");
        e.keySet().removeIf(k -> k.startsWith("FQL_") || k.startsWith("SPARK_") || k.equals("CUDA_VISIBLE_DEVICES") || k.equals("HADOOP_CONF_DIR"));
        e.put("PATH", path);
        e.putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(command + " did not finish");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
