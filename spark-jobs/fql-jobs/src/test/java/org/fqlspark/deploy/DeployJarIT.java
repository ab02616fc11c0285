package org.fqlspark.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarFile;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * After {@code package} (failsafe, {@code mvn verify}): every main class deploy/ names is inside the shaded jar the
 * scripts submit, and the jar's manifest starts the fql command line. {@code DeployArtifactsTest} checks the same
 * names against the test classpath before packaging.
 */
@Tag("spark4")   // in the Spark 4 line's subset (parent pom, profile spark4): checks fql-spark-spark4.jar there
class DeployJarIT {

    @Test
    void everyMainClassNamedInDeployIsInsideTheShadedJar() throws IOException {
        String location = System.getProperty("fql.jar");
        Assumptions.assumeTrue(location != null, "fql.jar not set (run through failsafe: mvn verify)");
        Path jar = Path.of(location);
        Assumptions.assumeTrue(Files.isRegularFile(jar), jar + " was not built");
        Map<String, TreeSet<String>> classes = DeployFiles.mainClasses();
        assertFalse(classes.isEmpty());
        try (JarFile file = new JarFile(jar.toFile())) {
            classes.forEach((name, namedIn) -> assertNotNull(file.getEntry(name.replace('.', '/') + ".class"),
                    name + " (named in " + namedIn + ") is not in " + jar));
            assertEquals("org.fqlspark.cli.FqlCli", file.getManifest().getMainAttributes().getValue("Main-Class"), "Main-Class of " + jar);
        }
    }
}
