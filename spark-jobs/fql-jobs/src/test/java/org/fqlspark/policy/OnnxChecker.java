package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/** ONNX's own checker ({@code onnx::checker::check_model}, ONNX 1.10.2 through the JavaCPP preset of ND4J's line). */
final class OnnxChecker {

    /** The checker itself: throws when it rejects the model file, or a linkage error when its native library is missing. */
    interface Native {
        void check(String file);
    }

    /** The JavaCPP preset's checker. */
    static final Native ONNX = file -> org.bytedeco.onnx.global.onnx.check_model(file);

    private OnnxChecker() {
    }

    /**
     * Throws if ONNX's checker rejects the model file; skips the test where the preset has no native build. True when
     * the file was checked.
     */
    static boolean check(Path file) {
        return check(file, ONNX, ci());
    }

    static boolean check(Path file, Native checker, boolean ci) {
        try {
            checker.check(file.toString());
            return true;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return Assumptions.abort("ONNX checker (org.bytedeco:onnx) has no native library for this platform: " + e);
        }
    }

    /** The checker rejects the model file. */
    static void assertRejects(Path file) {
        assertRejects(file, ONNX, ci());
    }

    static void assertRejects(Path file, Native checker, boolean ci) {
        assertThrows(RuntimeException.class, () -> check(file, checker, ci));
    }

    /** Whether this runs in CI (the environment variable {@code CI=true}, as GitHub Actions and most CI services set). */
    static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }
}
