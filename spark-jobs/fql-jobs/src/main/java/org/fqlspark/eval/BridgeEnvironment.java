package org.fqlspark.eval;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.fqlspark.env.Environment;
import org.fqlspark.env.StepResult;

/**
 * An {@link Environment} served by a subprocess over the fql-env-bridge line protocol, version 1 (specified in
 * {@code envbridge/README.md}; the reference server is {@code envbridge/fql_env_server.py}).
 *
 * <p>Transport: JSON objects, one per line, UTF-8; requests on the child's stdin, answers on its stdout, free-form logs
 * on its stderr (the last lines are kept for error messages). The server speaks first, a handshake
 * {@code {"protocol":"fql-env-bridge","version":1,"ok":true,"env_id":..,"obs_dim":..,"action_dim":..,
 * "action_low":[..],"action_high":[..],"max_episode_steps":..}}; then each request gets exactly one answer:
 * {@code {"op":"reset","seed":S}} → {@code {"ok":true,"observation":[..]}},
 * {@code {"op":"step","action":[..]}} → {@code {"ok":true,"observation":[..],"reward":r,"terminated":b,
 * "truncated":b,"success":b|null}}, {@code {"op":"close"}} → {@code {"ok":true}} and exit.
 *
 * <p>Every answer is awaited at most the request timeout (the handshake: the startup timeout). A crash (exit code and
 * stderr tail), a hang (the process is killed) or garbage (an unparsable line, another protocol or version, wrong
 * shapes, non-finite numbers, a line longer than {@link #MAX_LINE_CHARS}, an answer nobody asked for) throws
 * {@link BridgeException}; after that the instance is unusable and its process is gone: close it and start a new one.
 * Not thread-safe.
 *
 * <p>Whatever the process writes, the memory spent on it is bounded: at most one line of {@link #MAX_LINE_CHARS} is
 * buffered, the answer queue holds a few entries (a line that arrives when no request awaits an answer stops the reader
 * and is reported), and of stderr only the last {@value #STDERR_TAIL_LINES} lines are kept, each cut to its first and
 * last characters. Timeouts are at most {@link #MAX_TIMEOUT}.
 */
public final class BridgeEnvironment implements Environment, AutoCloseable {

    public static final String PROTOCOL = "fql-env-bridge";
    public static final int PROTOCOL_VERSION = 1;
    /** Longest accepted line; a 64×64×3×3 pixel observation is well under 1 MB of JSON. */
    static final int MAX_LINE_CHARS = 4 << 20;
    /** Longest accepted timeout (startup or request): a day. Longer values are mistakes, and overflow in nanoseconds. */
    public static final Duration MAX_TIMEOUT = Duration.ofHours(24);
    private static final int STDERR_TAIL_LINES = 25;
    /** Of a longer stderr line, its first {@value} characters are kept ... */
    private static final int STDERR_HEAD_CHARS = 200;
    /** ... and its last {@value}. */
    private static final int STDERR_END_CHARS = 300;
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Object END_OF_STREAM = new Object();

    private final List<String> command;
    private final Duration requestTimeout;
    private final Process process;
    private final BufferedWriter requests;
    /**
     * Lines from stdout, in order, then {@code END_OF_STREAM}. Bounded: the reader delivers a line only while a request
     * awaits its answer ({@link #awaited}), so the queue holds at most that answer, one marker that stops the reader
     * ({@link LineTooLong}, {@link Unsolicited}) and the end of the stream.
     */
    private final BlockingQueue<Object> answers = new ArrayBlockingQueue<>(8);
    /** Requests (the handshake counts as one) whose answer the stdout reader has not delivered yet; guarded by itself. */
    private final int[] awaited = {1};
    private String lastAsked = "handshake";
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private final Thread stdoutPump;
    private final Thread stderrPump;

    private final String envId;
    private final int observationDim;
    private final int actionDim;
    private final int maxEpisodeSteps;
    private final float[] actionLow;
    private final float[] actionHigh;

    private String brokenBy;
    private boolean running;
    private int steps;

