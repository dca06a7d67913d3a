// Running gnuplot as a subprocess to draw one PNG: the shared plumbing of the
// line plots (plot.hpp) and the heatmap grids (heatmap_grid.hpp).
//
// A private scratch directory holds the caller's data files, the script,
// gnuplot's stderr and the drawn PNG; the finished bytes are then written
// atomically to the destination, so a failed plot never leaves a partial file.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace fluxion {

/// A gnuplot single-quoted string literal: ' doubles to '', line breaks become spaces.
std::string gnuplot_quoted(const std::string& text);

/// Builds a script with `make_script(scratch, terminal, drawn)` — `scratch` is a
/// fresh private directory for data files, `terminal` is "pngcairo" when gnuplot
/// has it (else "png"), `drawn` is where the script must set its output — runs
/// gnuplot on it and writes the drawn PNG atomically to `png`. Throws InputError
/// if gnuplot is missing from PATH or fails (the message carries its stderr).
void render_with_gnuplot(
    const std::filesystem::path& png,
    const std::function<std::string(const std::filesystem::path& scratch, const std::string& terminal,
                                    const std::filesystem::path& drawn)>& make_script);

/// Whether an executable `gnuplot` lies in one of the folders of $PATH (what
/// render_with_gnuplot will run): callers with a picture to fall back on ask
/// first instead of failing.
bool gnuplot_on_path();

/// Writes `text` to `path` (a scratch file for gnuplot); InputError on failure.
void write_gnuplot_input(const std::filesystem::path& path, const std::string& text);

}  // namespace fluxion
