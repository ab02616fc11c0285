import java.lang.management.ManagementFactory;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * A/B of the CPU training step between builds, in one JVM: each variant ({@code name=dir:dir}) is a class loader over
 * one build's agent classes (the dependencies are shared on the class path), and the variants run blocks of steps in
 * a shuffled order, round after round, timed by this thread's CPU time. Two variants of the same build show the
 * method's own noise. Prints each variant's per-step median and its ratio to the first variant, paired by round (a
 * slow minute of a shared machine slows every variant of that round alike).
 *
 * <p>Usage: {@code java -cp deps:. Interleaved STEPS_PER_BLOCK ROUNDS WARMUP_ROUNDS name=dirs...}
 */
public class Interleaved {

    public static void main(String[] args) throws Exception {
        int block = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        int warm = Integer.parseInt(args[2]);
        List<String> names = new ArrayList<>();
        List<IntConsumer> steps = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            String[] nameDirs = args[i].split("=", 2);
            List<URL> urls = new ArrayList<>();
            for (String d : nameDirs[1].split(":")) {
                urls.add(Path.of(d).toUri().toURL());
            }
            ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), Interleaved.class.getClassLoader());
            names.add(nameDirs[0]);
            steps.add((IntConsumer) loader.loadClass("org.fqlspark.bench.ABStep").getConstructor().newInstance());
        }
        var threads = ManagementFactory.getThreadMXBean();
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        names.forEach(n -> ms.put(n, new ArrayList<>()));
        Random shuffle = new Random(7);
        for (int r = 0; r < warm + rounds; r++) {
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                order.add(i);
            }
            Collections.shuffle(order, shuffle);
            for (int i : order) {
                long c0 = threads.getCurrentThreadCpuTime();
                steps.get(i).accept(block);
                long c1 = threads.getCurrentThreadCpuTime();
                if (r >= warm) {
                    ms.get(names.get(i)).add((c1 - c0) / 1e6 / block);
                }
            }
        }
        List<Double> first = ms.get(names.get(0));
        for (int v = 0; v < names.size(); v++) {
            List<Double> own = ms.get(names.get(v));
            List<Double> sorted = new ArrayList<>(own);
            Collections.sort(sorted);
            List<Double> ratio = new ArrayList<>();
            for (int k = 0; k < own.size(); k++) {
                ratio.add(own.get(k) / first.get(k));
            }
            Collections.sort(ratio);
            int n = ratio.size();
            System.out.printf(Locale.ROOT, "%-10s CPU ms/step median %.3f (p10 %.3f, p90 %.3f)  to %s: median %.4f (quartiles %.4f–%.4f)  loss sum %s%n",
                    names.get(v), sorted.get(n / 2), sorted.get(n / 10), sorted.get(n * 9 / 10), names.get(0), ratio.get(n / 2),
                    ratio.get(n / 4), ratio.get(n * 3 / 4), steps.get(v));
        }
    }
}
