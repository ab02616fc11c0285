package org.fqlspark.testing;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.fqlspark.cli.FqlCli;
import picocli.CommandLine;

/** One {@code fql} invocation through the real command line (as the launcher runs it): its exit code and its stderr. */
public record CliRun(int code, String err) {

    /** Runs {@code fql args...}. */
    public static CliRun fql(String... args) {
        CommandLine cli = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        return new CliRun(cli.execute(args), err.toString());
    }

    /** Runs {@code fql command args...}. */
    public static CliRun command(String command, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = command;
        System.arraycopy(args, 0, all, 1, args.length);
        return fql(all);
    }
}
