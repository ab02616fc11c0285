package org.fqlspark.launch;

import java.util.function.IntConsumer;

/**
 * How every {@code main} of this project ends. Exit codes: 0 success, 1 a run or check that failed, 2 bad input.
 *
 * <p>On success under spark-submit the main method returns instead of calling {@code System.exit(0)}: in YARN cluster
 * mode an exit from the user class runs the shutdown hooks before the ApplicationMaster has registered its final
 * status, and a successful application is reported FAILED (exit code 16), so schedulers retry it. Failures still exit
 * non-zero everywhere.
 */
public final class ProcessExit {

    private ProcessExit() {
    }

    /** Ends a main method with {@code code}, as the class comment says. */
    public static void finish(int code) {
        finish(code, underSparkSubmit(), System::exit);
    }

    /** The rule itself: {@code exit} is called for every code but 0 under spark-submit. */
    public static void finish(int code, boolean underSparkSubmit, IntConsumer exit) {
        if (code == 0 && underSparkSubmit) return;
        exit.accept(code);
    }

    /** spark-submit (client or cluster mode, any cluster manager) hands its configuration over as system properties. */
    public static boolean underSparkSubmit() {
        return System.getProperty("spark.submit.deployMode") != null || System.getProperty("spark.master") != null;
    }
}
