package org.fqlspark.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;

/**
 * The repository's deploy/ directory as the tests see it: where it is, its files, and the main classes and fql
 * commands its scripts, manifests, DAG and README name.
 */
final class DeployFiles {

    /** {@code --class X} (spark-submit), {@code mainClass: X} (Spark operator), {@code java_class="X"} (Airflow). */
    private static final List<Pattern> CLASS_PATTERNS = List.of(
            Pattern.compile("--class[ =]+[\"']?([^\\s\"'\\\\]+)"),
            Pattern.compile("mainClass:\\s*[\"']?([^\\s\"'#]+)"),
            Pattern.compile("java_class\\s*=\\s*[\"']([^\"']+)[\"']"));

    /**
     * An fql command right after the jar, a submit script or the launcher, possibly after a line continuation, and
     * followed by what ends a command word on a command line (a flag, a continuation, the end of the line or of a code
     * span), so prose such as "the ./fql launcher" is not read as a command: {@code fql-spark.jar train --data},
     * {@code deploy/submit-yarn.sh \ train}, {@code ./fql sweep --spec}, {@code `./fql quickstart`}.
     */
    private static final Pattern COMMAND_AFTER = Pattern.compile(
            "(?:fql-spark\\.jar|submit-(?:local|standalone|yarn|k8s)\\.sh|(?<![\\w/.-])\\./fql)[\"']?[ \\t]+(?:\\\\\\r?\\n\\s*)?"
                    + "([a-z][a-z0-9-]*)(?=[ \\t]+-|[ \\t]*\\\\?$|[ \\t]*[`\"')|;&>]|[ \\t]+\\$)",
            Pattern.MULTILINE);
    private static final Pattern AIRFLOW_COMMAND = Pattern.compile("application_args\\s*=\\s*\\[\\s*[\"']([^\"']+)[\"']");

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private DeployFiles() {
    }

    /** The repository root: the first directory up from the working directory that holds deploy/ and the fql launcher. */
    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("deploy")) && Files.isRegularFile(d.resolve("fql"))) {
                return d;
            }
        }
        throw new IllegalStateException("no deploy/ directory above " + dir);
    }

    static Path deploy() {
        return repositoryRoot().resolve("deploy");
    }

    /** Every regular file under deploy/, sorted. */
    static List<Path> files() {
        try (Stream<Path> s = Files.walk(deploy())) {
            return s.filter(Files::isRegularFile).filter(p -> !p.toString().contains("__pycache__")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> files(String suffix) {
        return files().stream().filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String relative(Path p) {
        return repositoryRoot().relativize(p).toString();
    }

    /** Main class name → the deploy files naming it. */
    static Map<String, TreeSet<String>> mainClasses() {
        Map<String, TreeSet<String>> found = new TreeMap<>();
        for (Path p : files()) {
            String text = read(p);
            for (Pattern pattern : CLASS_PATTERNS) {
                Matcher m = pattern.matcher(text);
                while (m.find()) {
                    found.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(relative(p));
                }
            }
        }
        return found;
    }

    /** fql command → the deploy files naming it (after the jar or a script in text, first argument in manifests and DAG). */
    static Map<String, TreeSet<String>> commands() {
        Map<String, TreeSet<String>> found = new TreeMap<>();
        for (Path p : files()) {
            String text = read(p);
            List<String> commands = new ArrayList<>();
            Matcher m = COMMAND_AFTER.matcher(text);
            while (m.find()) commands.add(m.group(1));
            m = AIRFLOW_COMMAND.matcher(text);
            while (m.find()) commands.add(m.group(1));
            if (p.toString().endsWith(".yaml") && p.getParent().getFileName().toString().equals("k8s")) {
                for (JsonNode doc : yamlDocuments(p)) commands.addAll(operatorCommands(doc));
            }
            commands.forEach(c -> found.computeIfAbsent(c, k -> new TreeSet<>()).add(relative(p)));
        }
        return found;
    }

    /** The first argument of every Spark operator application in a manifest (templates included). */
    static List<String> operatorCommands(JsonNode node) {
        List<String> commands = new ArrayList<>();
        if (node.isObject()) {
            if (node.has("mainClass") && node.get("arguments") instanceof ArrayNode args && !args.isEmpty()) {
                commands.add(args.get(0).asText());
            }
            node.forEach(child -> commands.addAll(operatorCommands(child)));
        } else if (node.isArray()) {
            node.forEach(child -> commands.addAll(operatorCommands(child)));
        }
        return commands;
    }

    static List<JsonNode> yamlDocuments(Path p) {
        try (YAMLParser parser = new YAMLFactory().createParser(p.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": " + e.getMessage(), e);
        }
    }
}
