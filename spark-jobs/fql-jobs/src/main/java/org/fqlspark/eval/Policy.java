package org.fqlspark.eval;

import java.util.Locale;

/**
 * Which policy acts: FQL's one-step policy {@code clip(μ_ω(s, z))} (docs/algorithm.md §7), or the BC flow policy it was
 * distilled from ({@code flowSteps} Euler steps of v_θ from z, clipped) — the flow-BC baseline the one-step policy
 * should beat.
 */
public enum Policy {
    ONE_STEP("one-step"),
    FLOW_BC("flow-bc");

    private final String flag;

    Policy(String flag) {
        this.flag = flag;
    }

    public String flag() {
        return flag;
    }

    public static Policy parse(String s) {
        for (Policy p : values()) {
            if (p.flag.equals(s.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new EvalInputException("--policy must be 'one-step' or 'flow-bc', was '" + s + "'");
    }
}
