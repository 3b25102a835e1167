package dev.opnorm.experiments.report;

import java.nio.file.Path;

/**
 * Where {@link Figure#write} put a figure: its CSV and PNG, with the title and caption the HTML report shows.
 *
 * @param title   the figure's title
 * @param caption the figure's caption (may be empty)
 * @param csv     the data file
 * @param png     the image file
 */
public record FigureFiles(String title, String caption, Path csv, Path png) {
}
