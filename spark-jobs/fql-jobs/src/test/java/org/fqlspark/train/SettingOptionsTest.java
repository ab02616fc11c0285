package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.FqlPresets;
import org.fqlspark.agent.Setting;
import org.fqlspark.testing.SettingValues;
import org.fqlspark.cli.FqlCli;
import org.junit.jupiter.api.Test;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** fql train's hyper-parameter flags come from the settings table: one per tunable setting, parsed and checked as it says. */
class SettingOptionsTest {

    private static final List<String> BASE = List.of("--data", "/data/d", "--run-dir", "/runs/never-started");

    private static CommandLine train() {
        return FqlCli.commandLine().getSubcommands().get("train");
    }

    @Test
    void everyTunableSettingHasATrainFlagWithItsDocAndNoFixedOneHas() {
        CommandLine train = train();
        String help = train.setUsageHelpWidth(1000).getUsageMessage();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            OptionSpec o = train.getCommandSpec().findOption(SettingOptions.flagName(s.key()));
            if (s.tunable()) {
                assertNotNull(o, "no flag for " + s.key());
                assertTrue(help.contains(s.doc()), "help lacks the doc of " + s.key());
            } else {
                assertNull(o, s.key() + " is fixed by the preset but has a flag");
            }
        }
        assertNotNull(train.getCommandSpec().findOption("--hidden-dims"));
        // the flags the train command always had keep their names
        for (String flag : List.of("--alpha", "--discount", "--q-agg", "--normalize-q-loss", "--hidden-dims", "--value-hidden-dims",
                "--batch-size", "--flow-steps", "--lr", "--tau")) {
            assertNotNull(train.getCommandSpec().findOption(flag), flag);
        }
        // listed where the hyper-parameters always stood: after --preset, before --seed
        List<String> names = train.getCommandSpec().options().stream().map(OptionSpec::longestName).toList();
        assertEquals(names.indexOf("--preset") + 1, names.indexOf("--hidden-dims"), names.toString());
        assertEquals(names.indexOf("--hidden-dims") + SettingOptions.train().size(), names.indexOf("--seed"), names.toString());
    }

    @Test
    void eachFlagSetsItsSetting() throws Exception {
        FqlConfig base = FqlPresets.get("default").config();
        for (Setting<?> s : FqlConfig.SETTINGS) {
            if (!s.tunable()) continue;
            Object other = SettingValues.otherThanDefault(s);
            TrainOptions options = parsed(SettingOptions.flagName(s.key()) + "=" + spelled(other)).options(new Configuration());
            assertEquals(base.withPlain(s, other), options.resolvedConfig(), s.key());
        }
        assertEquals(base, parsed().options(new Configuration()).resolvedConfig(), "no flag: the preset's");
        FqlConfig c = parsed("--value-hidden-dims", "24", "--hidden-dims", "16,16", "--normalize-q-loss", "--q-agg", " MIN ")
                .options(new Configuration()).resolvedConfig();
        assertEquals(List.of(16, 16), c.actorHiddenDims());
        assertEquals(List.of(24), c.valueHiddenDims());
        assertTrue(c.normalizeQLoss());
        assertEquals(org.fqlspark.agent.QAgg.MIN, c.qAgg());
    }

    @Test
    void aBadValueExitsWithTwoNamingTheFlagOrKeyAndWhatWasExpected() {
        for (Setting<?> s : FqlConfig.SETTINGS) {
            if (!s.tunable()) continue;
            String flag = SettingOptions.flagName(s.key());
            for (String bad : switch (s.kind()) {
                case REAL -> List.of("-1", "x");
                case INTEGER -> List.of("0", "1.5");
                case WIDTHS -> List.of("0", "4,-1", "x");
                case CHOICE -> List.of("nope");
                case FLAG -> List.of("maybe");
            }) {
                List<String> args = new ArrayList<>(List.of("train"));
                args.addAll(BASE);
                args.addAll(List.of(flag, bad));
                CommandLine cl = FqlCli.commandLine();
                StringWriter err = new StringWriter();
                cl.setErr(new PrintWriter(err));
                assertEquals(2, cl.execute(args.toArray(String[]::new)), flag + " " + bad + ": " + err);
                String first = err.toString().lines().findFirst().orElse("");
                assertTrue(first.contains(flag) || first.contains("'" + s.key() + "'") || first.contains("'" + bad + "'"),
                        flag + " " + bad + ": " + first);
            }
        }
        assertEquals("error: --q-agg must be 'mean' or 'min', was 'max'", firstErrorLine("--q-agg", "max"));
        assertEquals("error: config 'alpha' = -1.0: expected a non-negative finite number", firstErrorLine("--alpha", "-1"));
        assertEquals("error: config 'batch_size' = 0: expected a positive integer", firstErrorLine("--batch-size", "0"));
        assertEquals("Invalid value for option '--alpha': 'abc' is not a double", firstErrorLine("--alpha", "abc"));
    }

    /** The train command with {@link #BASE} and {@code more} parsed, as fql would run it. */
    private static TrainCommand parsed(String... more) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(BASE);
        args.addAll(List.of(more));
        CommandLine cl = FqlCli.commandLine();
        cl.parseArgs(args.toArray(String[]::new));
        return cl.getSubcommands().get("train").getCommand();
    }

    private static String firstErrorLine(String... flag) {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(BASE);
        args.addAll(List.of(flag));
        CommandLine cl = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute(args.toArray(String[]::new)));
        return err.toString().lines().findFirst().orElse("");
    }

    /** How a plain value is written after {@code --flag=}. */
    static String spelled(Object plain) {
        if (plain instanceof List<?> l) {
            return String.join(",", l.stream().map(String::valueOf).toList());
        }
        return String.valueOf(plain);
    }
}