    private BridgeEnvironment(List<String> command, Duration startupTimeout, Duration requestTimeout) {
        this.command = List.copyOf(command);
        this.requestTimeout = requestTimeout;
        ProcessBuilder builder = new ProcessBuilder(this.command);
        builder.environment().put("PYTHONUNBUFFERED", "1");
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new BridgeException(BridgeException.Kind.CRASH, "bridge " + describeCommand() + ": could not start the process: "
                    + e.getMessage());
        }
        requests = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        stdoutPump = daemon("fql-bridge-stdout", () -> pumpLines(process.getInputStream()));
        stderrPump = daemon("fql-bridge-stderr", () -> pumpStderr(process.getErrorStream()));
        try {
            JsonNode hello = await("handshake", startupTimeout);
            String protocol = hello.path("protocol").asText(null);
            if (!PROTOCOL.equals(protocol)) {
                throw fail(BridgeException.Kind.PROTOCOL, "the first line is not an " + PROTOCOL + " handshake (protocol = "
                        + (protocol == null ? "missing" : "'" + protocol + "'") + "): " + abbreviate(hello.toString()));
            }
            JsonNode version = hello.get("version");
            if (version == null || !version.isInt() || version.intValue() != PROTOCOL_VERSION) {
                throw fail(BridgeException.Kind.PROTOCOL, "the server speaks " + PROTOCOL + " version " + version
                        + ", this build speaks version " + PROTOCOL_VERSION);
            }
            if (!hello.path("ok").asBoolean(false)) {
                throw fail(BridgeException.Kind.REMOTE, "the server could not create its environment: "
                        + hello.path("error").asText("(no error message)"));
            }
            envId = hello.path("env_id").asText("bridge");
            observationDim = positiveInt(hello, "obs_dim", "handshake");
            actionDim = positiveInt(hello, "action_dim", "handshake");
            JsonNode steps = hello.get("max_episode_steps");
            if (steps == null || steps.isNull()) {
                maxEpisodeSteps = 0;
            } else {
                maxEpisodeSteps = positiveInt(hello, "max_episode_steps", "handshake");
            }
            actionLow = hello.has("action_low") ? vector(hello, "action_low", actionDim, "handshake") : null;
            actionHigh = hello.has("action_high") ? vector(hello, "action_high", actionDim, "handshake") : null;
        } catch (RuntimeException e) {
            kill();
            throw e;
        }
    }

    /**
     * Starts {@code command} and checks its handshake.
     *
     * @param startupTimeout longest wait for the handshake (importing MuJoCo and building an env can take a while)
     * @param requestTimeout longest wait for each later answer
     * @throws BridgeException when the process does not start, or its handshake is missing, late or wrong
     */
    public static BridgeEnvironment start(List<String> command, Duration startupTimeout, Duration requestTimeout) {
        if (command == null || command.isEmpty()) throw new IllegalArgumentException("bridge command is empty");
        requireTimeout(startupTimeout, "startup timeout");
        requireTimeout(requestTimeout, "request timeout");
        return new BridgeEnvironment(command, startupTimeout, requestTimeout);
    }

    @Override
    public String id() {
        return envId;
    }

    @Override
    public int observationDim() {
        return observationDim;
    }

    @Override
    public int actionDim() {
        return actionDim;
    }

    /** The server's time limit, or 0 when it reported none ({@code "max_episode_steps": null}). */
    @Override
    public int maxEpisodeSteps() {
        return maxEpisodeSteps;
    }

    /** The action bounds the server reported (it clips to them), or null. */
    public float[] actionLow() {
        return actionLow == null ? null : actionLow.clone();
    }

    public float[] actionHigh() {
        return actionHigh == null ? null : actionHigh.clone();
    }

    @Override
    public float[] reset(long seed) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("op", "reset");
        request.put("seed", seed);
        JsonNode answer = call(request, "reset");
        float[] observation = vector(answer, "observation", observationDim, "reset");
        running = true;
        steps = 0;
        return observation;
    }

    @Override
    public StepResult step(float[] action) {
        if (!running) throw new IllegalStateException("step() without a running episode of bridge " + envId + ": call reset(seed)");
        if (action == null || action.length != actionDim) {
            throw new IllegalArgumentException("bridge " + envId + " takes " + actionDim + "-D actions, got "
                    + (action == null ? "null" : action.length + " values"));
        }
        for (float a : action) {
            if (!Float.isFinite(a)) throw new IllegalArgumentException("action must be finite, got " + java.util.Arrays.toString(action));
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("op", "step");
        request.put("action", action);
        String what = "step " + (steps + 1);
        JsonNode answer = call(request, what);
        float[] observation = vector(answer, "observation", observationDim, what);
        JsonNode reward = answer.get("reward");
        if (reward == null || !reward.isNumber() || !Double.isFinite(reward.doubleValue())) {
            throw fail(BridgeException.Kind.PROTOCOL, "answer to '" + what + "' has no finite number 'reward': " + abbreviate(answer.toString()));
        }
        boolean terminated = bool(answer, "terminated", what, false);
        boolean truncated = bool(answer, "truncated", what, false);
        boolean success = bool(answer, "success", what, true);
        steps++;
        running = !(terminated || truncated);
        return new StepResult(observation, reward.floatValue(), terminated, truncated, success);
    }

    /** Asks the server to exit, then makes sure the process is gone. Idempotent. */
    @Override
    public void close() {
        if (brokenBy == null && process.isAlive()) {
            try {
                expectAnswer("close");
                requests.write("{\"op\":\"close\"}\n");
                requests.flush();
                answers.poll(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                process.waitFor(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (IOException e) {
                // Already gone: nothing to say goodbye to.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (brokenBy == null) brokenBy = "closed";
        kill();
    }

    /** Whether the process is still running. */
    boolean isAlive() {
        return process.isAlive();
    }

    // ------------------------------------------------------------------ request/answer

    private JsonNode call(Map<String, Object> request, String what) {
        if (brokenBy != null) {
            throw new BridgeException(BridgeException.Kind.CRASH, "bridge " + describeCommand() + " is unusable after an earlier failure ("
                    + brokenBy + "); start a new one");
        }
        try {
            expectAnswer(what);
            requests.write(JSON.writeValueAsString(request));
            requests.write('\n');
            requests.flush();
        } catch (IOException e) {
            throw crashed(what);
        }
        JsonNode answer = await(what, requestTimeout);
        if (!answer.path("ok").asBoolean(false)) {
            if (answer.has("error")) {
                brokenBy = "server error";
                throw new BridgeException(BridgeException.Kind.REMOTE, "bridge " + describeCommand() + ": the server reported an error on '"
                        + what + "': " + answer.path("error").asText() + stderrSuffix());
            }
            throw fail(BridgeException.Kind.PROTOCOL, "answer to '" + what + "' has neither \"ok\": true nor an error: " + abbreviate(answer.toString()));
        }
        return answer;
    }

    private JsonNode await(String what, Duration timeout) {
        Object next;
        try {
            next = answers.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw fail(BridgeException.Kind.TIMEOUT, "interrupted while waiting for the answer to '" + what + "'");
        }
        if (next == null) {
            throw fail(BridgeException.Kind.TIMEOUT, "no answer to '" + what + "' within " + seconds(timeout)
                    + " (the server hangs); the process was killed");
        }
        if (next == END_OF_STREAM) throw crashed(what);
        if (next instanceof LineTooLong tooLong) {
            throw fail(BridgeException.Kind.PROTOCOL, "in answer to '" + what + "' the server wrote a line longer than "
                    + tooLong.limit + " characters: " + abbreviate(tooLong.start));
        }
        if (next instanceof Unsolicited extra) {
            throw fail(BridgeException.Kind.PROTOCOL, "the server wrote a line nobody asked for (an extra or duplicate answer"
                    + " after '" + extra.after + "'; each request gets exactly one): " + abbreviate(extra.line));
        }
        String line = (String) next;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (IOException e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            throw fail(BridgeException.Kind.PROTOCOL, "unparsable line in answer to '" + what + "' (expected one JSON object): "
                    + abbreviate(line));
        }
        return node;
    }

    private BridgeException crashed(String what) {
        boolean exited;
        try {
            exited = process.waitFor(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            exited = false;
        }
        joinQuietly(stderrPump);
        String message = exited
                ? "the process exited with code " + process.exitValue() + " during '" + what + "'"
                : "the process closed its stdout during '" + what + "' (killed)";
        return fail(BridgeException.Kind.CRASH, message);
    }

    private BridgeException fail(BridgeException.Kind kind, String message) {
        brokenBy = kind.name().toLowerCase(java.util.Locale.ROOT) + ": " + message;
        kill();
        joinQuietly(stderrPump);
        return new BridgeException(kind, "bridge " + describeCommand() + ": " + message + stderrSuffix());
    }

    /** Kills the process (and anything it started) and waits briefly, so that callers see it gone. */
    private void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            requests.close();
        } catch (IOException e) {
            // The pipe may already be broken; the process is being killed anyway.
        }
        try {
            process.waitFor(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ parsing helpers

    private int positiveInt(JsonNode node, String field, String what) {
        JsonNode value = node.get(field);
        if (value == null || !value.canConvertToInt() || !value.isIntegralNumber() || value.intValue() <= 0) {
            throw fail(BridgeException.Kind.PROTOCOL, what + " field '" + field + "' must be a positive integer, was "
                    + (value == null ? "missing" : abbreviate(value.toString())));
        }
        return value.intValue();
    }

    private float[] vector(JsonNode node, String field, int expectedLength, String what) {
        JsonNode value = node.get(field);
        if (value == null || !value.isArray()) {
            throw fail(BridgeException.Kind.PROTOCOL, what + ": field '" + field + "' must be an array of " + expectedLength
                    + " numbers, was " + (value == null ? "missing" : abbreviate(value.toString())));
        }
        if (value.size() != expectedLength) {
            throw fail(BridgeException.Kind.PROTOCOL, what + ": '" + field + "' has " + value.size() + " values, the handshake said "
                    + expectedLength);
        }
        float[] out = new float[expectedLength];
        for (int i = 0; i < expectedLength; i++) {
            JsonNode x = value.get(i);
            if (!x.isNumber() || !Float.isFinite(x.floatValue()) && !field.startsWith("action_")) {
                throw fail(BridgeException.Kind.PROTOCOL, what + ": '" + field + "'[" + i + "] is not a finite number: " + abbreviate(x.toString()));
            }
            out[i] = x.floatValue();
        }
        return out;
    }

    private boolean bool(JsonNode node, String field, String what, boolean optional) {
        JsonNode value = node.get(field);
        if ((value == null || value.isNull()) && optional) return false;
        if (value == null || !value.isBoolean()) {
            throw fail(BridgeException.Kind.PROTOCOL, "answer to '" + what + "': field '" + field + "' must be true or false, was "
                    + (value == null ? "missing" : abbreviate(value.toString())));
        }
        return value.booleanValue();
    }

    // ------------------------------------------------------------------ process output

    private record LineTooLong(int limit, String start) {
    }

    /** A line that arrived while no request awaited an answer. */
    private record Unsolicited(String line, String after) {
    }

    /** Counts a request as awaiting its answer, before it is written (so its answer can never arrive uncounted). */
    private void expectAnswer(String what) {
        synchronized (awaited) {
            awaited[0]++;
            lastAsked = what;
        }
    }

    private void pumpLines(InputStream stdout) {
        try (Reader reader = new InputStreamReader(stdout, StandardCharsets.UTF_8)) {
            StringBuilder line = new StringBuilder();
            char[] buffer = new char[8192];
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                // A whole chunk at a time: a duplicate written together with its answer is seen as unsolicited before
                // the next request can be counted.
                synchronized (awaited) {
                    for (int i = 0; i < n; i++) {
                        char c = buffer[i];
                        if (c == '\n') {
                            int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? line.length() - 1 : line.length();
                            String text = line.substring(0, end);
                            line.setLength(0);
                            if (!text.isBlank() && !deliver(text)) return;
                        } else if (line.length() >= MAX_LINE_CHARS) {
                            answers.offer(new LineTooLong(MAX_LINE_CHARS, line.substring(0, 200)));
                            return;
                        } else {
                            line.append(c);
                        }
                    }
                }
            }
            if (!line.toString().isBlank()) {
                synchronized (awaited) {
                    deliver(line.toString());
                }
            }
        } catch (IOException e) {
            // The process died or was killed: report the end of the stream.
        } finally {
            answers.offer(END_OF_STREAM);
        }
    }

    /** Hands a line to the waiting request; false (after queueing the report) when nobody asked for it. */
    private boolean deliver(String text) {
        if (awaited[0] <= 0) {
            answers.offer(new Unsolicited(text, lastAsked));
            return false;
        }
        awaited[0]--;
        answers.offer(text);
        return true;
    }

    /**
     * Keeps the last {@value #STDERR_TAIL_LINES} lines of stderr, each cut to its first {@value #STDERR_HEAD_CHARS} and
     * last {@value #STDERR_END_CHARS} characters, reading in chunks: a line of any length costs a bounded amount of memory.
     */
    private void pumpStderr(InputStream stderr) {
        try (Reader reader = new InputStreamReader(stderr, StandardCharsets.UTF_8)) {
            StringBuilder head = new StringBuilder();
            char[] end = new char[STDERR_END_CHARS];
            long length = 0;
            char[] buffer = new char[8192];
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                for (int i = 0; i < n; i++) {
                    char c = buffer[i];
                    if (c == '\n') {
                        keepStderrLine(head, end, length);
                        head.setLength(0);
                        length = 0;
                        continue;
                    }
                    if (length < STDERR_HEAD_CHARS) head.append(c);
                    else end[(int) ((length - STDERR_HEAD_CHARS) % STDERR_END_CHARS)] = c;
                    length++;
                }
            }
            if (length > 0) keepStderrLine(head, end, length);
        } catch (IOException e) {
            // The process is gone; the tail so far is what there is.
        }
    }

    private void keepStderrLine(StringBuilder head, char[] end, long length) {
        String line;
        long rest = length - STDERR_HEAD_CHARS;
        if (rest <= 0) {
            line = head.toString();
        } else if (rest <= STDERR_END_CHARS) {
            line = head + new String(end, 0, (int) rest);
        } else {
            StringBuilder b = new StringBuilder(head).append(" …[").append(rest - STDERR_END_CHARS).append(" characters]… ");
            int start = (int) (rest % STDERR_END_CHARS);
            b.append(end, start, STDERR_END_CHARS - start).append(end, 0, start);
            line = b.toString();
        }
        if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
        synchronized (stderrTail) {
            stderrTail.addLast(line);
            while (stderrTail.size() > STDERR_TAIL_LINES) stderrTail.removeFirst();
        }
    }

    /** The last lines the process wrote to stderr, oldest first. */
    String stderrTail() {
        synchronized (stderrTail) {
            return String.join("\n", stderrTail);
        }
    }

    private String stderrSuffix() {
        String tail = stderrTail();
        return tail.isBlank() ? "; stderr was empty" : "; stderr tail:\n" + tail;
    }

    private String describeCommand() {
        return "`" + String.join(" ", command) + "`";
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void joinQuietly(Thread thread) {
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String abbreviate(String text) {
        String oneLine = text.replace("\n", "\\n");
        return oneLine.length() <= 200 ? "'" + oneLine + "'" : "'" + oneLine.substring(0, 200) + "…' (" + oneLine.length() + " chars)";
    }

    private static String seconds(Duration d) {
        double s = d.toMillis() / 1000.0;
        return (s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s)) + " s";
    }

    private static void requireTimeout(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("bridge " + name + " must be positive, was " + d);
        if (d.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("bridge " + name + " must be at most " + MAX_TIMEOUT.toSeconds() + " s, was " + d);
        }
    }
}
