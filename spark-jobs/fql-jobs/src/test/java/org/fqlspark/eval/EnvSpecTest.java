package org.fqlspark.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class EnvSpecTest {

    @Test
    void builtInIdsAndBridgeCommands() {
        assertEquals(new EnvSpec.BuiltIn("pointmaze-medium"), EnvSpec.parse(" pointmaze-medium "));
        EnvSpec.Bridge bridge = assertInstanceOf(EnvSpec.Bridge.class,
                EnvSpec.parse("bridge:python3 envbridge/fql_env_server.py --env-id antmaze-large-navigate-singletask-v0"));
        assertEquals(List.of("python3", "envbridge/fql_env_server.py", "--env-id", "antmaze-large-navigate-singletask-v0"), bridge.command());
        EnvSpec.Bridge quoted = (EnvSpec.Bridge) EnvSpec.parse("bridge:python3 '/my dir/server.py' --env-kwargs \"{\\\"a\\\": 1}\" x\\ y");
        assertEquals(List.of("python3", "/my dir/server.py", "--env-kwargs", "{\"a\": 1}", "x y"), quoted.command());
    }

    @Test
    void badSpecsNameTheFlag() {
        assertTrue(assertThrows(EvalInputException.class, () -> EnvSpec.parse("bridge:  ")).getMessage().startsWith("--env"));
        assertTrue(assertThrows(EvalInputException.class, () -> EnvSpec.parse("bridge:python3 'oops")).getMessage().contains("quote"));
        assertTrue(assertThrows(EvalInputException.class, () -> EnvSpec.parse(" ")).getMessage().startsWith("--env"));
    }

    @Test
    void episodeSeedsAreFixedDistinctAndNonNegative() {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            long seed = EpisodeSeeds.environmentSeed(42, i);
            assertTrue(seed >= 0 && seed < (1L << 31), "31-bit seed " + seed);
            assertTrue(seen.add(seed), "collision at episode " + i);
            assertEquals(seed, EpisodeSeeds.environmentSeed(42, i));
        }
        assertNotEquals(EpisodeSeeds.environmentSeed(1, 0), EpisodeSeeds.environmentSeed(2, 0));
        assertEquals(EpisodeSeeds.actionNoise(42, 3).nextLong(), EpisodeSeeds.actionNoise(42, 3).nextLong());
        assertNotEquals(EpisodeSeeds.actionNoise(42, 3).nextLong(), EpisodeSeeds.actionNoise(42, 4).nextLong());
        assertThrows(IllegalArgumentException.class, () -> EpisodeSeeds.environmentSeed(1, -1));
    }

    @Test
    void optionsAreValidatedWithTheFlagName() {
        assertTrue(assertThrows(EvalInputException.class, () -> EvalOptions.of("c", "pointmaze-medium", 0, "o"))
                .getMessage().startsWith("--episodes"));
        assertTrue(assertThrows(EvalInputException.class, () -> EvalOptions.of(" ", "pointmaze-medium", 1, "o"))
                .getMessage().startsWith("--checkpoint"));
        assertTrue(assertThrows(EvalInputException.class, () -> EvalOptions.of("c", "pointmaze-medium", 1, "o").withPartitions(-1))
                .getMessage().startsWith("--partitions"));
        assertTrue(assertThrows(EvalInputException.class, () -> EvalOptions.of("c", "pointmaze-medium", 1, "o").withMaxEpisodeSteps(-5))
                .getMessage().startsWith("--max-episode-steps"));
        assertTrue(assertThrows(EvalInputException.class,
                () -> EvalOptions.of("c", "x", 1, "o").withBridgeTimeouts(java.time.Duration.ZERO, null)).getMessage().startsWith("--bridge"));
        EvalOptions defaults = EvalOptions.of("c", "pointmaze-medium", 5, "o");
        assertEquals(EvalOptions.DEFAULT_BRIDGE_REQUEST_TIMEOUT, defaults.bridgeRequestTimeout());
        assertEquals(0, defaults.partitions());
    }
}
