package org.fqlspark.train;

import java.nio.file.Path;

/**
 * Run by {@link OpenClTrainingTest} in a JVM whose OpenCL loader finds no driver: {@code train}, {@code evaluate} and
 * {@code act} with {@code --backend opencl} into {@code args[0]} (the dataset at {@code args[1]}); prints, for each,
 * its name, its exit code and its error output on one line.
 */
public final class NoOpenClDeviceProbe {

    private NoOpenClDeviceProbe() {
    }

    public static void main(String[] args) {
        for (String[] command : OpenClTrainingTest.commands(Path.of(args[0]), args[1], "opencl")) {
            OpenClTrainingTest.Outcome o = OpenClTrainingTest.execute(command);
            System.out.println(command[0] + " exit=" + o.code() + " " + o.err().strip().replace("\n", "\\n"));
        }
    }
}
