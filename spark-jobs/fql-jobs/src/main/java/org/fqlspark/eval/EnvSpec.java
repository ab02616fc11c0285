package org.fqlspark.eval;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.fqlspark.env.Environment;
import org.fqlspark.env.EnvironmentRegistry;

/**
 * What {@code --env} names: a built-in environment id ({@code pointmaze-medium}, see {@link EnvironmentRegistry}) or an
 * external environment behind the bridge protocol, {@code bridge:<command line>}, e.g.
 * {@code bridge:python3 envbridge/fql_env_server.py --env-id antmaze-large-navigate-singletask-v0}. The command line
 * is split on white space; single or double quotes keep spaces inside one argument. Each executor starts the command
 * itself, in its own working directory, so the script and its Python must exist there (on a cluster ship the script
 * with {@code spark-submit --files envbridge/fql_env_server.py} and name it {@code ./fql_env_server.py}).
 *
 * <p>Serializable, so Spark closures carry the spec and build environments inside tasks.
 */
public sealed interface EnvSpec extends Serializable {

    String BRIDGE_PREFIX = "bridge:";

    /** The text as given to {@code --env}. */
    String text();

    /** A new environment instance (for the bridge: a new subprocess, handshake done). */
    Environment create(Duration bridgeStartupTimeout, Duration bridgeRequestTimeout);

    record BuiltIn(String id) implements EnvSpec {
        @Override
        public String text() {
            return id;
        }

        @Override
        public Environment create(Duration bridgeStartupTimeout, Duration bridgeRequestTimeout) {
            return EnvironmentRegistry.create(id);
        }
    }

    record Bridge(String text, List<String> command) implements EnvSpec {
        public Bridge {
            command = List.copyOf(command);
            if (command.isEmpty()) throw new EvalInputException("--env " + text + ": no command after 'bridge:'");
        }

        @Override
        public BridgeEnvironment create(Duration bridgeStartupTimeout, Duration bridgeRequestTimeout) {
            return BridgeEnvironment.start(command, bridgeStartupTimeout, bridgeRequestTimeout);
        }
    }

    static EnvSpec parse(String text) {
        if (text == null || text.isBlank()) throw new EvalInputException("--env is missing: give a built-in id (e.g. pointmaze-medium) or bridge:COMMAND");
        String trimmed = text.trim();
        if (trimmed.startsWith(BRIDGE_PREFIX)) {
            return new Bridge(trimmed, splitCommandLine(trimmed.substring(BRIDGE_PREFIX.length()), trimmed));
        }
        return new BuiltIn(trimmed);
    }

    /** Splits on white space outside quotes; a backslash outside single quotes escapes the next character. */
    static List<String> splitCommandLine(String line, String forMessages) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                inWord = true;
                if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '\\' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            }
        }
        if (quote != 0) throw new EvalInputException("--env " + forMessages + ": unbalanced " + quote + " quote in the bridge command");
        if (inWord) words.add(word.toString());
        return words;
    }
}
