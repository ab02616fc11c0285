package org.fqlspark.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The element-wise thread count follows the process's thread budget unless -Dfql.kernelThreads says otherwise. */
class KernelThreadsTest {

    @Test
    void twoThreadsOnlyWhenTheBudgetAndTheCoresAllowThem() {
        assertEquals(2, FusedCpuTensorOps.budget("2", 2));    // the launcher on a 2-core machine
        assertEquals(2, FusedCpuTensorOps.budget("4", 16));
        assertEquals(1, FusedCpuTensorOps.budget("1", 16));   // a Spark task given one thread
        assertEquals(1, FusedCpuTensorOps.budget("8", 1));    // one core
        assertEquals(2, FusedCpuTensorOps.budget(null, 2));   // no budget set: the cores decide
        assertEquals(1, FusedCpuTensorOps.budget(null, 1));
        assertEquals(1, FusedCpuTensorOps.budget("many", 8));  // unreadable: the safe choice
    }
}
