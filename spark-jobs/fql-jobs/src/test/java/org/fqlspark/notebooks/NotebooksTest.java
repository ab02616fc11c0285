package org.fqlspark.notebooks;

import org.fqlspark.testing.TestSpark;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.sweep.SweepJob;
import org.fqlspark.sweep.TinyRun;
import org.junit.jupiter.api.Test;

/**
 * The Zeppelin notes in notebooks/: each parses as a Zeppelin 0.10 note, uses only %md, %spark.sql and %spark
 * paragraphs, takes its paths from note-level forms, and every SQL paragraph runs through Spark SQL against the outputs
 * of a tiny real run (generate → ingest an OGBench .npz → train → evaluate → sweep, {@link TinyRun}) and returns
 * rows; the dataset note also runs on the generate job's own output.
 */
class NotebooksTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9-]+_([A-Z0-9]{9})\\.zpln");
    /** Zeppelin dynamic forms: ${name=default} (paragraph) and $${name=default} (note). */
    private static final Pattern FORM = Pattern.compile("\\$\\$?\\{([A-Za-z_][A-Za-z0-9_]*)(=[^}]*)?\\}");
    private static final Pattern NOTE_TEXTBOX = Pattern.compile("z\\.noteTextbox\\(\"([A-Za-z_]+)\"");
    private static final Set<String> INTERPRETERS = Set.of("%md", "%spark.sql", "%spark");
    private static final Set<String> FORMS = Set.of("dataset", "run_dir", "sweep_dir", "eval_dir");

    static Path notebooks() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("notebooks")) && Files.isRegularFile(d.resolve("fql"))) {
                return d.resolve("notebooks");
            }
        }
        throw new IllegalStateException("no notebooks/ directory above the working directory");
    }

    static List<Path> notes() {
        try (Stream<Path> s = Files.list(notebooks())) {
            return s.filter(p -> p.getFileName().toString().endsWith(".zpln")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(Path note) {
        try {
            return JSON.readTree(note.toFile());
        } catch (IOException e) {
            throw new AssertionError(note.getFileName() + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    static String interpreter(JsonNode paragraph) {
        String text = paragraph.path("text").asText();
        int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).trim();
    }

    static String body(JsonNode paragraph) {
        String text = paragraph.path("text").asText();
        int end = text.indexOf('\n');
        return end < 0 ? "" : text.substring(end + 1);
    }

    @Test
    void everyNoteIsAZeppelinNoteOfTheAllowedInterpreters() {
        List<Path> notes = notes();
        assertTrue(notes.size() >= 4, "dataset, training, sweep and evaluation notes: " + notes);
        Set<String> ids = new HashSet<>();
        for (Path file : notes) {
            String where = file.getFileName().toString();
            Matcher name = FILE_NAME.matcher(where);
            assertTrue(name.matches(), where + " is not <Name>_<ID>.zpln");
            JsonNode note = read(file);
            assertEquals(name.group(1), note.path("id").asText(), where + ": id");
            assertTrue(ids.add(note.path("id").asText()), where + ": duplicate note id");
            assertTrue(note.path("name").isTextual() && !note.path("name").asText().isBlank(), where + ": name");
            assertTrue(note.path("config").isObject(), where + ": config");
            assertTrue(note.path("info").isObject(), where + ": info");
            assertTrue(note.path("paragraphs").isArray() && note.path("paragraphs").size() > 1, where + ": paragraphs");
            Set<String> paragraphIds = new HashSet<>();
            int sql = 0;
            int markdown = 0;
            for (JsonNode p : note.path("paragraphs")) {
                String interpreter = interpreter(p);
                assertTrue(INTERPRETERS.contains(interpreter), where + ": paragraph interpreter '" + interpreter + "' (allowed: " + INTERPRETERS + ")");
                assertTrue(p.path("id").isTextual() && paragraphIds.add(p.path("id").asText()), where + ": paragraph id " + p.path("id"));
                assertTrue(p.path("config").isObject(), where + ": paragraph config");
                assertTrue(p.path("settings").isObject(), where + ": paragraph settings");
                assertFalse(body(p).isBlank(), where + ": empty paragraph " + p.path("id"));
                switch (interpreter) {
                    case "%spark.sql" -> sql++;
                    case "%md" -> markdown++;
                    default -> assertTrue(p.path("title").asText().contains("SQL cannot"),
                            where + ": a %spark paragraph must say why SQL cannot do it (title): " + p.path("title"));
                }
                for (String form : forms(p)) {
                    assertTrue(FORMS.contains(form), where + ": unknown form '" + form + "' (known: " + FORMS + ")");
                }
                Matcher first = FORM.matcher(p.path("text").asText());
                if (first.find()) {
                    assertNotNull(first.group(2), where + ": the first form of a paragraph carries its default: " + first.group());
                }
            }
            assertTrue(sql >= 3, where + ": only " + sql + " SQL paragraphs");
            assertTrue(markdown >= 1, where + ": no %md paragraph");
        }
    }

    static List<String> forms(JsonNode paragraph) {
        List<String> names = new ArrayList<>();
        Matcher m = FORM.matcher(paragraph.path("text").asText());
        while (m.find()) names.add(m.group(1));
        m = NOTE_TEXTBOX.matcher(paragraph.path("text").asText());
        while (m.find()) names.add(m.group(1));
        return names;
    }

    @Test
    void everySqlParagraphRunsOnATinyRealRunAndReturnsRows() {
        TinyRun run = TinyRun.get();
        assertTrue(run.firstResult.allComplete(), run.firstLog);
        SweepJob.Outcome first = run.firstResult.outcomes().get(0);
        Map<String, String> values = new LinkedHashMap<>();
        values.put("dataset", run.dataset.toString());
        values.put("run_dir", first.row().get("run_dir").toString());
        values.put("sweep_dir", run.sweep.toString());
        values.put("eval_dir", first.row().get("eval_dir").toString());

        int ran = 0;
        for (Path file : notes()) {
            ran += runSql(file, values);
        }
        assertTrue(ran >= 20, "ran " + ran + " SQL paragraphs");
        // The dataset note on the generate job's own output as well (a generated source in its manifest, one shard).
        Map<String, String> generated = new LinkedHashMap<>(values);
        generated.put("dataset", run.generated.toString());
        ran = 0;
        for (Path file : notes()) {
            if (file.getFileName().toString().contains("Dataset")) ran += runSql(file, generated);
        }
        assertTrue(ran > 0, "no dataset note");
    }

    /** Runs the note's SQL paragraphs in order in a session of its own; returns how many ran. */
    private static int runSql(Path file, Map<String, String> values) {
        int ran = 0;
        // A session of its own per note: its temporary views, as in a Zeppelin note, and none from other notes.
        SparkSession spark = TestSpark.session().newSession();
        for (JsonNode p : read(file).path("paragraphs")) {
            if (!interpreter(p).equals("%spark.sql")) continue;
            String where = file.getFileName() + ", paragraph '" + p.path("title").asText(p.path("id").asText()) + "'";
            List<String> statements = statements(substitute(body(p), values));
            assertFalse(statements.isEmpty(), where);
            for (int i = 0; i < statements.size(); i++) {
                String statement = statements.get(i);
                Dataset<Row> result;
                List<Row> rows;
                try {
                    result = spark.sql(statement);
                    rows = result.limit(1000).collectAsList();
                } catch (Exception e) {
                    throw new AssertionError(where + " failed: " + e.getMessage() + "\n" + statement, e);
                }
                if (i == statements.size() - 1) {
                    assertFalse(rows.isEmpty(), where + " returned no rows:\n" + statement);
                    assertTrue(result.columns().length > 0, where);
                }
            }
            ran++;
        }
        return ran;
    }

    /** The %spark paragraphs (showing PNGs) run in a Scala interpreter with {@code sc} and a stand-in for {@code z}. */
    @Test
    void everyScalaParagraphRunsOnTheTinyRun() {
        TinyRun run = TinyRun.get();
        SweepJob.Outcome first = run.firstResult.outcomes().get(0);
        Map<String, String> values = Map.of("run_dir", first.row().get("run_dir").toString(),
                "eval_dir", first.row().get("eval_dir").toString(), "dataset", run.dataset.toString(), "sweep_dir", run.sweep.toString());
        int ran = 0;
        try (ScalaParagraphs scala = new ScalaParagraphs(TestSpark.session(), new NoteForms(values))) {
            for (Path file : notes()) {
                for (JsonNode p : read(file).path("paragraphs")) {
                    if (!interpreter(p).equals("%spark")) continue;
                    String where = file.getFileName() + ", paragraph '" + p.path("title").asText() + "'";
                    String out;
                    try {
                        out = scala.run(body(p));
                    } catch (AssertionError e) {
                        throw new AssertionError(where + ": " + e.getMessage(), e);
                    }
                    assertTrue(out.startsWith("%html <img"), where + " printed: " + out);
                    assertTrue(out.contains("data:image/png;base64,iVBORw0KGgo"), where + " shows no PNG: " + out.substring(0, Math.min(200, out.length())));
                    ran++;
                }
            }
        }
        assertTrue(ran >= 2, "ran " + ran + " %spark paragraphs");
    }

    @Test
    void formDefaultsAreConsistentWithinANote() {
        for (Path file : notes()) {
            Map<String, String> defaults = new LinkedHashMap<>();
            for (JsonNode p : read(file).path("paragraphs")) {
                Matcher m = FORM.matcher(p.path("text").asText());
                while (m.find()) {
                    if (m.group(2) == null) continue;
                    String before = defaults.putIfAbsent(m.group(1), m.group(2));
                    assertTrue(before == null || before.equals(m.group(2)), file.getFileName() + ": form " + m.group(1)
                            + " has defaults " + before + " and " + m.group(2));
                }
            }
        }
    }

    /** Replaces every form by its value; an unknown form fails. */
    static String substitute(String text, Map<String, String> values) {
        Matcher m = FORM.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) fail("no value for form " + m.group());
            m.appendReplacement(b, Matcher.quoteReplacement(value));
        }
        m.appendTail(b);
        return b.toString();
    }

    /** Splits on ';' outside quotes and back-quotes, as Zeppelin's SQL interpreter does; drops empty statements. */
    static List<String> statements(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        char quote = 0;
        for (char c : sql.toCharArray()) {
            if (quote != 0) {
                if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"' || c == '`') {
                quote = c;
            } else if (c == ';') {
                if (!current.toString().isBlank()) out.add(current.toString().trim());
                current.setLength(0);
                continue;
            }
            current.append(c);
        }
        if (!current.toString().isBlank()) out.add(current.toString().trim());
        return out;
    }
}
