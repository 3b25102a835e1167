package dev.opnorm.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/library.md shows the body of OperatorNormsExample; this keeps the two identical (up to indentation). */
class LibraryDocTest {
    // surefire runs with the module folder as working directory
    private static final Path DOC = Path.of("..", "docs", "library.md");
    private static final Path SOURCE = Path.of("src", "main", "java", "dev", "opnorm", "examples", "OperatorNormsExample.java");

    /** The first ```java block of the document, or fails. */
    static String firstJavaBlock(String markdown) {
        int start = markdown.indexOf("```java\n");
        assertTrue(start >= 0, "docs/library.md has no ```java block");
        int end = markdown.indexOf("\n```", start + 8);
        assertTrue(end > start, "unterminated ```java block in docs/library.md");
        return markdown.substring(start + 8, end);
    }

    /** Lines with leading and trailing blanks removed, joined by newlines (indentation differs between the two). */
    static String normalized(String text) {
        List<String> lines = text.lines().map(String::strip).collect(Collectors.toList());
        return String.join("\n", lines);
    }

    @Test
    void libraryDoc_javaSnippet_appearsVerbatimInOperatorNormsExample() throws IOException {
        String snippet = normalized(firstJavaBlock(Files.readString(DOC)));
        String source = normalized(Files.readString(SOURCE));
        assertTrue(snippet.lines().count() >= 8, "snippet too short:\n" + snippet);
        assertTrue(snippet.contains("OperatorNorms.of(model, x)"), snippet);
        assertTrue(source.contains(snippet), "docs/library.md's java snippet is not in " + SOURCE
                + " any more; copy the example's body into the document:\n" + snippet);
    }

    @Test
    void libraryDoc_mentionsDependencyVersionAndVectorFlag() throws IOException {
        String doc = Files.readString(DOC);
        assertTrue(doc.startsWith("## Use as a library"), "section heading");
        assertTrue(doc.contains("<groupId>dev.opnorm</groupId>") && doc.contains("<version>0.1.0-SNAPSHOT</version>"));
        assertTrue(doc.contains("--add-modules jdk.incubator.vector"));
        assertTrue(doc.contains("./mvnw install"));
    }
}
