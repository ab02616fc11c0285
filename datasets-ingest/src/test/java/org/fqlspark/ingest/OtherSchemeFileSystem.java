package org.fqlspark.ingest;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local disk under another scheme ({@code other:///...}), so the tests can go through the code paths a
 * non-local Hadoop file system takes (hdfs://, s3a://): staging a remote input, writing and renaming through
 * the FileSystem API, Spark writing Parquet to a non-file URI.
 */
public class OtherSchemeFileSystem extends RawLocalFileSystem {

    public static final String SCHEME = "other";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }
}
