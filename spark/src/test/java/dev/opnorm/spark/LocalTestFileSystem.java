package dev.opnorm.spark;

import org.apache.hadoop.fs.RawLocalFileSystem;

import java.net.URI;

/**
 * Local files under a scheme of their own (opnormtest:///path): a file system that {@link SharedStore} does not
 * treat as local, so tasks take the copy-in, push-back path they take on HDFS or S3.
 */
public class LocalTestFileSystem extends RawLocalFileSystem {
    @Override
    public String getScheme() {
        return "opnormtest";
    }

    @Override
    public URI getUri() {
        return URI.create("opnormtest:///");
    }
}
