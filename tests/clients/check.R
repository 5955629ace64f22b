# The canonical check from R: `Rscript check.R rsqlite|sf CATALOG EXTENSION QUERIES` prints the first
# value of each statement (or `error: ...`), a line each: through RSQLite (its own SQLite 3.40.0),
# or through sf, whose st_read runs SQL in GDAL's SQLite driver with OGR_SQLITE_LOAD_EXTENSIONS.
args <- commandArgs(trailingOnly = TRUE)
client <- args[1]; catalog <- args[2]; extension <- args[3]
if (client == "rsqlite") {
  con <- DBI::dbConnect(RSQLite::SQLite(), catalog, flags = RSQLite::SQLITE_RO, loadable.extensions = TRUE)
  invisible(DBI::dbGetQuery(con, sprintf("SELECT load_extension('%s')", extension)))
  first_value <- function(sql) DBI::dbGetQuery(con, sql)[[1]][1]
} else {
  Sys.setenv(OGR_SQLITE_LOAD_EXTENSIONS = extension)
  first_value <- function(sql) {
    # GDAL reports an SQL error as a warning and returns no layer, which sf then calls an error.
    messages <- character()
    frame <- withCallingHandlers(
      tryCatch(sf::st_read(catalog, query = sql, quiet = TRUE), error = function(e) NULL),
      warning = function(w) { messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning") })
    if (is.null(frame)) stop(paste(messages, collapse = "; "))
    frame[[1]][1]
  }
}
for (sql in readLines(args[4])) {
  if (!nzchar(trimws(sql))) next
  cat(tryCatch(format(first_value(sql), scientific = FALSE), error = function(e) paste("error:", gsub("\\s+", " ", conditionMessage(e)))), "\n", sep = "")
}
