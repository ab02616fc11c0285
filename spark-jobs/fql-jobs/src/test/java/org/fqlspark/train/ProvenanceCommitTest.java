package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * provenance.json's git_commit is the project's commit, never that of the repository the command happens to run in
 * (issue 21, item 10): a driver started inside another git repository, as a user's own project or home directory may
 * be, records the commit the launcher passed ({@code -Dfql.git.commit}), else the one the jar was built from.
 */
class ProvenanceCommitTest {

    @TempDir
    Path dir;

    private static String git(Path where, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", where.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
        return out;
    }

    private static boolean gitInstalled() {
        try {
            return new ProcessBuilder("git", "--version").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs {@link ProvenanceProbe} with {@code cwd} as its working directory and returns the commit it printed. */
    private static String probe(Path cwd, List<String> jvmOptions, Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", LocalStandaloneCluster.currentClasspath(), ProvenanceProbe.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().remove("FQL_GIT_COMMIT");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return out.lines().filter(l -> l.startsWith("git_commit=")).findFirst().orElseThrow(() -> new AssertionError(out))
                .substring("git_commit=".length());
    }

    /** The project's root: the first directory up from the working directory holding the fql launcher and pom.xml. */
    private static Path projectRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("fql")) && Files.isRegularFile(d.resolve("pom.xml"))) return d;
        }
        throw new IllegalStateException("no project root above " + Path.of("").toAbsolutePath());
    }

    @Test
    void theWorkingDirectorysRepositoryIsNeverRecorded() throws Exception {
        assumeTrue(gitInstalled(), "git is needed to make another repository");
        Path other = Files.createDirectories(dir.resolve("someone-elses-project"));
        git(other, "init", "-q");
        Files.writeString(other.resolve("file.txt"), "theirs\n");
        git(other, "add", "file.txt");
        git(other, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "theirs");
        String theirs = git(other, "rev-parse", "HEAD");

        String recorded = probe(other, List.of(), Map.of());
        assertFalse(recorded.startsWith(theirs), "recorded the working directory's commit " + theirs);
        assertTrue(recorded.equals("unknown") || recorded.matches("[0-9a-f]{40}(-dirty)?"), recorded);
        Path project = projectRoot();
        if (Files.exists(project.resolve(".git"))) {   // built from a checkout: the jar records the checkout's commit
            assertTrue(recorded.startsWith(git(project, "rev-parse", "HEAD")), recorded + " is not the project's commit");
        }

        // what the launcher passes wins over the jar's own, and FQL_GIT_COMMIT, set by a user, over both
        String launcher = "0123456789abcdef0123456789abcdef01234567";
        assertEquals(launcher, probe(other, List.of("-Dfql.git.commit=" + launcher), Map.of()));
        assertEquals("v1.2-user", probe(other, List.of("-Dfql.git.commit=" + launcher), Map.of("FQL_GIT_COMMIT", "v1.2-user")));
    }
}
