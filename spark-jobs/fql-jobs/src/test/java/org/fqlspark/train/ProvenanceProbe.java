package org.fqlspark.train;

/** Prints {@link Provenance#gitCommit()} in a JVM of its own (for {@link ProvenanceCommitTest}). */
public final class ProvenanceProbe {

    private ProvenanceProbe() {
    }

    public static void main(String[] args) {
        System.out.println("git_commit=" + Provenance.gitCommit());
    }
}
