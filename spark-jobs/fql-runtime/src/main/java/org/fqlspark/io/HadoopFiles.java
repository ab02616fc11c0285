package org.fqlspark.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * How this project replaces files and publishes directories on any Hadoop file system so that a reader sees the old
 * version or the new one, never a mix or nothing:
 * <ul>
 * <li>a file is replaced by one atomic step: on local disks and HDFS a rename that overwrites (POSIX {@code rename},
 * HDFS {@code rename(OVERWRITE)}); on object stores (s3a, gs, abfs...) rename is a copy plus a delete, so the file
 * is written in place instead: an object becomes visible whole when its upload completes;</li>
 * <li>a directory output is staged in a hidden sibling and published with its marker (a dataset's manifest, an
 * evaluation's summary) last: a new output on a file system with atomic rename is one directory rename; otherwise
 * each file is moved into place, the marker after all others, and the old version's remaining files are deleted
 * only after the new marker is in place.</li>
 * </ul>
 * Nothing here deletes a file it did not stage or that was not in the directory it is replacing.
 */
public final class HadoopFiles {

    /** Schemes of stores whose rename copies and whose files appear only when closed. */
    private static final Set<String> OBJECT_STORES = Set.of("s3a", "s3", "s3n", "gs", "oss", "cos", "cosn", "obs",
            "wasb", "wasbs", "abfs", "abfss");

    private HadoopFiles() {
    }

    /** True for object stores, where rename is not atomic and {@code hsync} does nothing. */
    public static boolean isObjectStore(FileSystem fs) {
        String scheme = fs.getUri().getScheme();
        return scheme != null && OBJECT_STORES.contains(scheme.toLowerCase(Locale.ROOT));
    }

    private static boolean isLocal(FileSystem fs) {
        return "file".equals(fs.getUri().getScheme());
    }

    /** A hidden sibling name for temporary work next to {@code target}. */
    public static Path hiddenSibling(Path target, String kind) {
        return new Path(target.getParent(), "." + target.getName() + "." + kind + "-" + UUID.randomUUID());
    }

    /**
     * The bytes of a small file a user hands us (a manifest, a spec, a model's metadata), bounded before anything is
     * allocated: a file over {@code limit} bytes is refused by its size, and one that grows past it while it is read is
     * refused too.
     *
     * @param what what the file is, for the message ("a dataset manifest")
     * @throws org.fqlspark.data.DatasetException naming the file, its size and the limit
     * @throws java.io.FileNotFoundException when it does not exist
     */
    public static byte[] readBounded(FileSystem fs, Path file, int limit, String what) throws IOException {
        long size = fs.getFileStatus(file).getLen();
        if (size > limit) throw tooLarge(file, size + " bytes", limit, what);
        try (java.io.InputStream in = fs.open(file)) {
            byte[] bytes = in.readNBytes(limit);
            if (bytes.length == limit && in.read() != -1) throw tooLarge(file, "more than " + limit + " bytes", limit, what);
            return bytes;
        }
    }

    private static org.fqlspark.data.DatasetException tooLarge(Path file, String size, int limit, String what) {
        return new org.fqlspark.data.DatasetException(file.toString(), null, "is " + size + "; expected at most " + limit
                + " bytes for " + what + " (refused before reading it)");
    }

    /** Writes {@code bytes} to {@code target}, replacing any old file in one atomic step. */
    public static void replaceAtomically(FileSystem fs, Path target, byte[] bytes) throws IOException {
        if (isObjectStore(fs)) {
            try (OutputStream out = fs.create(target, true)) {
                out.write(bytes);
            }
            return;
        }
        Path tmp = hiddenSibling(target, "tmp");
        try {
            try (var out = fs.create(tmp, false)) {
                out.write(bytes);
                out.hsync();
            }
            moveReplacing(fs, tmp, target);
        } finally {
            if (fs.exists(tmp)) fs.delete(tmp, false);
        }
    }

    /** Moves the file {@code from} to {@code to}, replacing an existing {@code to} atomically where the store allows. */
    public static void moveReplacing(FileSystem fs, Path from, Path to) throws IOException {
        if (!fs.exists(to)) {
            if (!fs.rename(from, to)) throw new IOException("could not rename " + from + " to " + to);
            return;
        }
        if (isLocal(fs)) {
            java.nio.file.Path src = java.nio.file.Paths.get(fs.makeQualified(from).toUri());
            java.nio.file.Path dst = java.nio.file.Paths.get(fs.makeQualified(to).toUri());
            java.nio.file.Path srcCrc = src.resolveSibling("." + src.getFileName() + ".crc");
            java.nio.file.Path dstCrc = dst.resolveSibling("." + dst.getFileName() + ".crc");
            try {
                Files.move(src, dst, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(src, dst, StandardCopyOption.REPLACE_EXISTING);
            }
            // the checksum file must follow its data, or a checksummed reader would reject the new file
            if (Files.exists(srcCrc)) {
                Files.move(srcCrc, dstCrc, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(dstCrc);
            }
            return;
        }
        if (isObjectStore(fs)) {
            // an upload that overwrites: the old object stays visible until the new one is complete
            if (!FileUtil.copy(fs, from, fs, to, true, true, fs.getConf())) {
                throw new IOException("could not copy " + from + " over " + to);
            }
            return;
        }
        // qualified: FileContext refuses a path without the file system's authority (hdfs:///a/b) as a wrong file system
        FileContext.getFileContext(fs.getUri(), fs.getConf()).rename(fs.makeQualified(from), fs.makeQualified(to), Options.Rename.OVERWRITE);
    }

    /**
     * Publishes the staged directory {@code staging} as {@code target} (see the class comment), with the file
     * {@code marker} (relative to the directory) last. {@code staging} is gone afterwards. Of the old version, only
     * files under the top-level names {@code ownEntry} accepts (what the command writes) are deleted.
     */
    public static void publishDirectory(FileSystem fs, Path staging, Path target, String marker,
            java.util.function.Predicate<String> ownEntry) throws IOException {
        if (!fs.exists(target) && !isObjectStore(fs)) {
            if (target.getParent() != null) fs.mkdirs(target.getParent());
            if (!fs.rename(staging, target)) throw new IOException("could not rename " + staging + " to " + target);
            return;
        }
        fs.mkdirs(target);
        Set<String> before = relativeFiles(fs, target);
        List<String> staged = new ArrayList<>(relativeFiles(fs, staging));
        if (!staged.remove(marker)) throw new IOException(staging + " holds no " + marker + " to publish last");
        staged.add(marker);
        for (String rel : staged) {
            Path to = new Path(target, rel);
            fs.mkdirs(to.getParent());
            moveReplacing(fs, new Path(staging, rel), to);
        }
        before.removeAll(staged);
        for (String rel : before) {
            int slash = rel.indexOf('/');
            if (ownEntry.test(slash < 0 ? rel : rel.substring(0, slash))) fs.delete(new Path(target, rel), false);
        }
        for (FileStatus s : fs.listStatus(target)) {
            if (s.isDirectory() && ownEntry.test(s.getPath().getName())) deleteEmptyDirectories(fs, s.getPath());
        }
        fs.delete(staging, true);
    }

    /**
     * Publishes a directory written entirely by Spark for this project (a one-file Parquet table such as
     * metrics.parquet): Spark's {@code _SUCCESS} is the marker (created if the job was told not to write it), and
     * every entry of the old version is ours to replace.
     */
    public static void publishSparkOutput(FileSystem fs, Path staging, Path target) throws IOException {
        Path success = new Path(staging, "_SUCCESS");
        if (!fs.exists(success)) fs.create(success, false).close();
        publishDirectory(fs, staging, target, "_SUCCESS", name -> true);
    }

    /** Every file under {@code dir}, as paths relative to it. */
    public static Set<String> relativeFiles(FileSystem fs, Path dir) throws IOException {
        Set<String> out = new LinkedHashSet<>();
        if (!fs.exists(dir)) return out;
        String prefix = fs.makeQualified(dir).toUri().getPath();
        if (!prefix.endsWith("/")) prefix = prefix + "/";
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
        while (it.hasNext()) {
            String p = it.next().getPath().toUri().getPath();
            if (p.startsWith(prefix)) out.add(p.substring(prefix.length()));
        }
        return out;
    }

    private static void deleteEmptyDirectories(FileSystem fs, Path dir) throws IOException {
        List<FileStatus> dirs = new ArrayList<>();
        dirs.add(fs.getFileStatus(dir));
        collectDirectories(fs, dir, dirs);
        dirs.sort(Comparator.comparingInt((FileStatus s) -> s.getPath().depth()).reversed());
        for (FileStatus d : dirs) {
            if (fs.listStatus(d.getPath()).length == 0) fs.delete(d.getPath(), false);
        }
    }

    private static void collectDirectories(FileSystem fs, Path dir, List<FileStatus> out) throws IOException {
        for (FileStatus s : fs.listStatus(dir)) {
            if (s.isDirectory()) {
                out.add(s);
                collectDirectories(fs, s.getPath(), out);
            }
        }
    }
}
