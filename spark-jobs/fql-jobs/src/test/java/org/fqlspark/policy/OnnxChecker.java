package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.fail;

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
     * Throws if ONNX's checker rejects the model file. True when the file was checked; false where the preset has no
     * native build (outside CI: in CI that fails).
     */
    static boolean check(Path file) {
        return check(file, ONNX, ci());
    }

    /**
     * Where the native library is missing: in CI a failure (the checks must run there), elsewhere false with a note, so
     * that the test around it still compares ONNX Runtime's actions; never an abort of the whole test.
     */
    static boolean check(Path file, Native checker, boolean ci) {
        try {
            checker.check(file.toString());
            return true;
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            System.out.println("ONNX checker skipped (ONNX Runtime is still compared): " + missing(e, ci));
            return false;
        }
    }

    /** The checker rejects the model file. */
    static void assertRejects(Path file) {
        assertRejects(file, ONNX, ci());
    }

    /**
     * The checker rejects the model file with its own error. Without the native library this is a failure in CI and a
     * skipped test elsewhere, never a pass: JUnit's abort is itself a RuntimeException, which an
     * {@code assertThrows(RuntimeException.class, ...)} around {@link #check} would have taken for the rejection.
     */
    static void assertRejects(Path file, Native checker, boolean ci) {
        try {
            checker.check(file.toString());
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            Assumptions.abort(missing(e, ci));
        } catch (RuntimeException rejected) {
            return;   // the checker's ValidationError
        }
        fail("ONNX's checker accepted " + file + ", which it must reject");
    }

    /** Fails in CI; elsewhere returns why the checker cannot run. */
    private static String missing(Throwable e, boolean ci) {
        String why = "ONNX checker (org.bytedeco:onnx) has no native library for this platform: " + e;
        if (ci) fail(why + "; in CI (CI=true) the checker must run, so this is a failure, not a skip");
        return why;
    }

    /** Whether this runs in CI (the environment variable {@code CI=true}, as GitHub Actions and most CI services set). */
    static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }
}
